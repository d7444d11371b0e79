#include "ml/train/metrics.h"

namespace mp {

void mergeMetrics(MetricMap &into, const MetricMap &from, const std::string &prefix)
{
    for (const auto &[name, value] : from)
        into[prefix + name] = value;
}

void MetricAverager::add(const MetricMap &metrics)
{
    for (const auto &[name, value] : metrics) {
        auto &slot = m_sums[name];
        slot.first += value;
        slot.second += 1;
    }
}

MetricMap MetricAverager::mean() const
{
    MetricMap out;
    for (const auto &[name, slot] : m_sums)
        out[name] = slot.first / static_cast<double>(slot.second);
    return out;
}

void MetricAverager::clear()
{
    m_sums.clear();
}

} // namespace mp
