#pragma once
// Online rounds of a study (issue 21). Round 0 samples its pairs from the base model; "next
// round" trains an adapter (DPO, reference = the base) on every label stored so far and, when
// it is ready, round k+1 samples from the base plus that adapter. Every sample records the
// model and adapter that made it (samples.adapter_id).
//
// The training set of a round is fixed when its training starts (prepareRound writes it and
// notes the highest label id): a label stored while the job runs belongs to the next round.
// The training itself is any training run (`motionpref-cli train`, a background job in the
// GUI); finishRound records its adapter as the study's next round.

#include "app/study/study_types.h"

#include <QString>

#include <optional>
#include <vector>

namespace mp {

class StudyStore;

struct RoundStatus {
    int round = 0;                    // the round labeling is in now (0: base model)
    std::optional<RoundInfo> info;    // its row (none for round 0)
    std::optional<ModelInfo> adapter; // the adapter that samples it (none for round 0)
    int labelsThisRound = 0;          // current labels of normal pairs stored since it began
    int labelsTotal = 0;              // current labels of normal pairs
};
RoundStatus roundStatus(const StudyStore &store);

struct RoundTraining {
    int round = 0;           // the round it makes (current + 1)
    qint64 throughLabel = 0; // the highest label id at the start: later labels are not in it
    int labels = 0;          // pairs written (trainable: a label preferring a sample)
    qint64 startedAtMs = 0;
    QString pairsFile; // the trainer's JSONL (study_split.h)
    std::vector<qint64> pairIds;
};

// Writes DIR/pairs.jsonl with every trainable pair as labeled now (the study's training-label
// rule), in one read. InputError when no pair is trainable or DIR cannot be made.
RoundTraining prepareRound(StudyStore &store, const QString &dir);
// Registers the trained adapter directory (adapter_config.json + adapter_model.safetensors)
// and adds the round; InputError naming the directory when it is not an adapter, or when
// another round was added since prepareRound.
RoundInfo finishRound(StudyStore &store, const RoundTraining &training, const QString &runDir,
                      const QString &adapterDir);

} // namespace mp
