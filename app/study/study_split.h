#pragma once
// Train/test splits and training subsets of a study, as the training jobs read them.
//
// A split is an explicit list of pair ids saved in the study (spec §1.2: ship id lists, since a
// framework's shuffle is hard to reproduce). Only pairs whose current label prefers a sample
// take part: skipped and unsure pairs are dropped first, as the paper does. The shuffle is the
// trainer's (shufflePairIds, ml/train/preference_data.h): a Fisher-Yates over
// std::mt19937_64(seed), written out so the same seed gives the same split with every compiler
// and standard library.
//
// The training job reads a JSONL file, one pair per line (writeTrainingJsonl):
//   {"pair_id": 12,            the study's pair id
//    "id": "17",               the imported record id, "" if none
//    "prompt": "a man walks",  the raw caption (no template)
//    "chosen": [12, 40, 7],    VQ codes 0..511 of the preferred sample, no start/end tokens
//    "rejected": [3, 3, 9],    VQ codes of the other sample
//    "degree": "Better",       the paper's name: Much better | Better | Slightly better |
//                              Negligibly better/unsure (ml/train/preference_degree.h parses it)
//    "margin": 2,              3, 2, 1, 0 for the same four degrees
//    "labeler": "ana"}
// Id list files (writeIdList) hold one pair id per line; readIdList is the trainer's reader
// (ml/train/preference_data.h).

#include "app/study/label_aggregation.h"
#include "app/study/study_types.h"

#include <QString>
#include <QtGlobal>

#include <optional>
#include <vector>

namespace mp {

class StudyStore;
struct SavedSplit;

struct SplitOptions {
    QString name = QStringLiteral("default");
    double testFraction = 0.1;   // test size = ceil(fraction * pairs), as HF train_test_split
    quint64 seed = 2222;         // the paper's DPO seed; its RM/PPO split uses 42
    TrainingLabelOptions labels; // which pairs are trainable
};

// The study's own choice of training labels (study_meta "training_rule" and
// "training_excluded_labelers", set in the Dataset panel's labeler table): what `study split`
// uses unless --aggregate or --exclude-labelers say otherwise. Default: last, nobody left out.
TrainingLabelOptions studyTrainingLabels(const StudyStore &store);
void setStudyTrainingLabels(StudyStore &store, const TrainingLabelOptions &options);

// Pairs usable for training: the study's normal pairs whose label under options (by default
// the newest current label, the paper's rule) prefers sample_1 or sample_2; in id order.
// Gold and repeat pairs never take part.
std::vector<qint64> trainablePairs(const StudyStore &store,
                                   const TrainingLabelOptions &options = {});

// A new split of trainablePairs(); not saved.
SavedSplit makeSplit(const StudyStore &store, const SplitOptions &options);
// The saved split of that name if there is one (its lists are kept even if labels were added
// since), else a new one, saved. replace makes a new one in any case.
SavedSplit ensureSplit(StudyStore &store, const SplitOptions &options, bool replace = false);

struct SubsetOptions {
    std::vector<PreferenceDegree>
        degrees;          // keep pairs whose current label has one of these; empty: all
    double percent = 100; // then keep this share (rounded), chosen by seed
    quint64 seed = 2222;
    TrainingLabelOptions labels; // the pair's label (and whether it has one) under this rule
};
// Filters ids (keeping their order) by degree, then takes the percentage.
std::vector<qint64> selectSubset(const StudyStore &store, const std::vector<qint64> &ids,
                                 const SubsetOptions &options);

// Deterministic Fisher-Yates shuffle (see above): shufflePairIds on qint64 ids.
void seededShuffle(std::vector<qint64> &ids, quint64 seed);

// Each pair's label under options; "labeler" names every labeler whose vote made it
// (comma-separated) for the majority, mean and unanimous rules.
int writeTrainingJsonl(const StudyStore &store, const std::vector<qint64> &ids, const QString &file,
                       const TrainingLabelOptions &options = {});
void writeIdList(const std::vector<qint64> &ids, const QString &file);
std::vector<qint64> readIdList(const QString &file);

} // namespace mp
