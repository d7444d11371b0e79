#include "ml/run/run_directory.h"

#include "ml/run/events.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "ml/core/error.h"
#include "ml/run/run_config.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

constexpr const char *kCheckpointPrefix = "step-";

std::optional<std::int64_t> checkpointStep(const fs::path &directory)
{
    const std::string name = directory.filename().string();
    if (name.rfind(kCheckpointPrefix, 0) != 0 || name.find('.') != std::string::npos)
        return std::nullopt;
    try {
        return std::stoll(name.substr(std::string(kCheckpointPrefix).size()));
    } catch (const std::exception &) {
        return std::nullopt;
    }
}

std::vector<std::pair<std::int64_t, fs::path>> completeCheckpoints(const fs::path &runDir)
{
    std::vector<std::pair<std::int64_t, fs::path>> found;
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(runDir / "checkpoints", error)) {
        const auto step = checkpointStep(entry.path());
        if (step && fs::exists(entry.path() / "trainer_state.json"))
            found.emplace_back(*step, entry.path());
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::string readText(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<PreferencePair> idsOrThrow(const std::vector<PreferencePair> &pairs,
                                       const fs::path &list)
{
    return pairsWithIds(pairs, readPairIdList(list), list.string());
}

// The listed pairs (each must be in the file) that the degree and percent selection kept: a
// fixed split stays fixed while the training subset changes.
std::vector<PreferencePair> selectedOfList(const std::vector<PreferencePair> &all,
                                           const std::vector<PreferencePair> &selected,
                                           const fs::path &list)
{
    std::unordered_set<std::int64_t> kept;
    for (const auto &pair : selected)
        kept.insert(pair.pairId);
    std::vector<PreferencePair> out;
    for (auto &pair : idsOrThrow(all, list))
        if (kept.count(pair.pairId))
            out.push_back(std::move(pair));
    return out;
}

} // namespace

fs::path checkpointDir(const fs::path &runDir, std::int64_t step)
{
    char name[32];
    std::snprintf(name, sizeof name, "%s%06lld", kCheckpointPrefix, static_cast<long long>(step));
    return runDir / "checkpoints" / name;
}

std::optional<fs::path> latestCheckpoint(const fs::path &runDir)
{
    const auto found = completeCheckpoints(runDir);
    if (found.empty())
        return std::nullopt;
    return found.back().second;
}

std::string describeResumePoint(const fs::path &runDir)
{
    if (const auto latest = latestCheckpoint(runDir))
        return "resumed from " + fs::relative(*latest, runDir).string();
    std::string incomplete;
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(runDir / "checkpoints", error))
        if (checkpointStep(entry.path()))
            incomplete += (incomplete.empty() ? "" : ", ") + entry.path().filename().string();
    return "resumed with no complete checkpoint" +
           (incomplete.empty() ? std::string()
                               : " (without trainer_state.json, cut off while being "
                                 "written: " +
                                     incomplete + ")") +
           ": training starts again from step 0";
}

void pruneCheckpoints(const fs::path &runDir, std::int64_t keepLast)
{
    if (keepLast <= 0)
        return;
    const auto found = completeCheckpoints(runDir);
    for (std::size_t i = 0; i + static_cast<std::size_t>(keepLast) < found.size(); ++i) {
        std::error_code error; // a checkpoint that cannot be removed only costs disk space
        fs::remove_all(found[i].second, error);
    }
}

void prepareRunDirectory(const RunConfig &config, const fs::path &runDir, bool resume)
{
    const fs::path configPath = runDir / "config.json";
    if (resume) {
        if (!fs::exists(configPath))
            throw InputError(runDir.string() + ": not a run directory (no config.json) to resume");
        const RunConfig saved = loadRunConfig(configPath);
        if (!(saved == config))
            throw InputError(configPath.string() +
                             ": differs from the given config; resume with the run's own "
                             "config.json");
        const fs::path eventsPath = runDir / "events.jsonl";
        if (fs::exists(eventsPath) && fs::file_size(eventsPath) > 0) {
            EventReader reader(eventsPath);
            const auto events = reader.poll();
            if (events.empty())
                throw InputError(eventsPath.string() + ": not a run's event log (" +
                                 std::to_string(reader.malformedLines()) +
                                 " complete lines, none an event); resuming would append to "
                                 "it. Move it away or start the run in a new directory");
        }
        return;
    }
    if (fs::exists(runDir / "events.jsonl") && fs::file_size(runDir / "events.jsonl") > 0)
        throw InputError(runDir.string() +
                         ": already holds a run (events.jsonl); use --resume or a new directory");
    std::error_code error;
    fs::create_directories(runDir / "checkpoints", error);
    if (error)
        throw InputError(runDir.string() + ": cannot create the run directory: " + error.message());
    saveRunConfig(config, configPath);
}

RunData loadRunData(const RunConfig &config, const fs::path &runDir, bool resume, bool writeLists)
{
    // Semi-online pairs are built by the run itself (ml/run/semi_online.h), with the model.
    if (config.data.source == DataSource::SemiOnline)
        return {};
    if (config.data.pairs.empty())
        throw InputError("config: data.pairs (the preference pairs file) is required to train");
    const auto all = readPreferencePairs(config.data.pairs);
    const auto seed = static_cast<std::uint64_t>(config.seed);
    const auto selected =
        selectPreferencePairs(all, config.data.degrees, config.data.percent, seed);
    if (selected.empty())
        throw InputError(config.data.pairs + ": no pair has one of the selected degrees");

    const fs::path trainList = runDir / "train_ids.txt";
    const fs::path evalList = runDir / "eval_ids.txt";
    RunData data;
    std::string trainSource = config.data.pairs; // what an empty training split comes from
    if (resume && fs::exists(trainList)) {
        trainSource = trainList.string();
        data.train = idsOrThrow(selected, trainList);
        data.eval = idsOrThrow(all, evalList);
    } else if (!config.data.trainIds.empty()) {
        // Explicit lists: the selection narrows the training pairs only, so runs with other
        // subsets are measured on the same held-out pairs.
        data.train = selectedOfList(all, selected, config.data.trainIds);
        if (!config.data.evalIds.empty())
            data.eval = idsOrThrow(all, config.data.evalIds);
    } else {
        const auto split = splitPreferencePairs(selected, config.data.evalFraction, seed);
        data.train = pairsWithIds(selected, split.trainIds, config.data.pairs);
        data.eval = pairsWithIds(selected, split.evalIds, config.data.pairs);
    }
    if (data.train.empty())
        throw InputError(trainSource + ": the training split is empty");
    const auto ids = [](const std::vector<PreferencePair> &pairs) {
        std::vector<std::int64_t> out;
        for (const auto &pair : pairs)
            out.push_back(pair.pairId);
        return out;
    };
    if (writeLists) {
        writePairIdList(ids(data.train), trainList);
        writePairIdList(ids(data.eval), evalList);
    }
    return data;
}

BestTracker::BestTracker(const fs::path &runDir, std::string metric, bool maximize)
    : m_runDir(runDir), m_metric(std::move(metric)), m_maximize(maximize)
{
    const fs::path saved = directory() / "best.json";
    if (!fs::exists(saved))
        return;
    try {
        const auto json = nlohmann::json::parse(readText(saved));
        if (json.value("metric", std::string()) == m_metric && json.contains("value") &&
            json["value"].is_number())
            m_best = json["value"].get<double>();
    } catch (const nlohmann::json::exception &) {
        // An unreadable best.json only means the next evaluation becomes the best.
    }
}

bool BestTracker::improves(const MetricMap &metrics) const
{
    const auto it = metrics.find(m_metric);
    if (it == metrics.end() || !std::isfinite(it->second))
        return false;
    if (!m_best)
        return true;
    return m_maximize ? it->second > *m_best : it->second < *m_best;
}

void BestTracker::record(const MetricMap &metrics, std::int64_t step)
{
    m_best = metrics.at(m_metric);
    nlohmann::json json = {{"metric", m_metric}, {"value", *m_best}, {"step", step}};
    for (const auto &[key, value] : metrics)
        if (std::isfinite(value))
            json["metrics"][key] = value;
    fs::create_directories(directory());
    const fs::path temporary = directory() / "best.json.tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << json.dump(2) << "\n";
        if (!out.flush())
            throw InputError(temporary.string() + ": write failed");
    }
    fs::rename(temporary, directory() / "best.json");
}

} // namespace mp
