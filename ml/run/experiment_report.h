#pragma once
// The tables of an experiment directory (ml/run/experiment.h), from what is on disk:
// DIR/experiment.json for the runs and their states, each run's and the baseline's metrics.json
// for the per-replication values (one value per evaluation replication, the same eval seed for
// every run, so replication r of a run and of the baseline saw the same captions and crops).
//
// Per configuration, the seeds are pooled: the values of all its runs' replications together,
// mean ± 1.96·std/√n with std over those n values (ddof 0, as the evaluation's own intervals).
// The paired difference against the baseline takes d = run_r - baseline_r for every run and
// replication r, and reports mean(d) ± 1.96·std(d)/√n: the evaluation noise common to both
// cancels, so it is narrower than the two intervals side by side suggest.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ml/run/experiment.h"

namespace mp {

struct IntervalEstimate {
    double mean = 0.0;
    double halfInterval = 0.0; // 1.96 · std / √n (ddof 0)
    std::int64_t n = 0;
    bool excludesZero() const
    {
        return n > 1 && (mean - halfInterval > 0 || mean + halfInterval < 0);
    }
};

IntervalEstimate intervalOf(const std::vector<double> &values);

// The Wilson score interval of a proportion, SUCCESSES of N at normal quantile Z (1.96: 95%);
// {0, 1} when N is 0. Every win/loss rate of the project has this interval (`compare ab`, the
// labeler's rates of `study experiment`).
struct ProportionInterval {
    double low = 0.0;
    double high = 1.0;
};
ProportionInterval wilsonInterval(std::int64_t successes, std::int64_t n, double z = 1.96);
// runValues[s][r] - baseline[r] for every run s and replication r, pooled. InputError when a
// run's replications differ in number from the baseline's.
IntervalEstimate pairedDifference(const std::vector<std::vector<double>> &runValues,
                                  const std::vector<double> &baseline);

struct ExperimentCell {
    IntervalEstimate value;
    std::optional<IntervalEstimate> difference; // against the baseline, when it was evaluated
};
struct ExperimentRow {
    std::string configuration;
    std::string id;         // run id; "" for a configuration's pooled row and the baseline
    std::int64_t seed = -1; // -1: pooled over seeds
    int evaluatedRuns = 0;  // runs whose metrics are in the row
    std::map<std::string, ExperimentCell> cells; // by metric
};
struct ExperimentResults {
    std::filesystem::path dir;
    ExperimentState state;
    std::vector<std::string> metrics; // columns, in the evaluation's order
    std::optional<ExperimentRow> baseline;
    std::vector<ExperimentRow> configurations; // seeds pooled, in sweep order
    std::vector<ExperimentRow> runs;           // one per evaluated run
    std::map<std::string, double> groundTruth; // gt_* means of the baseline's (or a run's) file
};

// Per-replication values of a metrics.json (evaluationToJson's layout) by metric; InputError
// naming the file when it cannot be read.
std::map<std::string, std::vector<double>> readMetricValues(const std::filesystem::path &path);

ExperimentResults collectExperimentResults(const std::filesystem::path &dir);
std::string experimentResultsCsv(const ExperimentResults &results);
std::string experimentResultsMarkdown(const ExperimentResults &results);
// Collects and writes DIR/results.csv and DIR/results.md (write-then-rename).
ExperimentResults writeExperimentReport(const std::filesystem::path &dir);

} // namespace mp
