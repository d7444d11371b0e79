#pragma once
// The loop every method's run shares: steps over the plan's batches, stop requests at step
// boundaries, the divergence guard on every step, averaged step events every log interval,
// evaluation with best/ tracking, checkpoints with pruning, progress. The method supplies what
// a step, an evaluation and its saves are. Internal to ml/run.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ml/run/step_plan.h"
#include "ml/run/train_run.h"
#include "ml/train/metrics.h"
#include "ml/train/preference_data.h"

namespace mp {

struct RunContext;

struct StepLoopHooks {
    std::string stage; // progress label: "dpo", "rm", "ppo"
    std::int64_t startStep = 0;
    // Called before each step's batches are drawn from context.data.train, which it may replace
    // (a semi-online run rebuilds its pairs at each epoch's start); the pair count must stay the
    // plan's.
    std::function<void(std::int64_t step)> beforeStep;
    // One optimizer step over the step's micro-batches; metrics include "loss".
    std::function<MetricMap(const std::vector<std::vector<PreferencePair>> &micro)> step;
    // Held-out metrics ("eval_" prefixed); empty when there is nothing to evaluate.
    std::function<MetricMap()> evaluate;
    std::function<void(const std::filesystem::path &)> saveCheckpoint; // trainer state
    std::function<void(const std::filesystem::path &)> saveModel;      // best/ and the final
    std::string finalDirectory = "adapter";
    // When set, best/ follows this metric (maximised) instead of the config's eval.best_metric:
    // the PPO phase of an rlhf run, whose config names the reward model's metric.
    std::string bestMetric;
    // The step's model is the policy (the bundle's T5 with the run's adapter): the HumanML3D
    // metrics of eval.motion_metrics apply (not to a reward model's phase).
    bool policyMotionMetrics = false;
    // Data-parallel ranks other than 0 draw dropout and noise from their own random stream
    // (seeded by the config's seed, the rank and the start step), not rank 0's: their shards
    // are other examples (DPO, the reward model). Off where every rank computes the same batch
    // (PPO's update), whose draws must then be equal.
    bool rankRandomStreams = false;
};

RunOutcome runStepLoop(RunContext &context, const StepPlan &plan, const StepLoopHooks &hooks);

} // namespace mp
