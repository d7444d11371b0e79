#pragma once
// The tables of a `motionpref-cli study experiment` directory read back (issue 21), for the Train
// panel's view: OUT/results.csv as app/cli/cmd_study_experiment.cpp writes it, one row per arm,
// labeling budget and metric:
//   arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95,low,high
// The untrained model is the arm "untrained" at 0 labels; the difference columns are empty where
// there is none (the untrained row, the labeler's A/B rates, which are against it already).
// low,high are the ends of an interval that is not mean ± ci95 (the labeler's rates: Wilson),
// else empty; a file of before them (8 columns) is read too. The experiment rewrites the file
// after every budget step, so a running experiment's file holds the steps done so far.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ml/run/experiment_report.h"

namespace mp {

struct StudyExperimentPoint {
    std::int64_t labels = 0;
    IntervalEstimate value;
    std::optional<IntervalEstimate> difference; // against the untrained model, paired
    std::optional<ProportionInterval> bounds;   // the 95% interval's ends, where not mean ± ci95
};

struct StudyExperimentResults {
    std::vector<std::string> arms;    // in the file's order, without "untrained"
    std::vector<std::string> metrics; // in the file's order
    std::vector<std::int64_t> budgets;
    std::map<std::string, IntervalEstimate> untrained; // per metric, where the file has it
    // series[arm][metric]: the points by increasing budget.
    std::map<std::string, std::map<std::string, std::vector<StudyExperimentPoint>>> series;
    std::string description; // results.md's paragraph on the protocol ("" when absent)
};

// Whether DIR holds a study experiment's results.csv (its header line).
bool isStudyExperimentDirectory(const std::filesystem::path &dir);
// InputError naming DIR/results.csv and the line for a missing file or a bad row.
StudyExperimentResults readStudyExperimentResults(const std::filesystem::path &dir);

} // namespace mp
