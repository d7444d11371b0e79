#include "ml/run/step_loop.h"

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/core/error.h"
#include "ml/run/events.h"
#include "ml/run/policy_motion_eval.h"
#include "ml/run/run_config.h"
#include "ml/run/run_context.h"
#include "ml/run/run_directory.h"
#include "ml/run/run_monitor.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

// Whether events.jsonl already holds the motion_metrics event of a step (a resumed run).
bool hasMotionMetrics(const fs::path &events, std::int64_t step)
{
    for (const Event &event : readEvents(events))
        if (event.type == EventType::MotionMetrics && event.step == step)
            return true;
    return false;
}

} // namespace

RunOutcome runStepLoop(RunContext &context, const StepPlan &plan, const StepLoopHooks &hooks)
{
    const RunConfig &config = context.config;
    const fs::path &runDir = context.options.runDir;
    BestTracker best = hooks.bestMetric.empty() ? BestTracker(runDir, config.eval.bestMetric,
                                                              config.eval.bestMode == BestMode::Max)
                                                : BestTracker(runDir, hooks.bestMetric, true);

    // Rank 0 alone writes the run directory; the others run the same loop and skip the writes.
    const bool writer = context.writer();
    const auto saveCheckpoint = [&](std::int64_t step) {
        const fs::path directory = checkpointDir(runDir, step);
        if (writer) {
            hooks.saveCheckpoint(directory);
            pruneCheckpoints(runDir, config.checkpoint.keepLast);
        }
        context.events.write({.type = EventType::Checkpoint,
                              .step = step,
                              .epoch = plan.epochAt(step),
                              .text = {{"path", directory.string()}}});
    };
    const auto saveBest = [&](const MetricMap &metrics, std::int64_t step) {
        if (!writer)
            return;
        hooks.saveModel(best.directory());
        best.record(metrics, step);
    };
    const auto evaluate = [&](std::int64_t step) {
        const MetricMap metrics = hooks.evaluate();
        if (metrics.empty())
            return;
        context.events.write({.type = EventType::Eval,
                              .step = step,
                              .epoch = plan.epochAt(step),
                              .metrics = metrics});
        if (best.improves(metrics))
            saveBest(metrics, step);
    };

    // HumanML3D metrics of the policy; a stop request during one stops the run (the step's
    // checkpoint is already written) and a resume evaluates that step first.
    const PolicyMotionEvaluator *motion = hooks.policyMotionMetrics ? context.motion : nullptr;
    const auto evaluateMotion = [&](std::int64_t step) {
        const double epoch = plan.epochAt(step);
        const std::string stage =
            "HumanML3D metrics, epoch " + std::to_string(plan.epochOf(step - 1) + 1) + ": ";
        const ProgressFn progress = [&](std::int64_t done, std::int64_t total,
                                        std::string_view what) {
            if (context.stopWithinStage())
                return false;
            return !writer || !context.options.progress ||
                   context.options.progress(done, total, stage + std::string(what));
        };
        try {
            const Event event = motion->evaluate(context.bundle, step, epoch, progress);
            context.events.write(event);
            if (best.improves(event.metrics))
                saveBest(event.metrics, step);
        } catch (const Cancelled &) {
            if (!context.stopWithinStage())
                throw;
            context.events.write(
                {.type = EventType::Warning,
                 .step = step,
                 .epoch = epoch,
                 .text = {{"message", "stopped by request during the HumanML3D metrics; "
                                      "--resume evaluates step " +
                                          std::to_string(step) + " first"}}});
            return false;
        }
        return true;
    };
    if (motion && hooks.startStep > 0 && motion->dueAfter(plan, hooks.startStep) &&
        !hasMotionMetrics(context.events.path(), hooks.startStep) &&
        !evaluateMotion(hooks.startStep))
        return RunOutcome::Stopped;

    if (hooks.rankRandomStreams && context.distributed && context.distributed->rank() > 0)
        torch::manual_seed(static_cast<std::uint64_t>(config.seed) +
                           0x9E3779B97F4A7C15ULL *
                               static_cast<std::uint64_t>(context.distributed->rank()) +
                           static_cast<std::uint64_t>(hooks.startStep));
    MetricAverager logWindow;
    std::int64_t lastCheckpoint = hooks.startStep;
    const auto seed = static_cast<std::uint64_t>(config.seed);
    for (std::int64_t step = hooks.startStep; step < plan.totalSteps; ++step) {
        if (context.stopRequested()) {
            if (step != lastCheckpoint)
                saveCheckpoint(step);
            context.events.write(
                {.type = EventType::Warning,
                 .step = step,
                 .epoch = plan.epochAt(step),
                 .text = {{"message", "stopped by request; --resume continues from step " +
                                          std::to_string(step)}}});
            return RunOutcome::Stopped;
        }
        if (hooks.beforeStep)
            hooks.beforeStep(step);
        const MetricMap metrics =
            hooks.step(stepMicroBatches(context.data.train, plan, step, seed));
        const std::int64_t done = step + 1;
        const double epoch = plan.epochAt(done);

        // Divergence is checked every step; the step event averages the logging window.
        if (divergenceReason(metrics)) {
            context.monitor.logStep(done, epoch, metrics);
            return RunOutcome::Failed;
        }
        logWindow.add(metrics);
        const bool logNow = done % std::max<std::int64_t>(1, config.eval.logEverySteps) == 0 ||
                            plan.endsEpoch(done) || done == plan.totalSteps;
        if (logNow) {
            if (!context.monitor.logStep(done, epoch, logWindow.mean()))
                return RunOutcome::Failed;
            logWindow.clear();
        }
        const bool evalNow = config.eval.evalEverySteps > 0 ? done % config.eval.evalEverySteps == 0
                                                            : plan.endsEpoch(done);
        if (evalNow)
            evaluate(done);
        const bool checkpointNow = config.checkpoint.everySteps > 0
                                       ? done % config.checkpoint.everySteps == 0
                                       : plan.endsEpoch(done);
        if (checkpointNow || done == plan.totalSteps) {
            saveCheckpoint(done);
            lastCheckpoint = done;
        }
        if (motion && motion->dueAfter(plan, done)) {
            if (done != lastCheckpoint) {
                saveCheckpoint(done); // so a stop during the evaluation resumes after this step
                lastCheckpoint = done;
            }
            if (!evaluateMotion(done))
                return RunOutcome::Stopped;
        }
        if (writer)
            reportProgress(context.options.progress, done, plan.totalSteps, hooks.stage);
    }
    if (writer)
        hooks.saveModel(runDir / hooks.finalDirectory);
    // The final model is on disk before any rank goes on (an rlhf run's PPO phase loads it).
    if (context.distributed)
        context.distributed->barrier("for rank 0 to write " + hooks.finalDirectory);
    return RunOutcome::Finished;
}

} // namespace mp
