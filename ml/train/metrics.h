#pragma once
// Named scalar metrics as logged to events.jsonl ("rewards/chosen" -> 0.1). Ordered for stable
// output.

#include <map>
#include <string>

namespace mp {

class Distributed;

using MetricMap = std::map<std::string, double>;

// Copies every entry of `from` into `into` with `prefix` prepended ("eval_").
void mergeMetrics(MetricMap &into, const MetricMap &from, const std::string &prefix = {});

// Averages metric maps stored per micro-batch, as TRL's log() does: each key's plain mean over the
// maps that have it. A weight counts a map as that fraction of one: a data-parallel rank adds its
// shard's metrics with the shard's share of the micro-batch, and after allReduce every rank holds
// the mean one process would have computed over the whole micro-batches (exact for metrics that
// are means over examples).
class MetricAverager {
public:
    void add(const MetricMap &metrics, double weight = 1.0);
    MetricMap mean() const;
    bool empty() const { return m_sums.empty(); }
    void clear();
    // Sums every rank's (weighted sum, weight) per key; a no-op for one process.
    void allReduce(Distributed &distributed);

private:
    std::map<std::string, std::pair<double, double>> m_sums;
};

} // namespace mp
