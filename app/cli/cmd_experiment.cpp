// motionpref-cli experiment run|report: a sweep of training runs, each trained by a
// `motionpref-cli train` child process and its best checkpoint evaluated with one shared protocol,
// then tables with 95% intervals and paired differences against the untrained baseline. The
// sweep format and the directory layout are ml/run/experiment.h; the tables experiment_report.h.

#include "app/cli/child_process.h"
#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/eval/bundle_eval.h"
#include "ml/run/events.h"
#include "ml/run/experiment.h"
#include "ml/run/experiment_report.h"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sys/wait.h>
#include <utility>

namespace mp::cli {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> stopRequested{false};

extern "C" void requestExperimentStop(int)
{
    stopRequested.store(true); // lock-free atomic store: async-signal-safe
}

// How a run directory's events end: done, failed (with the reason) or neither.
struct TrainEnding {
    bool done = false;
    bool failed = false;
    std::string reason;
};

TrainEnding readTrainEnding(const fs::path &trainDir)
{
    TrainEnding ending;
    const fs::path events = trainDir / "events.jsonl";
    if (!fs::exists(events))
        return ending;
    for (const Event &event : readEvents(events)) {
        if (event.type == EventType::Done)
            ending.done = true;
        if (event.type == EventType::Failed) {
            ending.failed = true;
            const auto it = event.text.find("reason");
            ending.reason = it == event.text.end() ? "failed" : it->second;
        }
    }
    return ending;
}

bool hasCheckpoint(const fs::path &trainDir)
{
    std::error_code ec;
    const fs::path dir = trainDir / "checkpoints";
    return fs::is_directory(dir, ec) && !fs::is_empty(dir, ec);
}

class ExperimentRunner {
public:
    ExperimentRunner(Sweep sweep, fs::path dir, const Context &context)
        : m_sweep(std::move(sweep)), m_layout{std::move(dir)}, m_context(context)
    {
    }

    // Returns the exit status.
    int run()
    {
        prepare();
        if (m_sweep.baseline && m_baseline != ExperimentRunState::Evaluated) {
            say("baseline (untrained): evaluating");
            if (!evaluate(sweepModel(), {}, m_layout.baselineMetrics()))
                return stopped();
            m_baseline = ExperimentRunState::Evaluated;
            save();
        }
        for (std::size_t i = 0; i < m_sweep.runs.size(); ++i) {
            if (!runOne(i))
                return stopped();
        }
        const auto results = writeExperimentReport(m_layout.dir);
        std::size_t failed = 0;
        for (const auto &s : m_status)
            failed += s.state == ExperimentRunState::Failed;
        std::cout << (m_layout.dir / "results.md").string() << "\n";
        if (failed)
            std::cerr << failed << " of " << m_status.size()
                      << " runs failed; see results.md and each run's train.log\n";
        return failed ? 1 : 0;
    }

private:
    void say(const std::string &line) const
    {
        if (!m_context.quiet)
            std::cerr << "experiment: " << line << "\n";
    }

    int stopped()
    {
        save();
        std::cerr << "stopped; continue with the same command (finished runs are kept)\n";
        return 0;
    }

    void save() const { writeExperimentState(m_layout, m_sweep, m_status, m_baseline); }

    // Creates DIR or checks that it holds this sweep; states from what is on disk.
    void prepare()
    {
        std::error_code ec;
        fs::create_directories(m_layout.dir / "runs", ec);
        if (ec)
            throw InputError(m_layout.dir.string() + ": cannot create: " + ec.message());
        if (fs::exists(m_layout.stateFile())) {
            const ExperimentState old = readExperimentState(m_layout);
            if (old.sweep.sourceJson != m_sweep.sourceJson)
                throw InputError(m_layout.stateFile().string() +
                                 ": holds another sweep; give a new --out directory (or the "
                                 "sweep file this directory was made with)");
            for (std::size_t i = 0; i < old.runs.size(); ++i)
                if (old.runs[i].state == ExperimentRunState::Failed)
                    m_failedBefore[old.runs[i].id] = old.runs[i].message;
        }
        m_baseline = fs::exists(m_layout.baselineMetrics()) ? ExperimentRunState::Evaluated
                                                            : ExperimentRunState::Pending;
        for (const auto &run : m_sweep.runs) {
            ExperimentRunStatus status{.id = run.id, .state = {}, .message = {}};
            const TrainEnding ending = readTrainEnding(m_layout.trainDir(run));
            if (fs::exists(m_layout.runMetrics(run)))
                status.state = ExperimentRunState::Evaluated;
            else if (ending.done)
                status.state = ExperimentRunState::Trained;
            else if (ending.failed) {
                status.state = ExperimentRunState::Failed;
                status.message = ending.reason;
            } else if (const auto it = m_failedBefore.find(run.id);
                       it != m_failedBefore.end() && fs::exists(m_layout.runDir(run))) {
                // A run failed before stays failed until its directory is deleted.
                status.state = ExperimentRunState::Failed;
                status.message = it->second;
            }
            m_status.push_back(std::move(status));
        }
        save();
    }

    void markFailed(std::size_t i, const std::string &message)
    {
        m_status[i].state = ExperimentRunState::Failed;
        m_status[i].message = message;
        save();
        std::cerr << "experiment: " << m_sweep.runs[i].id << " failed: " << message << "\n";
    }

    // False when stopped by request.
    bool runOne(std::size_t i)
    {
        const ExperimentRun &run = m_sweep.runs[i];
        const std::string label = "[" + std::to_string(i + 1) + "/" +
                                  std::to_string(m_sweep.runs.size()) + "] " + run.configuration +
                                  " seed " + std::to_string(run.seed);
        auto &status = m_status[i];
        if (status.state == ExperimentRunState::Evaluated) {
            say(label + ": done before, kept");
            return true;
        }
        if (status.state == ExperimentRunState::Failed) {
            say(label + ": failed before (" + status.message + "); delete " +
                m_layout.runDir(run).string() + " to retry");
            return true;
        }
        const fs::path trainDir = m_layout.trainDir(run);
        if (status.state == ExperimentRunState::Pending) {
            std::error_code ec;
            fs::create_directories(m_layout.runDir(run), ec);
            const fs::path runJson = m_layout.runDir(run) / "run.json";
            {
                std::ofstream out(runJson, std::ios::trunc);
                out << run.runJson << "\n";
                if (!out.flush())
                    throw InputError(runJson.string() + ": cannot write");
            }
            std::vector<std::string> args = {"motionpref-cli",        "--quiet", "--device",
                                             m_context.deviceRequest, "train",   "--out",
                                             trainDir.string()};
            // An interrupted run continues from its newest checkpoint; one that left none
            // starts again from nothing.
            if (fs::exists(trainDir / "config.json") && hasCheckpoint(trainDir)) {
                say(label + ": resuming training");
                args.push_back("--resume");
            } else {
                fs::remove_all(trainDir, ec);
                say(label + ": training");
                args.insert(args.end(), {"--config", runJson.string()});
            }
            const int child =
                runSelf(args, m_layout.runDir(run) / "train.log", "experiment", &stopRequested);
            const TrainEnding ending = readTrainEnding(trainDir);
            if (ending.done) {
                status.state = ExperimentRunState::Trained;
                save();
            } else if (stopRequested.load()) {
                return false;
            } else if (ending.failed) {
                markFailed(i, ending.reason);
                return true;
            } else {
                std::string why = WIFSIGNALED(child)
                                      ? "killed by signal " + std::to_string(WTERMSIG(child))
                                      : "exited with code " + std::to_string(WEXITSTATUS(child));
                const fs::path log = m_layout.runDir(run) / "train.log";
                const std::string said = lastLogLine(log);
                markFailed(i, "the training process " + why + (said.empty() ? "" : ": " + said) +
                                  " (see " + log.string() + ")");
                return true;
            }
        }
        // The best checkpoint (best/), else the final model: a LoRA adapter on the sweep's
        // model, or (full fine-tuning) a whole bundle.
        const auto trained = trainedModel(trainDir);
        if (!trained) {
            markFailed(i, trainDir.string() + " holds no trained model (best/ or adapter/ with "
                                              "adapter_model.safetensors, or best/ or model/ with "
                                              "model.safetensors)");
            return true;
        }
        const auto &[bundle, adapter] = *trained;
        say(label + ": evaluating " + (adapter.empty() ? bundle : adapter).string());
        try {
            if (!evaluate(bundle, adapter, m_layout.runMetrics(run)))
                return false;
        } catch (const InputError &error) {
            markFailed(i, std::string("evaluation: ") + error.what());
            return true;
        }
        status.state = ExperimentRunState::Evaluated;
        save();
        return true;
    }

    fs::path sweepModel() const
    {
        return m_sweep.model.empty() ? requireDefaultModelDir() : fs::path(m_sweep.model);
    }

    // {bundle, adapter} of a run's best model, else its final one; an empty adapter for a full
    // fine-tuning's bundle.
    std::optional<std::pair<fs::path, fs::path>> trainedModel(const fs::path &trainDir) const
    {
        for (const char *name : {"best", "adapter", "model"}) {
            const fs::path dir = trainDir / name;
            if (fs::exists(dir / "adapter_model.safetensors"))
                return std::pair{sweepModel(), dir};
            if (fs::exists(dir / "model.safetensors") && fs::exists(dir / "config.json"))
                return std::pair{dir, fs::path()};
        }
        return std::nullopt;
    }

    // The shared protocol; false when stopped by request (nothing written). Every model is
    // measured with the evaluator the sweep's model resolves to, a fine-tuned bundle included.
    bool evaluate(const fs::path &bundle, const fs::path &adapter, const fs::path &out)
    {
        const auto &e = m_sweep.eval;
        BundleEvaluationJob job;
        job.modelDir = sweepModel();
        job.evaluatorDir = e.evaluator;
        job.crossCheckDir = e.crossCheck;
        job.evaluatorDir = resolveEvaluatorDir(job);
        job.modelDir = bundle;
        job.adapterDir = adapter;
        job.datasetRoot = e.dataset;
        job.split = e.split;
        job.maxSamples = e.maxClips;
        job.options.replications = static_cast<int>(e.replications);
        job.options.temperature = e.temperature;
        job.options.seed = static_cast<std::uint64_t>(e.seed);
        job.options.mmNumTexts = e.mmTexts;
        job.generationBatchRows = static_cast<int>(e.generationBatch);
        job.device = m_context.device;
        std::error_code ec;
        fs::create_directories(out.parent_path(), ec);
        job.outJson = out;
        const ProgressFn bar = makeProgressBar(m_context, "eval");
        const ProgressFn progress = [&](std::int64_t done, std::int64_t total,
                                        std::string_view stage) {
            if (stopRequested.load())
                return false;
            return !bar || bar(done, total, stage);
        };
        try {
            evaluateBundleJob(job, progress);
        } catch (const Cancelled &) {
            return false;
        }
        return true;
    }

    Sweep m_sweep;
    ExperimentLayout m_layout;
    const Context &m_context;
    std::vector<ExperimentRunStatus> m_status;
    ExperimentRunState m_baseline = ExperimentRunState::Pending;
    std::map<std::string, std::string> m_failedBefore;
};

int runExperiment(const ParsedArgs &args, const Context &context)
{
    const std::string sweepFile = args.positional(0, "the sweep file (sweep.json)");
    Sweep sweep = loadSweep(sweepFile);
    std::signal(SIGTERM, requestExperimentStop);
    std::signal(SIGINT, requestExperimentStop);
    return ExperimentRunner(std::move(sweep), args.required("out"), context).run();
}

int runExperimentReport(const ParsedArgs &args, const Context &)
{
    const fs::path dir = args.positional(0, "the experiment directory");
    writeExperimentReport(dir);
    std::cout << (dir / "results.md").string() << "\n";
    return 0;
}

const CommandRegistration experimentRunCommand{{
    .path = "experiment run",
    .summary = "train and evaluate a sweep of run configurations; tables with 95% intervals",
    .usage = "SWEEP_JSON",
    .description =
        "SWEEP_JSON holds a base run.json (\"base\"), the keys that vary (\"grid\": key ->\n"
        "values, and/or \"variants\": [{\"name\", \"set\": {key: value}}]), the training\n"
        "\"seeds\", \"baseline\" (evaluate the untrained model too; default true) and one\n"
        "\"eval\" protocol for all (dataset, split, replications, max_clips, mm_texts,\n"
        "temperature, seed, evaluator, gen_batch). A key is a dotted run.json path or a leaf\n"
        "name found once in run.json (\"beta\" = dpo.beta). Each configuration x seed is\n"
        "trained by a `motionpref-cli train` child (log: DIR/runs/ID/train.log), its best\n"
        "checkpoint evaluated with the same eval seed as every other run, so replication r of\n"
        "each run is paired with the baseline's. Writes DIR/experiment.json (the sweep and\n"
        "each run's state), DIR/results.csv and DIR/results.md. Running it again continues:\n"
        "finished runs and evaluations are kept, an interrupted run resumes from its\n"
        "checkpoint. SIGTERM stops after the current step. Exit 1 when a run failed.",
    .options = {{"out", "DIR", "experiment directory", ""}},
    .run = runExperiment,
}};

const CommandRegistration experimentReportCommand{{
    .path = "experiment report",
    .summary = "rewrite an experiment's results.csv and results.md from what is on disk",
    .usage = "DIR",
    .description = "Reads DIR/experiment.json and the metrics.json files of the baseline and the\n"
                   "runs evaluated so far, and writes DIR/results.csv and DIR/results.md.",
    .options = {},
    .usesTorch = false,
    .run = runExperimentReport,
}};

} // namespace
} // namespace mp::cli
