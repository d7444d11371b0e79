#include "ml/run/run_monitor.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace mp {

namespace {

// Scales a median absolute deviation to a standard deviation for normal data.
constexpr double kMadToStd = 1.4826;

double median(std::vector<double> values)
{
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid),
                     values.end());
    const double upper = values[mid];
    if (values.size() % 2 == 1)
        return upper;
    const double lower =
        *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return 0.5 * (lower + upper);
}

std::string formatNumber(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}

} // namespace

SpikeDetector::SpikeDetector(SpikeOptions options) : m_options(options)
{
}

std::optional<Spike> SpikeDetector::observe(double value)
{
    if (!std::isfinite(value))
        return std::nullopt; // non-finite values are the divergence guard's business
    std::optional<Spike> spike;
    if (static_cast<std::int64_t>(m_values.size()) >= m_options.minHistory) {
        const std::vector<double> window(m_values.begin(), m_values.end());
        const double center = median(window);
        std::vector<double> deviations;
        deviations.reserve(window.size());
        for (double v : window)
            deviations.push_back(std::abs(v - center));
        const double robustStd = std::max(kMadToStd * median(deviations), m_options.minScale);
        const double score = std::abs(value - center) / robustStd;
        if (score > m_options.threshold)
            spike = Spike{value, center, robustStd, score};
    }
    m_values.push_back(value);
    while (static_cast<std::int64_t>(m_values.size()) > m_options.window)
        m_values.pop_front();
    return spike;
}

std::optional<std::string> divergenceReason(const MetricMap &metrics,
                                            const DivergenceOptions &options)
{
    for (const std::string &key : options.lossKeys) {
        const auto it = metrics.find(key);
        if (it != metrics.end() && !std::isfinite(it->second))
            return key + " is " + formatNumber(it->second);
    }
    for (const std::string &key : options.klKeys) {
        const auto it = metrics.find(key);
        if (it == metrics.end())
            continue;
        if (!std::isfinite(it->second))
            return key + " is " + formatNumber(it->second);
        if (it->second > options.maxKl)
            return key + " = " + formatNumber(it->second) + " exceeds the limit " +
                   formatNumber(options.maxKl);
    }
    return std::nullopt;
}

RunMonitor::RunMonitor(EventWriter &writer, RunMonitorOptions options)
    : m_writer(writer), m_options(std::move(options))
{
}

bool RunMonitor::logStep(std::int64_t step, double epoch, const MetricMap &metrics)
{
    m_writer.write(
        Event{.type = EventType::Step, .step = step, .epoch = epoch, .metrics = metrics});
    for (const std::string &key : m_options.spikeKeys) {
        const auto it = metrics.find(key);
        if (it == metrics.end())
            continue;
        auto detector = m_detectors.try_emplace(key, m_options.spike).first;
        if (const auto spike = detector->second.observe(it->second)) {
            ++m_spikes;
            m_writer.write(Event{.type = EventType::Spike,
                                 .step = step,
                                 .epoch = epoch,
                                 .metrics = {{"value", spike->value},
                                             {"median", spike->median},
                                             {"robust_std", spike->robustStd},
                                             {"score", spike->score}},
                                 .text = {{"metric", key}}});
        }
    }
    if (const auto reason = divergenceReason(metrics, m_options.divergence)) {
        fail(step, epoch, *reason);
        return false;
    }
    return true;
}

void RunMonitor::fail(std::int64_t step, double epoch, const std::string &reason)
{
    m_failed = true;
    m_writer.write(Event{
        .type = EventType::Failed, .step = step, .epoch = epoch, .text = {{"reason", reason}}});
}

} // namespace mp
