#include "ml/run/experiment.h"

#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mp {
namespace {

// Ordered: the grid's keys vary in the order written (names and run order follow it).
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kStateNames[] = {"pending", "trained", "evaluated", "failed"};

[[noreturn]] void fail(const std::string &source, const std::string &key,
                       const std::string &message)
{
    throw InputError(source + ": key '" + key + "': " + message);
}

// Every dotted leaf path of an object ("dpo.beta").
void leafPaths(const OrderedJson &object, const std::string &prefix, std::vector<std::string> &out)
{
    for (const auto &[key, value] : object.items()) {
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        if (value.is_object() && !value.empty())
            leafPaths(value, path, out);
        else
            out.push_back(path);
    }
}

// "beta" -> "dpo.beta" when exactly one leaf of run.json ends with it; dotted paths stay as given
// (run.json's own parser rejects one that does not exist).
std::string resolveKey(const std::string &key, const std::vector<std::string> &leaves,
                       const std::string &source, const std::string &where)
{
    if (key.find('.') != std::string::npos ||
        std::find(leaves.begin(), leaves.end(), key) != leaves.end())
        return key; // a dotted path or a top-level key ("epochs", not ppo.epochs)
    std::vector<std::string> matches;
    for (const auto &leaf : leaves) {
        const auto dot = leaf.rfind('.');
        if ((dot == std::string::npos ? leaf : leaf.substr(dot + 1)) == key)
            matches.push_back(leaf);
    }
    if (matches.size() == 1)
        return matches.front();
    if (matches.empty())
        fail(source, where, "'" + key + "' is no run.json key");
    std::string list;
    for (const auto &m : matches)
        list += (list.empty() ? "" : ", ") + m;
    fail(source, where, "'" + key + "' is ambiguous (" + list + "); write the dotted path");
}

void setPath(OrderedJson &object, const std::string &path, const OrderedJson &value)
{
    OrderedJson *node = &object;
    std::size_t begin = 0;
    for (std::size_t dot; (dot = path.find('.', begin)) != std::string::npos; begin = dot + 1) {
        OrderedJson &child = (*node)[path.substr(begin, dot - begin)];
        if (!child.is_object())
            child = OrderedJson::object();
        node = &child;
    }
    (*node)[path.substr(begin)] = value;
}

std::string valueText(const OrderedJson &value)
{
    return value.is_string() ? value.get<std::string>() : value.dump();
}

// A directory name: letters, digits, '.', '-', '_' kept, the rest '_'.
std::string slug(const std::string &text)
{
    std::string out;
    for (char c : text) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        out += keep ? c : '_';
    }
    return out.size() > 60 ? out.substr(0, 60) : out;
}

struct Setting {
    std::string key; // as written
    std::string path;
    OrderedJson value;
};
struct Configuration {
    std::string name;
    std::vector<Setting> settings;
};

template <typename T>
T readKey(const OrderedJson &object, const char *key, T fallback, const std::string &source,
          const std::string &prefix)
{
    const auto it = object.find(key);
    if (it == object.end())
        return fallback;
    try {
        return it->get<T>();
    } catch (const OrderedJson::exception &) {
        fail(source, prefix + key, "has the wrong type (" + jsonExcerpt(*it) + ")");
    }
}

ExperimentEvalSettings parseEval(const OrderedJson &eval, const std::string &source)
{
    if (!eval.is_object())
        fail(source, "eval", "must be an object with at least \"dataset\"");
    static const std::set<std::string> known = {
        "dataset",     "split", "replications", "max_clips", "mm_texts",
        "temperature", "seed",  "evaluator",    "gen_batch", "cross_check"};
    for (const auto &[key, value] : eval.items())
        if (!known.count(key))
            fail(source, "eval." + key, "unknown key");
    ExperimentEvalSettings e;
    e.dataset = readKey<std::string>(eval, "dataset", "", source, "eval.");
    if (e.dataset.empty())
        fail(source, "eval.dataset", "the HumanML3D-layout directory to evaluate on is required");
    e.split = readKey<std::string>(eval, "split", e.split, source, "eval.");
    e.replications = readKey<std::int64_t>(eval, "replications", e.replications, source, "eval.");
    if (e.replications < 2 || e.replications > 1000)
        fail(source, "eval.replications", "must be in [2, 1000] (an interval needs two)");
    e.maxClips = readKey<std::int64_t>(eval, "max_clips", e.maxClips, source, "eval.");
    if (e.maxClips < 0 || e.maxClips % kMotionGroupSize != 0)
        fail(source, "eval.max_clips",
             "must be 0 (all) or a positive multiple of " + std::to_string(kMotionGroupSize));
    e.mmTexts = readKey<std::int64_t>(eval, "mm_texts", e.mmTexts, source, "eval.");
    if (e.mmTexts < 0)
        fail(source, "eval.mm_texts", "must be >= 0");
    e.temperature = readKey<double>(eval, "temperature", e.temperature, source, "eval.");
    e.seed = readKey<std::int64_t>(eval, "seed", e.seed, source, "eval.");
    if (e.seed < 0)
        fail(source, "eval.seed", "must be >= 0");
    e.evaluator = readKey<std::string>(eval, "evaluator", e.evaluator, source, "eval.");
    e.crossCheck = readKey<std::string>(eval, "cross_check", e.crossCheck, source, "eval.");
    e.generationBatch =
        readKey<std::int64_t>(eval, "gen_batch", e.generationBatch, source, "eval.");
    if (e.generationBatch < 1 || e.generationBatch > 4096)
        fail(source, "eval.gen_batch", "must be in [1, 4096]");
    return e;
}

std::vector<Configuration> expand(const OrderedJson &root, const OrderedJson &base,
                                  const std::string &source)
{
    TrainMethod method = TrainMethod::Dpo;
    if (base.contains("method") && base["method"].is_string() && base["method"] == "rlhf")
        method = TrainMethod::Rlhf;
    const OrderedJson defaults = OrderedJson::parse(runConfigToJson(defaultRunConfig(method)));
    std::vector<std::string> leaves;
    leafPaths(defaults, "", leaves);

    std::vector<Configuration> grid = {{}};
    if (const auto it = root.find("grid"); it != root.end()) {
        if (!it->is_object() || it->empty())
            fail(source, "grid", "must be an object of key: [values]");
        for (const auto &[key, values] : it->items()) {
            const std::string where = "grid." + key;
            if (!values.is_array() || values.empty())
                fail(source, where, "must be a non-empty list of values");
            const std::string path = resolveKey(key, leaves, source, where);
            if (path == "seed")
                fail(source, where, "training seeds go in \"seeds\"");
            std::vector<Configuration> next;
            for (const auto &config : grid)
                for (const auto &value : values) {
                    Configuration c = config;
                    c.settings.push_back({key, path, value});
                    next.push_back(std::move(c));
                }
            grid = std::move(next);
        }
    }
    for (auto &c : grid)
        for (const auto &s : c.settings)
            c.name += (c.name.empty() ? "" : " ") + s.key + "=" + valueText(s.value);

    std::vector<Configuration> variants;
    if (const auto it = root.find("variants"); it != root.end()) {
        if (!it->is_array() || it->empty())
            fail(source, "variants", "must be a non-empty list of {\"name\", \"set\"}");
        std::set<std::string> names;
        for (std::size_t i = 0; i < it->size(); ++i) {
            const OrderedJson &v = (*it)[i];
            const std::string where = "variants[" + std::to_string(i) + "]";
            if (!v.is_object() || !v.contains("name") || !v["name"].is_string() ||
                v["name"].get<std::string>().empty())
                fail(source, where, "needs a \"name\" (text)");
            for (const auto &[key, value] : v.items())
                if (key != "name" && key != "set")
                    fail(source, where + "." + key, "unknown key (a variant has name and set)");
            Configuration c{.name = v["name"].get<std::string>(), .settings = {}};
            if (!names.insert(c.name).second)
                fail(source, where + ".name", "'" + c.name + "' is used twice");
            if (const auto set = v.find("set"); set != v.end()) {
                if (!set->is_object())
                    fail(source, where + ".set", "must be an object of key: value");
                for (const auto &[key, value] : set->items()) {
                    const std::string path = resolveKey(key, leaves, source, where + ".set." + key);
                    if (path == "seed")
                        fail(source, where + ".set." + key, "training seeds go in \"seeds\"");
                    c.settings.push_back({key, path, value});
                }
            }
            variants.push_back(std::move(c));
        }
    }
    if (variants.empty())
        return grid;
    std::vector<Configuration> out;
    for (const auto &g : grid)
        for (const auto &v : variants) {
            Configuration c = g;
            c.name = g.name.empty() ? v.name : g.name + " " + v.name;
            c.settings.insert(c.settings.end(), v.settings.begin(), v.settings.end());
            out.push_back(std::move(c));
        }
    return out;
}

} // namespace

std::string_view experimentRunStateName(ExperimentRunState state)
{
    return kStateNames[static_cast<int>(state)];
}

Sweep parseSweep(std::string_view jsonText, const std::string &source)
{
    OrderedJson root;
    try {
        parseJsonLimited(source, jsonText); // the nesting limit
        root = OrderedJson::parse(jsonText);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(source + ": not valid JSON: " + e.what());
    }
    if (!root.is_object())
        throw InputError(source + ": the top level must be a JSON object");
    static const std::set<std::string> known = {"base",  "grid",     "variants",
                                                "seeds", "baseline", "eval"};
    for (const auto &[key, value] : root.items())
        if (!known.count(key))
            fail(source, key,
                 "unknown key (a sweep has base, grid, variants, seeds, baseline, "
                 "eval)");
    Sweep sweep;
    sweep.sourceJson = root.dump();
    const OrderedJson base = root.value("base", OrderedJson::object());
    if (!base.is_object())
        fail(source, "base", "must be a run.json object");
    sweep.baseline = readKey<bool>(root, "baseline", true, source, "");
    if (!root.contains("eval"))
        fail(source, "eval", "is required (at least {\"dataset\": DIR})");
    sweep.eval = parseEval(root["eval"], source);

    std::vector<std::int64_t> seeds;
    if (const auto it = root.find("seeds"); it != root.end()) {
        if (!it->is_array() || it->empty())
            fail(source, "seeds", "must be a non-empty list of integers");
        for (const auto &s : *it) {
            if (!s.is_number_integer() || s.get<std::int64_t>() < 0)
                fail(source, "seeds", "must hold integers >= 0, got " + jsonExcerpt(s));
            if (std::find(seeds.begin(), seeds.end(), s.get<std::int64_t>()) != seeds.end())
                fail(source, "seeds", "seed " + s.dump() + " is listed twice");
            seeds.push_back(s.get<std::int64_t>());
        }
    }

    const auto configurations = expand(root, base, source);
    std::set<std::string> names;
    for (std::size_t i = 0; i < configurations.size(); ++i) {
        const auto &c = configurations[i];
        const std::string name = c.name.empty() ? "base" : c.name;
        if (!names.insert(name).second)
            throw InputError(source + ": configuration '" + name + "' occurs twice");
        sweep.configurations.push_back(name);
        OrderedJson runJson = base;
        for (const auto &s : c.settings)
            setPath(runJson, s.path, s.value);
        const std::string what = source + " (configuration '" + name + "')";
        RunConfig config = parseRunConfig(runJson.dump(), what);
        if (config.method == TrainMethod::Rm)
            throw InputError(what + ": method rm trains a reward model, no policy to evaluate");
        if (config.data.pairs.empty())
            throw InputError(what + ": key 'data.pairs': the preference pairs file is required");
        if (sweep.baseline && config.model != parseRunConfig(base.dump(), source).model)
            throw InputError(what + ": key 'model': differs from the base's, so the untrained "
                                    "baseline is ambiguous (set \"baseline\": false)");
        const std::vector<std::int64_t> runSeeds =
            seeds.empty() ? std::vector<std::int64_t>{config.seed} : seeds;
        char prefix[16];
        std::snprintf(prefix, sizeof(prefix), "c%02zu_", i + 1);
        for (const auto seed : runSeeds) {
            runJson["seed"] = seed;
            ExperimentRun run;
            run.configuration = name;
            run.seed = seed;
            run.id = prefix + slug(name) + "_s" + std::to_string(seed);
            run.runJson = runJson.dump(2);
            run.config = parseRunConfig(run.runJson, what);
            sweep.runs.push_back(std::move(run));
        }
    }
    sweep.model = parseRunConfig(base.dump(), source).model;
    return sweep;
}

Sweep loadSweep(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path.string() + ": cannot read the sweep file");
    std::ostringstream text;
    text << in.rdbuf();
    return parseSweep(text.str(), path.string());
}

void writeExperimentState(const ExperimentLayout &layout, const Sweep &sweep,
                          const std::vector<ExperimentRunStatus> &runs,
                          ExperimentRunState baselineState)
{
    OrderedJson list = OrderedJson::array();
    for (std::size_t i = 0; i < runs.size() && i < sweep.runs.size(); ++i) {
        OrderedJson r = {{"id", runs[i].id},
                         {"configuration", sweep.runs[i].configuration},
                         {"seed", sweep.runs[i].seed},
                         {"state", experimentRunStateName(runs[i].state)}};
        if (!runs[i].message.empty())
            r["message"] = runs[i].message;
        list.push_back(std::move(r));
    }
    const OrderedJson state = {
        {"sweep", OrderedJson::parse(sweep.sourceJson)},
        {"baseline", sweep.baseline
                         ? OrderedJson(std::string(experimentRunStateName(baselineState)))
                         : OrderedJson(nullptr)},
        {"runs", list}};
    writeFileAtomically(layout.stateFile(), state.dump(2) + "\n");
}

ExperimentState readExperimentState(const ExperimentLayout &layout)
{
    const auto path = layout.stateFile();
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path.string() + ": cannot read (not an experiment directory?)");
    std::ostringstream text;
    text << in.rdbuf();
    OrderedJson root;
    try {
        parseJsonLimited(path.string(), text.str());
        root = OrderedJson::parse(text.str());
    } catch (const nlohmann::json::exception &e) {
        throw InputError(path.string() + ": not valid JSON: " + e.what());
    }
    if (!root.is_object() || !root.contains("sweep") || !root.contains("runs") ||
        !root["runs"].is_array())
        throw InputError(path.string() + ": not an experiment state (needs sweep and runs)");
    ExperimentState state;
    state.sweep = parseSweep(root["sweep"].dump(), path.string() + " (sweep)");
    const auto stateOf = [&](const OrderedJson &value, const std::string &what) {
        for (std::size_t k = 0; k < std::size(kStateNames); ++k)
            if (value.is_string() && value.get<std::string>() == kStateNames[k])
                return static_cast<ExperimentRunState>(k);
        throw InputError(path.string() + ": " + what + ": unknown state " + jsonExcerpt(value));
    };
    if (root.contains("baseline") && !root["baseline"].is_null())
        state.baseline = stateOf(root["baseline"], "baseline");
    std::map<std::string, const OrderedJson *> byId;
    for (const auto &r : root["runs"])
        if (r.is_object() && r.contains("id") && r["id"].is_string())
            byId[r["id"].get<std::string>()] = &r;
    for (const auto &run : state.sweep.runs) {
        ExperimentRunStatus status{.id = run.id, .state = {}, .message = {}};
        if (const auto it = byId.find(run.id); it != byId.end()) {
            status.state = stateOf(it->second->value("state", OrderedJson()), "run " + run.id);
            status.message = it->second->value("message", std::string());
        }
        state.runs.push_back(std::move(status));
    }
    return state;
}

} // namespace mp
