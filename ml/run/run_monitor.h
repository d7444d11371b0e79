#pragma once
// Watches a run's metrics as they are logged: spikes in rewards and KL (against a robust
// trailing-window estimate) become "spike" events, and NaN/Inf losses or an exploding KL become
// one "failed" event with its reason, after which the trainer stops and keeps its last good
// checkpoint.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ml/run/events.h"
#include "ml/train/metrics.h"

namespace mp {

struct SpikeOptions {
    std::int64_t window = 50;     // trailing values the baseline is estimated from
    std::int64_t minHistory = 20; // no verdict before this many values
    double threshold = 6.0;       // robust standard deviations (1.4826·MAD) from the median
    double minScale = 1e-6;       // floor on the robust std, so a flat history is not all spikes
};

struct Spike {
    double value = 0.0;
    double median = 0.0;
    double robustStd = 0.0;
    double score = 0.0; // |value - median| / robustStd
};

// One metric's trailing window. Every value, spiky or not, joins the window afterwards.
class SpikeDetector {
public:
    explicit SpikeDetector(SpikeOptions options = {});
    std::optional<Spike> observe(double value);
    std::int64_t size() const { return static_cast<std::int64_t>(m_values.size()); }

private:
    SpikeOptions m_options;
    std::deque<double> m_values;
};

struct DivergenceOptions {
    std::vector<std::string> lossKeys = {"loss", "ppo/loss/total"};
    std::vector<std::string> klKeys = {"objective/kl", "kl"};
    // A per-sequence KL this far above PPO's adaptive target (6 nats) means the policy has left
    // the reference behind; DPO's implicit-reward KL stays far below it.
    double maxKl = 100.0;
};

// The reason a step's metrics show divergence, or nullopt: a loss key that is NaN/Inf, or a KL
// key that is NaN/Inf or above maxKl.
std::optional<std::string> divergenceReason(const MetricMap &metrics,
                                            const DivergenceOptions &options = {});

struct RunMonitorOptions {
    // Metrics watched for spikes (whichever a method logs).
    std::vector<std::string> spikeKeys = {"rewards/chosen",
                                          "rewards/rejected",
                                          "rewards/margins",
                                          "objective/kl",
                                          "kl",
                                          "ppo/mean_scores",
                                          "env/reward_mean",
                                          "loss"};
    SpikeOptions spike;
    DivergenceOptions divergence;
};

// Writes step events through an EventWriter, adding spike and failed events.
class RunMonitor {
public:
    RunMonitor(EventWriter &writer, RunMonitorOptions options = {});

    // Writes the step event, then a spike event per spiking metric; when the metrics diverge,
    // writes a failed event with "reason" and returns false (the caller stops).
    bool logStep(std::int64_t step, double epoch, const MetricMap &metrics);
    // Checks and records a failure without a step event (e.g. a NaN gradient norm).
    void fail(std::int64_t step, double epoch, const std::string &reason);

    bool failed() const { return m_failed; }
    std::int64_t spikeCount() const { return m_spikes; }

private:
    EventWriter &m_writer;
    RunMonitorOptions m_options;
    std::map<std::string, SpikeDetector> m_detectors;
    bool m_failed = false;
    std::int64_t m_spikes = 0;
};

} // namespace mp
