#pragma once
// The parts of a run directory every method shares: the checkpoint folders, the best-so-far
// tracking, and the data a run trains on.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ml/train/metrics.h"
#include "ml/train/preference_data.h"

namespace mp {

struct RunConfig;

// checkpoints/step-000120 for step 120.
std::filesystem::path checkpointDir(const std::filesystem::path &runDir, std::int64_t step);
// The newest complete checkpoint (one with trainer_state.json), if any.
std::optional<std::filesystem::path> latestCheckpoint(const std::filesystem::path &runDir);
// Where a resumed run starts, in words for its warning event: "resumed from checkpoints/step-..."
// or, when no checkpoint is complete, that training starts again from step 0 and which
// checkpoint folders were incomplete (a crash while one was written).
std::string describeResumePoint(const std::filesystem::path &runDir);
// Removes all but the newest keepLast checkpoints (keepLast <= 0 keeps all).
void pruneCheckpoints(const std::filesystem::path &runDir, std::int64_t keepLast);

// Prepares runDir for a new run (refusing one that already holds events unless resuming) and
// writes or, when resuming, checks config.json against the config and that events.jsonl is a
// run's event log (a file of which no line is an event is refused rather than appended to).
void prepareRunDirectory(const RunConfig &config, const std::filesystem::path &runDir, bool resume);

// The pairs a run trains and evaluates on: read, selected by degree and percentage, split by
// the configured id lists or a seeded split. The lists are written to train_ids.txt and
// eval_ids.txt on a new run and read back from them on a resume. writeLists false leaves the
// files alone (a data-parallel rank other than 0, which reads rank 0's lists as a resume does).
struct RunData {
    std::vector<PreferencePair> train;
    std::vector<PreferencePair> eval;
};
RunData loadRunData(const RunConfig &config, const std::filesystem::path &runDir, bool resume,
                    bool writeLists = true);

// Best-so-far by one metric, persisted in best/best.json so a resumed run keeps comparing
// against the value it had.
class BestTracker {
public:
    BestTracker(const std::filesystem::path &runDir, std::string metric, bool maximize);
    const std::string &metric() const { return m_metric; }
    // True when metrics hold the tracked metric and it beats the best so far.
    bool improves(const MetricMap &metrics) const;
    // Records the new best; the caller has written best/'s model files before.
    void record(const MetricMap &metrics, std::int64_t step);
    std::filesystem::path directory() const { return m_runDir / "best"; }

private:
    std::filesystem::path m_runDir;
    std::string m_metric;
    bool m_maximize;
    std::optional<double> m_best;
};

} // namespace mp
