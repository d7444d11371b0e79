#pragma once
// Per-labeler measures a reviewer trusts (issue 22), on current labels:
// - accuracy on gold pairs (check_pairs.h): the expected sample chosen; "unsure" counts as
//   wrong, a skip is left out; overall and over successive blocks of N gold labels (in the
//   order given), so a labeler who tires shows a falling line;
// - self-consistency on repeat pairs: the same choice as on the pair repeated (sides were
//   swapped, so a side habit does not pass for consistency), the same degree too (signed scale
//   -3..+3 equal), and the mean absolute difference on that scale;
// - agreement with the others on the study's normal pairs (the scales of agreement.h): mean
//   Cohen's kappa with every other labeler they share pairs with, Krippendorff's ordinal alpha
//   of everybody without them (compare with the study's alpha: higher without them means they
//   pull agreement down), and per degree they gave, the share of the others' preferences on the
//   same pairs that pick the same sample;
// - median time per judgment, the share of labels given after both motions had played to the
//   end (over the labels that recorded it), side bias (left share, binomial p).

#include "app/study/study_types.h"

#include <QString>

#include <array>
#include <vector>

namespace mp {

class StudyStore;

struct GoldBlock {
    int judged = 0;
    int correct = 0;
    double accuracy = 0;
    qint64 firstMs = 0; // when the block's first and last gold labels were given
    qint64 lastMs = 0;
};

struct LabelerQuality {
    QString labeler;
    int labels = 0; // current labels on normal pairs, skips included
    int goldJudged = 0;
    int goldCorrect = 0;
    double goldAccuracy = 0; // NaN without a judged gold pair
    std::vector<GoldBlock> goldBlocks;
    int repeats = 0;              // repeat pairs judged with their original judged too
    int repeatsSameChoice = 0;    // the same sample (or unsure both times)
    int repeatsSameDegree = 0;    // the same signed preference
    double selfConsistency = 0;   // repeatsSameChoice / repeats; NaN without repeats
    double degreeConsistency = 0; // repeatsSameDegree / repeats
    double repeatMeanAbsDiff = 0; // mean |signed preference difference|, 0..6
    double meanKappa = 0;         // NaN without a labeler to compare with
    int kappaPartners = 0;
    double alphaWithout = 0; // the study's ordinal alpha without this labeler's labels
    // Index PreferenceDegree (Unsure 0 .. MuchBetter 3): the others' agreement with this
    // labeler's preferences of that degree; NaN where none.
    std::array<double, 4> agreementByDegree{};
    double medianTimeMs = 0; // over labels that recorded a time
    int watchedRecorded = 0; // labels that recorded whether both motions were watched
    int watchedBoth = 0;
    double watchedShare = 0; // NaN when none recorded
    double leftShare = 0;    // of preferences, the left sample's share; NaN without any
    double positionBiasP = 1;
};

struct QualityReport {
    int goldBlockSize = 10;
    double alphaOrdinal = 0;              // everybody's, as agreement.h
    std::vector<LabelerQuality> labelers; // by name
};

// Every labeler who labeled anything (check pairs included). goldBlockSize >= 1.
QualityReport computeLabelerQuality(const StudyStore &store, int goldBlockSize = 10);

// Reason tags of skips (a "both bad" included) per model: a skipped pair's tags count once for
// each model that made one of its samples (both samples of one model: once). A model is the
// bundle's name, "+ adapter" when an adapter made it, or the sample's origin ("imported") when
// the study does not know the model. Current labels of normal pairs only.
struct ModelReasonCounts {
    QString model;
    int skips = 0;                          // skipped labels on this model's pairs
    std::array<int, kNumReasonTags> tags{}; // indexed by ReasonTag
};
std::vector<ModelReasonCounts> reasonTagsByModel(const StudyStore &store); // by model name

} // namespace mp
