#pragma once
// An experiment sweep: sweep.json names a base run.json, the keys that vary (a grid and/or named
// variants), the training seeds, whether the untrained model is evaluated as the baseline, and
// one evaluation protocol shared by every run. `motionpref-cli experiment run sweep.json --out
// DIR` trains each configuration x seed as a `motionpref-cli train` child and evaluates its best
// checkpoint with that protocol (the same eval seed, so the replications are paired across
// runs). This file parses sweep.json and lays out DIR; experiment_report.h makes the tables.
//
// sweep.json:
//   {"base": { run.json },
//    "grid": {"dpo.loss": ["sigmoid", "ipo"], "beta": [0.1, 0.5]},
//    "variants": [{"name": "rpo", "set": {"dpo.rpo_alpha": 10}}],
//    "seeds": [1, 2],
//    "baseline": true,
//    "eval": {"dataset": "corpus", "split": "test", "replications": 20, "max_clips": 0,
//             "mm_texts": 0, "temperature": 1.0, "seed": 1234, "evaluator": "", "gen_batch": 64,
//             "cross_check": ""}}
// A key is a dotted run.json path ("dpo.loss") or a leaf name found once in run.json ("beta" ->
// dpo.beta). With both grid and variants, each variant is applied to each grid point. Every
// configuration is checked as run.json is; errors name the sweep file and the key.
//
// DIR/experiment.json   the sweep as given, and each run's state (pending, trained, evaluated,
//                       failed with its message)
// DIR/baseline/metrics.json
// DIR/runs/ID/run.json, DIR/runs/ID/train/ (the run directory), DIR/runs/ID/metrics.json

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ml/run/run_config.h"

namespace mp {

struct ExperimentEvalSettings {
    std::string dataset; // HumanML3D-layout directory (required)
    std::string split = "test";
    std::int64_t replications = 20;
    std::int64_t maxClips = 0; // 0: the whole split; else spread evenly, the same clips each time
    std::int64_t mmTexts = 0;  // MultiModality texts (0: skipped)
    double temperature = 1.0;
    std::int64_t seed = 1234; // the evaluation seed, shared by every run and the baseline
    std::string evaluator;    // empty: MODEL/evaluator, else the default bundle's
    std::string crossCheck;   // cross-evaluator directory or "default"; empty: no x_* metrics
    std::int64_t generationBatch = 64;
};

struct ExperimentRun {
    std::string id;            // directory name under DIR/runs
    std::string configuration; // "dpo.loss=ipo beta=0.5" or the variant's name
    std::int64_t seed = 0;     // the training seed (run.json "seed")
    std::string runJson;       // the child's run.json
    RunConfig config;          // runJson parsed
};

struct Sweep {
    std::string sourceJson; // the sweep as given, compact (DIR/experiment.json keeps it)
    std::vector<std::string> configurations; // in sweep order
    std::vector<ExperimentRun> runs;         // configurations x seeds
    bool baseline = true;
    std::string model; // the base's model ("" = the embedded default): the baseline's
    ExperimentEvalSettings eval;
};

// InputError "SOURCE: key 'grid.beta': ..." on a bad sweep.
Sweep parseSweep(std::string_view jsonText, const std::string &source = "sweep.json");
Sweep loadSweep(const std::filesystem::path &path);

enum class ExperimentRunState { Pending, Trained, Evaluated, Failed };
std::string_view experimentRunStateName(ExperimentRunState state);

struct ExperimentRunStatus {
    std::string id;
    ExperimentRunState state = ExperimentRunState::Pending;
    std::string message; // why it failed
};

struct ExperimentLayout {
    std::filesystem::path dir;
    std::filesystem::path stateFile() const { return dir / "experiment.json"; }
    std::filesystem::path baselineMetrics() const { return dir / "baseline" / "metrics.json"; }
    std::filesystem::path runDir(const ExperimentRun &run) const { return dir / "runs" / run.id; }
    std::filesystem::path trainDir(const ExperimentRun &run) const { return runDir(run) / "train"; }
    std::filesystem::path runMetrics(const ExperimentRun &run) const
    {
        return runDir(run) / "metrics.json";
    }
};

// DIR/experiment.json: the sweep and the states (write-then-rename).
void writeExperimentState(const ExperimentLayout &layout, const Sweep &sweep,
                          const std::vector<ExperimentRunStatus> &runs,
                          ExperimentRunState baselineState);
struct ExperimentState {
    Sweep sweep;
    std::vector<ExperimentRunStatus> runs; // in sweep.runs order
    ExperimentRunState baseline = ExperimentRunState::Pending;
};
// InputError naming the file when it is missing or not an experiment state.
ExperimentState readExperimentState(const ExperimentLayout &layout);

} // namespace mp
