#include "ml/run/study_experiment_results.h"

#include "ml/core/error.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace mp {
namespace {

const std::string kHeader = "arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95,low,high";
// The header before the low,high columns.
const std::string kHeader8 = "arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95";

std::vector<std::string> fieldsOf(const std::string &line)
{
    std::vector<std::string> fields;
    std::stringstream in(line);
    for (std::string field; std::getline(in, field, ',');)
        fields.push_back(field);
    if (!line.empty() && line.back() == ',')
        fields.emplace_back();
    return fields;
}

double numberOf(const std::string &text, const std::string &where)
{
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size())
            return value;
    } catch (const std::exception &) {
    }
    throw InputError(where + ": '" + text + "' is not a number");
}

} // namespace

bool isStudyExperimentDirectory(const fs::path &dir)
{
    std::ifstream in(dir / "results.csv");
    std::string first;
    return in && std::getline(in, first) && (first == kHeader || first == kHeader8);
}

StudyExperimentResults readStudyExperimentResults(const fs::path &dir)
{
    const fs::path path = dir / "results.csv";
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": missing; `motionpref-cli study experiment` writes "
                                         "it after the untrained model's evaluation");
    std::string line;
    if (!std::getline(in, line) || (line != kHeader && line != kHeader8))
        throw InputError(path.string() + ": not a study experiment's table (expected the header '" +
                         kHeader + "')");
    const std::size_t columns = line == kHeader ? 10 : 8;
    StudyExperimentResults results;
    for (int number = 2; std::getline(in, line); ++number) {
        if (line.empty())
            continue;
        const std::string where = path.string() + ": line " + std::to_string(number);
        const auto fields = fieldsOf(line);
        if (fields.size() != columns)
            throw InputError(where + ": " + std::to_string(fields.size()) + " fields, expected " +
                             std::to_string(columns));
        const std::string &arm = fields[0];
        const std::string &metric = fields[2];
        if (arm.empty() || metric.empty())
            throw InputError(where + ": the arm and the metric cannot be empty");
        StudyExperimentPoint point;
        point.labels = static_cast<std::int64_t>(numberOf(fields[1], where));
        point.value = {.mean = numberOf(fields[3], where),
                       .halfInterval = numberOf(fields[4], where),
                       .n = static_cast<std::int64_t>(numberOf(fields[5], where))};
        if (!fields[6].empty())
            point.difference = IntervalEstimate{.mean = numberOf(fields[6], where),
                                                .halfInterval = numberOf(fields[7], where),
                                                .n = point.value.n};
        if (columns == 10 && (!fields[8].empty() || !fields[9].empty()))
            point.bounds = ProportionInterval{.low = numberOf(fields[8], where),
                                              .high = numberOf(fields[9], where)};
        if (std::find(results.metrics.begin(), results.metrics.end(), metric) ==
            results.metrics.end())
            results.metrics.push_back(metric);
        if (arm == "untrained") {
            results.untrained[metric] = point.value;
            continue;
        }
        if (std::find(results.arms.begin(), results.arms.end(), arm) == results.arms.end())
            results.arms.push_back(arm);
        if (std::find(results.budgets.begin(), results.budgets.end(), point.labels) ==
            results.budgets.end())
            results.budgets.push_back(point.labels);
        results.series[arm][metric].push_back(point);
    }
    std::sort(results.budgets.begin(), results.budgets.end());
    for (auto &[arm, metrics] : results.series)
        for (auto &[metric, points] : metrics)
            std::sort(points.begin(), points.end(),
                      [](const auto &a, const auto &b) { return a.labels < b.labels; });
    // results.md's third line: the protocol in words.
    std::ifstream md(dir / "results.md");
    std::string title, blank;
    if (md && std::getline(md, title) && std::getline(md, blank))
        std::getline(md, results.description);
    return results;
}

} // namespace mp
