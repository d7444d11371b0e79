#pragma once
// What every method's training loop gets from runTraining (ml/run/train_run.cpp): the config,
// the run directory's event stream and monitor, the loaded model bundle and the data. Internal
// to ml/run.

#include <cstdint>
#include <memory>

#include <c10/core/Device.h>

#include "ml/models/lora.h"
#include "ml/run/run_directory.h"
#include "ml/run/train_run.h"

namespace mp {

class Distributed;
class EventWriter;
class ModelBundle;
class PolicyMotionEvaluator;
class RunMonitor;
struct PreferenceBatch;

struct RunContext {
    const RunConfig &config;
    const TrainRunOptions &options;
    EventWriter &events;
    RunMonitor &monitor;
    ModelBundle &bundle;
    std::filesystem::path modelDir; // where bundle came from, for more copies of the model
    c10::Device device;
    RunData data;
    LoraConfig lora;
    // HumanML3D metrics during training (eval.motion_metrics); null when off.
    const PolicyMotionEvaluator *motion = nullptr;
    // The job's process group; world size 1 for a plain run (never null).
    Distributed *distributed = nullptr;

    // Whether this rank writes the run directory (rank 0, or a plain run).
    bool writer() const;
    // Whether a stop was requested, on any rank (a collective: every rank calls it at the same
    // points, the step boundaries).
    bool stopRequested() const;
    // Whether a long replicated stage (the HumanML3D metrics) may stop midway: a plain run whose
    // stop was requested. Data-parallel ranks finish it and stop at the next step boundary, all
    // together.
    bool stopWithinStage() const;
};

// The LoRA config of run.json's "lora" section.
LoraConfig loraConfigOf(const RunConfig &config);

// Full fine-tuning's trained model: a complete bundle directory (context.bundle with its trained
// T5, the base's evaluator/ and fine_tuning.json naming the base), replacing `directory` whole.
void saveFineTunedBundle(const RunContext &context, const std::filesystem::path &directory);

// Batches of `batchSize` pairs in the given order; prompts truncated to maxPromptLength and
// motion labels (SOM codes EOM </s>) to maxTargetLength; per-example label smoothing by degree
// when the config asks for it. Tensors are on the context's device.
std::vector<PreferenceBatch> makePreferenceBatches(const RunContext &context,
                                                   const std::vector<PreferencePair> &pairs,
                                                   std::int64_t batchSize);

RunOutcome runDpo(RunContext &context);
// The reward model on context.bundle's T5 (with its adapters), written to finalDirectory.
RunOutcome trainRewardModel(RunContext &context, const std::filesystem::path &finalDirectory);
RunOutcome runRewardModel(RunContext &context);
RunOutcome runPpo(RunContext &context);

} // namespace mp
