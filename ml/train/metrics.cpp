#include "ml/train/metrics.h"

#include "ml/core/distributed.h"

namespace mp {

void mergeMetrics(MetricMap &into, const MetricMap &from, const std::string &prefix)
{
    for (const auto &[name, value] : from)
        into[prefix + name] = value;
}

void MetricAverager::add(const MetricMap &metrics, double weight)
{
    for (const auto &[name, value] : metrics) {
        auto &slot = m_sums[name];
        slot.first += weight * value;
        slot.second += weight;
    }
}

MetricMap MetricAverager::mean() const
{
    MetricMap out;
    for (const auto &[name, slot] : m_sums)
        if (slot.second > 0)
            out[name] = slot.first / slot.second;
    return out;
}

void MetricAverager::allReduce(Distributed &distributed)
{
    m_sums = distributed.allReduceWeighted(m_sums);
}

void MetricAverager::clear()
{
    m_sums.clear();
}

} // namespace mp
