#include "ml/run/experiment_report.h"

#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/eval/metrics.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mp {
namespace {

// Reporting order; metrics a file has beyond these follow alphabetically (gt_* are left out of
// the tables: the real motions do not depend on the run).
const std::vector<std::string> kMetricOrder = {
    "R_precision_top_1",   "R_precision_top_2",   "R_precision_top_3",   "FID",
    "Matching_score",      "Diversity",           "MultiModality",       "Foot_skating_ratio",
    "x_R_precision_top_1", "x_R_precision_top_2", "x_R_precision_top_3", "x_FID",
    "x_Matching_score"};

std::string format(double value, int decimals = 3)
{
    if (!std::isfinite(value))
        return "nan";
    char text[64];
    std::snprintf(text, sizeof(text), "%.*f", decimals, value);
    return text;
}

std::string signedFormat(double value)
{
    return (value >= 0 ? "+" : "") + format(value);
}

std::string csvText(const std::string &text)
{
    std::string out = "\"";
    for (char c : text)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

ExperimentRow pooledRow(const std::string &configuration,
                        const std::vector<const std::map<std::string, std::vector<double>> *> &runs,
                        const std::map<std::string, std::vector<double>> *baseline,
                        const std::vector<std::string> &metrics)
{
    ExperimentRow row;
    row.configuration = configuration;
    row.evaluatedRuns = static_cast<int>(runs.size());
    for (const auto &metric : metrics) {
        std::vector<double> pooled;
        std::vector<std::vector<double>> perRun;
        for (const auto *values : runs) {
            const auto it = values->find(metric);
            if (it == values->end())
                continue;
            pooled.insert(pooled.end(), it->second.begin(), it->second.end());
            perRun.push_back(it->second);
        }
        if (pooled.empty())
            continue;
        ExperimentCell cell{.value = intervalOf(pooled), .difference = {}};
        if (baseline) {
            const auto base = baseline->find(metric);
            if (base != baseline->end())
                cell.difference = pairedDifference(perRun, base->second);
        }
        row.cells[metric] = cell;
    }
    return row;
}

} // namespace

IntervalEstimate intervalOf(const std::vector<double> &values)
{
    const MetricStats stats = metricStatistics(values);
    return {.mean = stats.mean,
            .halfInterval = stats.confInterval,
            .n = static_cast<std::int64_t>(values.size())};
}

ProportionInterval wilsonInterval(std::int64_t successes, std::int64_t n, double z)
{
    if (n <= 0)
        return {};
    const double size = static_cast<double>(n);
    const double p = static_cast<double>(successes) / size;
    const double z2 = z * z;
    const double centre = (p + z2 / (2.0 * size)) / (1.0 + z2 / size);
    const double half =
        z * std::sqrt(p * (1.0 - p) / size + z2 / (4.0 * size * size)) / (1.0 + z2 / size);
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

IntervalEstimate pairedDifference(const std::vector<std::vector<double>> &runValues,
                                  const std::vector<double> &baseline)
{
    std::vector<double> differences;
    for (const auto &run : runValues) {
        if (run.size() != baseline.size())
            throw InputError("paired difference: a run has " + std::to_string(run.size()) +
                             " replications, the baseline " + std::to_string(baseline.size()) +
                             " (evaluate both with the same protocol)");
        for (std::size_t r = 0; r < run.size(); ++r)
            differences.push_back(run[r] - baseline[r]);
    }
    return intervalOf(differences);
}

std::map<std::string, std::vector<double>> readMetricValues(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path.string() + ": cannot read the metrics");
    std::ostringstream text;
    text << in.rdbuf();
    nlohmann::json root;
    try {
        root = parseJsonLimited(path.string(), text.str());
    } catch (const nlohmann::json::exception &e) {
        throw InputError(path.string() + ": not valid JSON: " + e.what());
    }
    if (!root.is_object())
        throw InputError(path.string() + ": not a metrics.json (the top level is no object)");
    std::map<std::string, std::vector<double>> out;
    for (const auto &[name, entry] : root.items()) {
        if (name == "meta")
            continue;
        if (!entry.is_object() || !entry.contains("values") || !entry["values"].is_array())
            throw InputError(path.string() + ": metric '" + name + "' has no values list");
        std::vector<double> values;
        for (const auto &v : entry["values"]) {
            if (v.is_null())
                values.push_back(std::numeric_limits<double>::quiet_NaN());
            else if (v.is_number())
                values.push_back(v.get<double>());
            else
                throw InputError(path.string() + ": metric '" + name + "': a value is no number");
        }
        out[name] = std::move(values);
    }
    return out;
}

ExperimentResults collectExperimentResults(const std::filesystem::path &dir)
{
    ExperimentResults results;
    results.dir = dir;
    const ExperimentLayout layout{dir};
    results.state = readExperimentState(layout);
    const Sweep &sweep = results.state.sweep;

    std::optional<std::map<std::string, std::vector<double>>> baseline;
    if (sweep.baseline && std::filesystem::exists(layout.baselineMetrics()))
        baseline = readMetricValues(layout.baselineMetrics());
    std::vector<std::optional<std::map<std::string, std::vector<double>>>> runValues;
    for (const auto &run : sweep.runs) {
        const auto path = layout.runMetrics(run);
        runValues.push_back(std::filesystem::exists(path) ? std::optional(readMetricValues(path))
                                                          : std::nullopt);
    }

    // Columns: the known metrics any file has, in order, then the others (not gt_*).
    std::set<std::string> present;
    const auto note = [&](const std::map<std::string, std::vector<double>> &values) {
        for (const auto &[name, v] : values)
            if (name.rfind("gt_", 0) != 0)
                present.insert(name);
            else if (!v.empty() && !results.groundTruth.count(name))
                results.groundTruth[name] = intervalOf(v).mean;
    };
    if (baseline)
        note(*baseline);
    for (const auto &values : runValues)
        if (values)
            note(*values);
    for (const auto &name : kMetricOrder)
        if (present.erase(name))
            results.metrics.push_back(name);
    results.metrics.insert(results.metrics.end(), present.begin(), present.end());

    if (baseline) {
        results.baseline =
            pooledRow("baseline (untrained)", {&*baseline}, nullptr, results.metrics);
    }
    const auto *base = baseline ? &*baseline : nullptr;
    for (const auto &configuration : sweep.configurations) {
        std::vector<const std::map<std::string, std::vector<double>> *> runs;
        for (std::size_t i = 0; i < sweep.runs.size(); ++i) {
            if (sweep.runs[i].configuration != configuration || !runValues[i])
                continue;
            runs.push_back(&*runValues[i]);
            ExperimentRow row = pooledRow(configuration, {&*runValues[i]}, base, results.metrics);
            row.id = sweep.runs[i].id;
            row.seed = sweep.runs[i].seed;
            results.runs.push_back(std::move(row));
        }
        results.configurations.push_back(pooledRow(configuration, runs, base, results.metrics));
    }
    return results;
}

std::string experimentResultsCsv(const ExperimentResults &results)
{
    std::ostringstream out;
    out << "run,configuration,seed,metric,mean,half_interval,n,diff_mean,diff_half_interval,"
           "diff_n,diff_excludes_zero\n";
    const auto rows = [&](const ExperimentRow &row, const std::string &run) {
        for (const auto &metric : results.metrics) {
            const auto it = row.cells.find(metric);
            if (it == row.cells.end())
                continue;
            const auto &c = it->second;
            out << csvText(run) << "," << csvText(row.configuration) << ","
                << (row.seed >= 0 ? std::to_string(row.seed) : std::string()) << "," << metric
                << "," << format(c.value.mean, 6) << "," << format(c.value.halfInterval, 6) << ","
                << c.value.n;
            if (c.difference)
                out << "," << format(c.difference->mean, 6) << ","
                    << format(c.difference->halfInterval, 6) << "," << c.difference->n << ","
                    << (c.difference->excludesZero() ? "yes" : "no");
            else
                out << ",,,,";
            out << "\n";
        }
    };
    if (results.baseline)
        rows(*results.baseline, "baseline");
    for (const auto &row : results.runs)
        rows(row, row.id);
    for (const auto &row : results.configurations)
        rows(row, "pooled");
    return out.str();
}

std::string experimentResultsMarkdown(const ExperimentResults &results)
{
    const Sweep &sweep = results.state.sweep;
    const auto &e = sweep.eval;
    std::ostringstream out;
    out << "# Experiment results\n\n"
        << "Evaluation: " << e.replications << " replications (eval seed " << e.seed << ") on "
        << (e.maxClips > 0 ? std::to_string(e.maxClips) + " clips of " : std::string("all of "))
        << e.dataset << "/" << e.split << ".txt, temperature " << format(e.temperature, 2)
        << (e.mmTexts > 0 ? ", MultiModality on " + std::to_string(e.mmTexts) + " texts"
                          : std::string(", no MultiModality"))
        << ". Each cell is mean ± 95% interval (1.96·std/√n over the n replication values, the "
           "seeds of a configuration pooled).";
    if (e.replications < 10)
        out << " With " << e.replications
            << " replications per run these intervals are rough (a normal approximation "
               "from few values; R-precision moves in steps of 1/clips, so equal "
               "differences give a zero-width interval).";
    out << "\n\n";

    std::size_t evaluated = 0, failed = 0;
    for (const auto &r : results.state.runs) {
        evaluated += r.state == ExperimentRunState::Evaluated;
        failed += r.state == ExperimentRunState::Failed;
    }
    out << "Runs: " << evaluated << " of " << sweep.runs.size() << " evaluated";
    if (failed)
        out << ", " << failed << " failed";
    out << ".\n\n";

    const auto header = [&](const std::string &first) {
        out << "| " << first << " | runs |";
        for (const auto &m : results.metrics)
            out << " " << m << " |";
        out << "\n|---|---|";
        for (std::size_t i = 0; i < results.metrics.size(); ++i)
            out << "---|";
        out << "\n";
    };
    header("configuration");
    const auto valueRow = [&](const ExperimentRow &row) {
        out << "| " << row.configuration << " | " << row.evaluatedRuns << " |";
        for (const auto &m : results.metrics) {
            const auto it = row.cells.find(m);
            out << " "
                << (it == row.cells.end() ? std::string("–")
                                          : format(it->second.value.mean) + " ± " +
                                                format(it->second.value.halfInterval))
                << " |";
        }
        out << "\n";
    };
    if (results.baseline)
        valueRow(*results.baseline);
    for (const auto &row : results.configurations)
        valueRow(row);

    if (results.baseline) {
        out << "\nPaired difference against the baseline (configuration − baseline per "
               "replication, same eval seeds; mean ± 95% interval). * the interval excludes "
               "zero.\n\n";
        header("configuration");
        for (const auto &row : results.configurations) {
            out << "| " << row.configuration << " | " << row.evaluatedRuns << " |";
            for (const auto &m : results.metrics) {
                const auto it = row.cells.find(m);
                if (it == row.cells.end() || !it->second.difference) {
                    out << " – |";
                    continue;
                }
                const auto &d = *it->second.difference;
                out << " " << signedFormat(d.mean) << " ± " << format(d.halfInterval)
                    << (d.excludesZero() ? " *" : "") << " |";
            }
            out << "\n";
        }
    } else if (sweep.baseline) {
        out << "\nThe baseline is not evaluated yet: no paired differences.\n";
    }

    if (results.runs.size() > results.configurations.size()) {
        out << "\nPer run:\n\n";
        header("run");
        for (const auto &row : results.runs) {
            ExperimentRow named = row;
            named.configuration = row.id;
            valueRow(named);
        }
    }
    if (failed) {
        out << "\nFailed runs:\n\n";
        for (const auto &r : results.state.runs)
            if (r.state == ExperimentRunState::Failed)
                out << "- " << r.id << ": " << r.message << "\n";
    }
    if (!results.groundTruth.empty()) {
        out << "\nReal motions:";
        for (const auto &[name, mean] : results.groundTruth)
            out << " " << name << " " << format(mean);
        out << "\n";
    }
    return out.str();
}

ExperimentResults writeExperimentReport(const std::filesystem::path &dir)
{
    ExperimentResults results = collectExperimentResults(dir);
    writeFileAtomically(dir / "results.csv", experimentResultsCsv(results));
    writeFileAtomically(dir / "results.md", experimentResultsMarkdown(results));
    return results;
}

} // namespace mp
