#include "ml/train/preference_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/models/tokenizer.h"

namespace mp {
namespace {

constexpr std::string_view kIdCountPrefix = "# ";
constexpr std::string_view kIdCountSuffix = " pair ids";

std::vector<std::int64_t> readCodes(const nlohmann::json &value, const std::string &where)
{
    if (!value.is_array() || value.empty())
        throw InputError(where + " must be a non-empty list of motion codes");
    std::vector<std::int64_t> codes;
    codes.reserve(value.size());
    for (const auto &code : value) {
        if (!code.is_number_integer() || code.get<std::int64_t>() < 0)
            throw InputError(where + " holds a value that is not a motion code");
        codes.push_back(code.get<std::int64_t>());
    }
    return codes;
}

PreferencePair parsePairLine(const std::string &line, const std::string &where)
{
    nlohmann::json json;
    try {
        json = parseJsonLimited(where, line);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(where + ": not JSON (" + e.what() + ")");
    }
    if (!json.is_object())
        throw InputError(where + ": expected a JSON object");
    const auto field = [&](const char *key) -> const nlohmann::json & {
        const auto it = json.find(key);
        if (it == json.end())
            throw InputError(where + ": key '" + key + "' is missing");
        return *it;
    };
    PreferencePair pair;
    if (!field("pair_id").is_number_integer())
        throw InputError(where + ": 'pair_id' must be an integer");
    pair.pairId = field("pair_id").get<std::int64_t>();
    if (!field("prompt").is_string() || field("prompt").get<std::string>().empty())
        throw InputError(where + ": 'prompt' must be a non-empty string");
    pair.prompt = field("prompt").get<std::string>();
    pair.chosen = readCodes(field("chosen"), where + ": 'chosen'");
    pair.rejected = readCodes(field("rejected"), where + ": 'rejected'");
    if (!field("degree").is_string())
        throw InputError(where + ": 'degree' must be a string");
    const auto degree = parseDegree(field("degree").get<std::string>());
    if (!degree)
        throw InputError(where + ": unknown degree '" + field("degree").get<std::string>() + "'");
    pair.degree = *degree;
    if (const auto it = json.find("id"); it != json.end() && it->is_string())
        pair.id = it->get<std::string>();
    if (const auto it = json.find("labeler"); it != json.end() && it->is_string())
        pair.labeler = it->get<std::string>();
    return pair;
}

} // namespace

std::vector<PreferencePair> readPreferencePairs(const std::filesystem::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": cannot open the preference pairs file");
    std::vector<PreferencePair> pairs;
    std::set<std::int64_t> seen;
    std::string line;
    for (std::int64_t number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        const std::string where = path.string() + " line " + std::to_string(number);
        auto pair = parsePairLine(line, where);
        if (!seen.insert(pair.pairId).second)
            throw InputError(where + ": pair_id " + std::to_string(pair.pairId) + " appears twice");
        pairs.push_back(std::move(pair));
    }
    if (pairs.empty())
        throw InputError(path.string() + ": holds no preference pairs");
    return pairs;
}

void writePreferencePairs(const std::vector<PreferencePair> &pairs,
                          const std::filesystem::path &path)
{
    std::ofstream out(path, std::ios::trunc);
    if (!out)
        throw InputError(path.string() + ": cannot write the preference pairs file");
    for (const auto &pair : pairs) {
        const nlohmann::json line = {{"pair_id", pair.pairId},
                                     {"id", pair.id},
                                     {"prompt", pair.prompt},
                                     {"chosen", pair.chosen},
                                     {"rejected", pair.rejected},
                                     {"degree", std::string(degreePaperName(pair.degree))},
                                     {"margin", rewardMargin(pair.degree, MarginScale::Big)},
                                     {"labeler", pair.labeler}};
        out << line.dump() << "\n";
    }
    if (!out.flush())
        throw InputError(path.string() + ": write failed");
}

void shufflePairIds(std::vector<std::int64_t> &ids, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    for (std::size_t i = ids.size(); i > 1; --i) {
        // rng() % i has a negligible bias for these sizes and is the same everywhere, unlike
        // std::uniform_int_distribution.
        const std::size_t j = static_cast<std::size_t>(rng() % i);
        std::swap(ids[i - 1], ids[j]);
    }
}

std::vector<PreferencePair> selectPreferencePairs(const std::vector<PreferencePair> &pairs,
                                                  const std::vector<PreferenceDegree> &degrees,
                                                  double percent, std::uint64_t seed)
{
    if (!(percent > 0.0 && percent <= 1.0))
        throw InputError("data.percent must be in (0, 1]");
    std::vector<std::int64_t> ids;
    for (const auto &pair : pairs)
        if (std::find(degrees.begin(), degrees.end(), pair.degree) != degrees.end())
            ids.push_back(pair.pairId);
    if (ids.empty())
        return {};
    const auto keep = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::llround(percent * static_cast<double>(ids.size()))));
    if (keep < ids.size()) {
        shufflePairIds(ids, seed);
        ids.resize(keep);
    }
    const std::set<std::int64_t> kept(ids.begin(), ids.end());
    std::vector<PreferencePair> selected;
    for (const auto &pair : pairs)
        if (kept.count(pair.pairId))
            selected.push_back(pair);
    return selected;
}

PreferenceSplit splitPreferencePairs(const std::vector<PreferencePair> &pairs, double evalFraction,
                                     std::uint64_t seed)
{
    if (!(evalFraction >= 0.0 && evalFraction < 1.0))
        throw InputError("data.eval_fraction must be in [0, 1)");
    std::vector<std::int64_t> ids;
    for (const auto &pair : pairs)
        ids.push_back(pair.pairId);
    shufflePairIds(ids, seed);
    auto evalCount =
        static_cast<std::size_t>(std::ceil(evalFraction * static_cast<double>(ids.size())));
    if (evalCount >= ids.size())
        evalCount = ids.size() - 1; // keep at least one pair to train on
    PreferenceSplit split;
    split.evalIds.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(evalCount));
    split.trainIds.assign(ids.begin() + static_cast<std::ptrdiff_t>(evalCount), ids.end());
    return split;
}

void writePairIdList(const std::vector<std::int64_t> &ids, const std::filesystem::path &path)
{
    // Renamed over the old list: a crash never leaves a list cut at a line boundary (which would
    // read as a valid, shorter list).
    std::ostringstream text;
    text << kIdCountPrefix << ids.size() << kIdCountSuffix << "\n";
    for (const auto id : ids)
        text << id << "\n";
    writeFileAtomically(path, text.str());
}

std::vector<std::int64_t> readPairIdList(const std::filesystem::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": cannot open the id list");
    std::vector<std::int64_t> ids;
    std::optional<std::size_t> statedCount;
    std::string line;
    for (std::int64_t number = 1; std::getline(in, line); ++number) {
        const auto start = line.find_first_not_of(" \t\r");
        if (start == std::string::npos)
            continue;
        if (line[start] == '#') {
            // Our own lists start with "# N pair ids", so a list cut short is told from a short
            // list; other comments are the user's.
            const std::string_view comment = std::string_view(line).substr(start);
            if (comment.starts_with(kIdCountPrefix) && comment.ends_with(kIdCountSuffix)) {
                const auto digits =
                    comment.substr(kIdCountPrefix.size(),
                                   comment.size() - kIdCountPrefix.size() - kIdCountSuffix.size());
                std::size_t count = 0;
                if (std::from_chars(digits.data(), digits.data() + digits.size(), count).ptr ==
                    digits.data() + digits.size())
                    statedCount = count;
            }
            continue;
        }
        try {
            std::size_t used = 0;
            ids.push_back(std::stoll(line, &used));
            if (line.find_first_not_of(" \t\r", used) != std::string::npos)
                throw std::invalid_argument(line);
        } catch (const std::exception &) {
            throw InputError(path.string() + " line " + std::to_string(number) +
                             ": not a pair id: '" + line + "'");
        }
    }
    if (statedCount && *statedCount != ids.size())
        throw InputError(path.string() + ": holds " + std::to_string(ids.size()) +
                         " pair ids but says it was written with " + std::to_string(*statedCount) +
                         " (cut or edited); restore it or start the run in a new directory");
    return ids;
}

std::vector<PreferencePair> pairsWithIds(const std::vector<PreferencePair> &pairs,
                                         const std::vector<std::int64_t> &ids,
                                         const std::string &source)
{
    std::unordered_map<std::int64_t, const PreferencePair *> byId;
    for (const auto &pair : pairs)
        byId[pair.pairId] = &pair;
    std::vector<PreferencePair> out;
    out.reserve(ids.size());
    for (const auto id : ids) {
        const auto it = byId.find(id);
        if (it == byId.end())
            throw InputError(source + ": pair id " + std::to_string(id) +
                             " is not among the selected pairs");
        out.push_back(*it->second);
    }
    return out;
}

std::vector<std::int64_t> motionLabels(const Tokenizer &tokenizer,
                                       const std::vector<std::int64_t> &codes,
                                       std::int64_t maxLength)
{
    auto labels = tokenizer.encodeMotion(codes);
    labels.push_back(tokenizer.eosId());
    if (static_cast<std::int64_t>(labels.size()) > maxLength)
        labels.resize(static_cast<std::size_t>(maxLength));
    return labels;
}

at::Tensor padRows(const std::vector<std::vector<std::int64_t>> &rows, std::int64_t padValue)
{
    std::size_t width = 1;
    for (const auto &row : rows)
        width = std::max(width, row.size());
    auto out =
        torch::full({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(width)},
                    padValue, torch::kLong);
    auto access = out.accessor<std::int64_t, 2>();
    for (std::size_t b = 0; b < rows.size(); ++b)
        for (std::size_t i = 0; i < rows[b].size(); ++i)
            access[static_cast<std::int64_t>(b)][static_cast<std::int64_t>(i)] = rows[b][i];
    return out;
}

} // namespace mp
