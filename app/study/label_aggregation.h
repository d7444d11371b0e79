#pragma once
// Several labels per pair -> one training label, by a rule the user picks (issue 22).
//
//   last      the newest current label of any labeler (the paper's chosen[-1]; the default)
//   majority  the choice (sample_1, sample_2, unsure) with strictly the most votes; a tie
//             drops the pair; degree: the rounded mean degree of the winning votes
//   mean      the mean of the signed preferences (-3..+3, study_types.h): its sign gives the
//             sample, its rounded magnitude the degree (0: "Negligibly better/unsure"); a mean
//             of exactly 0 is unsure
//   unanimous drop disagreements: every vote picks the same sample (an unsure vote disagrees);
//             degree: the rounded mean degree
// Skips are not votes. Labels of excluded labelers are left out before the rule.
// Rounding is half away from zero (std::lround).

#include "app/study/study_types.h"

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace mp {

enum class LabelAggregation { Last, Majority, MeanDegree, Unanimous };
QString labelAggregationName(LabelAggregation rule); // "last", "majority", "mean", "unanimous"
std::optional<LabelAggregation> labelAggregationFromName(const QString &name);
QStringList labelAggregationNames(); // in the enum's order, for the CLI help and the GUI

struct TrainingLabelOptions {
    LabelAggregation rule = LabelAggregation::Last;
    QStringList excludedLabelers; // their labels never reach the training data
};

// One pair's label under the rule: choice (Sample1/Sample2/Unsure), degree, the labelers whose
// votes made it (comma-separated in labeler) and the newest vote's id. nullopt when no vote
// is left or the rule drops the pair. labels: the pair's current labels, any order.
std::optional<LabelRecord> aggregateLabels(const std::vector<LabelRecord> &labels,
                                           const TrainingLabelOptions &options);

} // namespace mp
