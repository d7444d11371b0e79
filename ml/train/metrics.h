#pragma once
// Named scalar metrics as logged to events.jsonl ("rewards/chosen" -> 0.1). Ordered for stable
// output.

#include <map>
#include <string>

namespace mp {

using MetricMap = std::map<std::string, double>;

// Copies every entry of `from` into `into` with `prefix` prepended ("eval_").
void mergeMetrics(MetricMap &into, const MetricMap &from, const std::string &prefix = {});

// Averages metric maps stored per micro-batch, as TRL's log() does: each key's plain mean over the
// maps that have it.
class MetricAverager {
public:
    void add(const MetricMap &metrics);
    MetricMap mean() const;
    bool empty() const { return m_sums.empty(); }
    void clear();

private:
    std::map<std::string, std::pair<double, long>> m_sums;
};

} // namespace mp
