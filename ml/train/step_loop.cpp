#include "ml/train/step_loop.h"

#include "ml/train/events.h"
#include "ml/train/run_config.h"
#include "ml/train/run_context.h"
#include "ml/train/run_directory.h"
#include "ml/train/run_monitor.h"

namespace fs = std::filesystem;

namespace mp {

RunOutcome runStepLoop(RunContext &context, const StepPlan &plan, const StepLoopHooks &hooks)
{
    const RunConfig &config = context.config;
    const fs::path &runDir = context.options.runDir;
    BestTracker best = hooks.bestMetric.empty() ? BestTracker(runDir, config.eval.bestMetric,
                                                              config.eval.bestMode == BestMode::Max)
                                                : BestTracker(runDir, hooks.bestMetric, true);

    const auto saveCheckpoint = [&](std::int64_t step) {
        const fs::path directory = checkpointDir(runDir, step);
        hooks.saveCheckpoint(directory);
        pruneCheckpoints(runDir, config.checkpoint.keepLast);
        context.events.write({.type = EventType::Checkpoint,
                              .step = step,
                              .epoch = plan.epochAt(step),
                              .text = {{"path", directory.string()}}});
    };
    const auto evaluate = [&](std::int64_t step) {
        const MetricMap metrics = hooks.evaluate();
        if (metrics.empty())
            return;
        context.events.write({.type = EventType::Eval,
                              .step = step,
                              .epoch = plan.epochAt(step),
                              .metrics = metrics});
        if (best.improves(metrics)) {
            hooks.saveModel(best.directory());
            best.record(metrics, step);
        }
    };

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
        reportProgress(context.options.progress, done, plan.totalSteps, hooks.stage);
    }
    hooks.saveModel(runDir / hooks.finalDirectory);
    return RunOutcome::Finished;
}

} // namespace mp
