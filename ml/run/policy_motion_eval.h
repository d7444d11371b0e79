#pragma once
// eval.motion_metrics: the HumanML3D metrics (ml/eval/bundle_eval.h, the protocol of
// `motionpref-cli eval`) of the policy being trained, at the end of every motion_every_epochs-th
// epoch and of the run, written as motion_metrics events. The evaluator and the capped split are
// loaded once when the run starts, so a bad dataset fails before anything is trained.

#include <cstdint>
#include <filesystem>
#include <memory>

#include <c10/core/Device.h>

#include "ml/core/progress.h"
#include "ml/run/events.h"

namespace mp {

class BundleEvaluator;
class ModelBundle;
struct EvaluationResult;
struct RunConfig;
struct StepPlan;

class PolicyMotionEvaluator {
public:
    // InputError naming the eval.motion_* key when the dataset, split or evaluator is unusable.
    PolicyMotionEvaluator(const RunConfig &config, const std::filesystem::path &modelDir,
                          c10::Device device);
    ~PolicyMotionEvaluator();
    PolicyMotionEvaluator(const PolicyMotionEvaluator &) = delete;
    PolicyMotionEvaluator &operator=(const PolicyMotionEvaluator &) = delete;

    std::int64_t numSamples() const;
    // True after the step that ends a motion_every_epochs-th epoch, or the run.
    bool dueAfter(const StepPlan &plan, std::int64_t stepsDone) const;
    // Evaluates the bundle's T5 (with its adapter) in eval mode without gradients, then restores
    // its mode and the global CPU random state, so the training that follows is the one without
    // the evaluation. Throws Cancelled when progress returns false.
    Event evaluate(ModelBundle &bundle, std::int64_t step, double epoch,
                   const ProgressFn &progress) const;

private:
    std::unique_ptr<BundleEvaluator> m_evaluator;
    std::int64_t m_everyEpochs = 1;
};

// The motion_metrics event of one evaluation: "motion/NAME" the mean, "motion/NAME/ci" the 95%
// half-width and the list "motion/NAME/values" (one per replication) for every metric, with
// "motion/samples", "motion/replications" and "motion/seconds".
Event motionMetricsEvent(const EvaluationResult &result, std::int64_t step, double epoch);

} // namespace mp
