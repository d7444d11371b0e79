#include "ml/run/run_config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"

namespace mp {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

template <typename Kind> struct Named {
    Kind kind;
    std::string_view name;
};

constexpr Named<TrainMethod> kMethods[] = {{TrainMethod::Dpo, "dpo"},
                                           {TrainMethod::Rm, "rm"},
                                           {TrainMethod::Ppo, "ppo"},
                                           {TrainMethod::Rlhf, "rlhf"}};
constexpr Named<LabelSmoothingMode> kSmoothingModes[] = {
    {LabelSmoothingMode::None, "none"},
    {LabelSmoothingMode::Scalar, "scalar"},
    {LabelSmoothingMode::PerDegree, "per_degree"}};
constexpr Named<DataSource> kDataSources[] = {{DataSource::Labeled, "labeled"},
                                              {DataSource::SemiOnline, "semi_online"}};
constexpr Named<BestMode> kBestModes[] = {{BestMode::Max, "max"}, {BestMode::Min, "min"}};

template <typename Kind, size_t N> std::string_view nameOf(const Named<Kind> (&table)[N], Kind kind)
{
    for (const auto &entry : table) {
        if (entry.kind == kind)
            return entry.name;
    }
    return table[0].name;
}

std::string formatDouble(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}

// Walks one JSON object, converting known keys and rejecting the rest.
class ObjectReader {
public:
    ObjectReader(const Json &object, std::string prefix, const std::string &source)
        : m_object(object), m_prefix(std::move(prefix)), m_source(source)
    {
        if (!m_object.is_object())
            throw InputError(
                m_source + ": " +
                (m_prefix.empty() ? std::string("the top level") : "key '" + m_prefix + "'") +
                " must be a JSON object");
    }

    [[noreturn]] void fail(const std::string &key, const std::string &message) const
    {
        throw InputError(m_source + ": key '" + qualified(key) + "': " + message);
    }

    std::string qualified(const std::string &key) const
    {
        return m_prefix.empty() ? key : m_prefix + "." + key;
    }

    const Json *find(const std::string &key)
    {
        m_known.insert(key);
        const auto it = m_object.find(key);
        return it == m_object.end() ? nullptr : &*it;
    }

    // A finite number within `bounds`; `note` follows the bounds in the error ("< 100 (<= 0:
    // greedy)").
    void number(const std::string &key, double &out, const NumberBounds &bounds,
                std::string_view note = {})
    {
        if (const Json *v = find(key)) {
            if (!v->is_number())
                fail(key, "expected a number, got " + jsonExcerpt(*v));
            const double value = v->get<double>();
            if (!std::isfinite(value) || !bounds.contains(value))
                fail(key, "must be " + boundsText(bounds) +
                              (note.empty() ? "" : " (" + std::string(note) + ")") + ", got " +
                              formatDouble(value));
            out = value;
        }
    }

    // The same, or null for none.
    void optionalNumber(const std::string &key, std::optional<double> &out,
                        const NumberBounds &bounds)
    {
        if (const Json *v = find(key)) {
            if (v->is_null()) {
                out.reset();
                return;
            }
            double value = 0;
            number(key, value, bounds, "or null for none");
            out = value;
        }
    }

    void integer(const std::string &key, std::int64_t &out, std::int64_t minimum)
    {
        if (const Json *v = find(key)) {
            if (!v->is_number_integer())
                fail(key, "expected an integer, got " + jsonExcerpt(*v));
            const auto value = v->get<std::int64_t>();
            if (value < minimum)
                fail(key, "must be at least " + std::to_string(minimum) + ", got " +
                              std::to_string(value));
            out = value;
        }
    }

    // Whether the key was there.
    bool boolean(const std::string &key, bool &out)
    {
        const Json *v = find(key);
        if (v == nullptr)
            return false;
        if (!v->is_boolean())
            fail(key, "expected true or false, got " + jsonExcerpt(*v));
        out = v->get<bool>();
        return true;
    }

    void string(const std::string &key, std::string &out)
    {
        if (const Json *v = find(key)) {
            if (!v->is_string())
                fail(key, "expected a string, got " + jsonExcerpt(*v));
            out = v->get<std::string>();
        }
    }

    void stringList(const std::string &key, std::vector<std::string> &out)
    {
        if (const Json *v = find(key)) {
            if (!v->is_array())
                fail(key, "expected a list of strings, got " + jsonExcerpt(*v));
            std::vector<std::string> values;
            for (const Json &item : *v) {
                if (!item.is_string())
                    fail(key, "expected a list of strings, got " + jsonExcerpt(*v));
                values.push_back(item.get<std::string>());
            }
            out = std::move(values);
        }
    }

    // A string converted by `parse`, which throws InputError or returns nullopt when unknown.
    template <typename T, typename Parse> void choice(const std::string &key, T &out, Parse parse)
    {
        if (const Json *v = find(key)) {
            if (!v->is_string())
                fail(key, "expected a string, got " + jsonExcerpt(*v));
            try {
                const auto parsed = parse(v->get<std::string>());
                if constexpr (std::is_same_v<std::decay_t<decltype(parsed)>, std::optional<T>>) {
                    if (!parsed)
                        fail(key, "unknown value '" + v->get<std::string>() + "'");
                    out = *parsed;
                } else {
                    out = parsed;
                }
            } catch (const InputError &e) {
                if (std::string(e.what()).rfind(m_source, 0) == 0)
                    throw;
                fail(key, e.what());
            }
        }
    }

    template <typename Kind, size_t N>
    void named(const std::string &key, Kind &out, const Named<Kind> (&table)[N])
    {
        choice(key, out, [&](const std::string &text) -> std::optional<Kind> {
            for (const auto &entry : table) {
                if (entry.name == text)
                    return entry.kind;
            }
            std::string accepted;
            for (const auto &entry : table)
                accepted += (accepted.empty() ? "" : ", ") + std::string(entry.name);
            throw InputError("unknown value '" + text + "' (expected one of " + accepted + ")");
        });
    }

    // A nested object, read by `body` and checked for unknown keys.
    void object(const std::string &key, const std::function<void(ObjectReader &)> &body)
    {
        if (const Json *v = find(key)) {
            ObjectReader nested(*v, qualified(key), m_source);
            body(nested);
            nested.finish();
        }
    }

    void finish() const
    {
        for (const auto &[key, value] : m_object.items()) {
            if (!m_known.count(key))
                throw InputError(m_source + ": unknown key '" + qualified(key) + "'");
        }
    }

private:
    const Json &m_object;
    std::string m_prefix;
    const std::string &m_source;
    std::set<std::string> m_known;
};

void readDegrees(ObjectReader &reader, std::vector<PreferenceDegree> &out)
{
    std::vector<std::string> names;
    if (!reader.find("degrees"))
        return;
    reader.stringList("degrees", names);
    if (names.empty())
        reader.fail("degrees", "select at least one degree");
    std::vector<PreferenceDegree> degrees;
    for (const std::string &name : names) {
        const auto degree = parseDegree(name);
        if (!degree)
            reader.fail("degrees", "unknown degree '" + name +
                                       "' (expected much_better, better, slightly_better, unsure)");
        if (std::find(degrees.begin(), degrees.end(), *degree) != degrees.end())
            reader.fail("degrees", "degree '" + name + "' listed twice");
        degrees.push_back(*degree);
    }
    out = std::move(degrees);
}

} // namespace

std::string boundsText(const NumberBounds &bounds)
{
    const bool hasMin = std::isfinite(bounds.min);
    const bool hasMax = std::isfinite(bounds.max);
    if (hasMin && hasMax)
        return "in " + std::string(bounds.minExclusive ? "(" : "[") + formatDouble(bounds.min) +
               ", " + formatDouble(bounds.max) + (bounds.maxExclusive ? ")" : "]");
    if (hasMin)
        return (bounds.minExclusive ? "> " : ">= ") + formatDouble(bounds.min);
    if (hasMax)
        return (bounds.maxExclusive ? "< " : "<= ") + formatDouble(bounds.max);
    return "a number";
}

std::string_view trainMethodName(TrainMethod method)
{
    return nameOf(kMethods, method);
}

std::string_view dataSourceName(DataSource source)
{
    return nameOf(kDataSources, source);
}

std::string_view labelSmoothingModeName(LabelSmoothingMode mode)
{
    return nameOf(kSmoothingModes, mode);
}

RunConfig defaultRunConfig(TrainMethod method)
{
    RunConfig config;
    config.method = method;
    if (method == TrainMethod::Dpo)
        return config;
    // rm_train.sh: AdamW 2e-4, linear decay without warmup, batch 32, seed 42.
    config.seed = 42;
    config.batchSize = 32;
    config.optimizer = {.kind = OptimizerKind::AdamW, .lr = 2e-4};
    config.schedule = ScheduleKind::Linear;
    config.warmupSteps = 0;
    config.eval.bestMetric = "eval_accuracy";
    if (method == TrainMethod::Ppo)
        config.eval.bestMetric = "env/reward_mean";
    return config;
}

const std::vector<std::string> &motionMetricNames()
{
    static const std::vector<std::string> names = {
        "R_precision_top_1", "R_precision_top_2", "R_precision_top_3", "Matching_score", "FID",
        "Diversity",         "MultiModality",     "Foot_skating_ratio"};
    return names;
}

RunConfig parseRunConfig(std::string_view jsonText, const std::string &source)
{
    Json root;
    try {
        root = parseJsonLimited(source, jsonText);
    } catch (const Json::exception &e) {
        throw InputError(source + ": not valid JSON: " + e.what());
    }
    ObjectReader top(root, "", source);
    TrainMethod method = TrainMethod::Dpo;
    top.named("method", method, kMethods);
    RunConfig c = defaultRunConfig(method);

    top.string("model", c.model);
    top.string("device", c.device);
    top.integer("seed", c.seed, 0);
    top.integer("epochs", c.epochs, kMinEpochs);
    top.integer("batch_size", c.batchSize, kMinBatchSize);
    top.integer("grad_accum", c.gradAccum, 1);
    top.optionalNumber("max_grad_norm", c.maxGradNorm, kPositive);
    top.object("optimizer", [&](ObjectReader &r) {
        r.choice("type", c.optimizer.kind, parseOptimizerKind);
        r.number("lr", c.optimizer.lr, kLearningRateBounds);
        r.number("beta1", c.optimizer.beta1, kUnitOpen);
        r.number("beta2", c.optimizer.beta2, kUnitOpen);
        r.number("eps", c.optimizer.eps, kPositive);
        r.number("weight_decay", c.optimizer.weightDecay, kNonNegative);
    });
    top.object("schedule", [&](ObjectReader &r) {
        r.choice("type", c.schedule, parseScheduleKind);
        r.integer("warmup_steps", c.warmupSteps, kMinWarmupSteps);
    });
    top.object("lora", [&](ObjectReader &r) {
        r.boolean("enabled", c.lora.enabled);
        r.integer("r", c.lora.r, kMinLoraRank);
        r.number("alpha", c.lora.alpha, kLoraAlphaBounds);
        r.number("dropout", c.lora.dropout, kLoraDropoutBounds);
        r.stringList("targets", c.lora.targets);
        if (c.lora.targets.empty())
            r.fail("targets", "name at least one module");
    });
    top.object("dpo", [&](ObjectReader &r) {
        r.choice("loss", c.dpo.loss, parseDpoLossType);
        r.number("beta", c.dpo.beta, kDpoBetaBounds);
        r.named("label_smoothing_mode", c.dpo.labelSmoothingMode, kSmoothingModes);
        r.number("label_smoothing", c.dpo.labelSmoothing, kLabelSmoothingBounds);
        r.boolean("reference_free", c.dpo.referenceFree);
        r.number("rpo_alpha", c.dpo.rpoAlpha, kRpoAlphaBounds);
        r.boolean("precompute_ref_logps", c.dpo.precomputeRefLogps);
        r.boolean("disable_dropout", c.dpo.disableDropout);
        r.integer("max_prompt_length", c.dpo.maxPromptLength, 1);
        r.integer("max_target_length", c.dpo.maxTargetLength, 1);
        if (c.dpo.labelSmoothingMode != LabelSmoothingMode::None &&
            !supportsLabelSmoothing(c.dpo.loss))
            r.fail("label_smoothing_mode",
                   "label smoothing applies to the sigmoid and robust losses only, not '" +
                       std::string(dpoLossTypeName(c.dpo.loss)) + "'");
    });
    top.object("rm", [&](ObjectReader &r) {
        r.choice("margin", c.rm.margin, parseMarginScale);
        r.boolean("use_unsure", c.rm.useUnsure);
        r.number("neftune_alpha", c.rm.neftuneAlpha, kNonNegative);
        r.integer("max_length", c.rm.maxLength, 1);
    });
    top.object("ppo", [&](ObjectReader &r) {
        PpoSettings &p = c.ppo;
        r.string("reward_model", p.rewardModel);
        r.number("learning_rate", p.learningRate, kPositive);
        r.choice("optimizer", p.optimizer, parseOptimizerKind);
        r.integer("batch_size", p.batchSize, 1);
        r.integer("mini_batch_size", p.miniBatchSize, 1);
        r.integer("grad_accum", p.gradAccum, 1);
        r.integer("ppo_epochs", p.ppoEpochs, 1);
        r.integer("epochs", p.epochs, 1);
        r.optionalNumber("max_grad_norm", p.maxGradNorm, kPositive);
        r.boolean("adap_kl_ctrl", p.adapKlCtrl);
        r.number("init_kl_coef", p.initKlCoef, kNonNegative);
        r.choice("kl_penalty", p.klPenalty, parseKlPenalty);
        r.number("target", p.target, kPositive);
        r.number("horizon", p.horizon, kPositive);
        r.number("gamma", p.gamma, kUnitClosed);
        r.number("lam", p.lam, kUnitClosed);
        r.number("cliprange", p.cliprange, kPositive);
        r.number("cliprange_value", p.cliprangeValue, kPositive);
        r.number("vf_coef", p.vfCoef, kNonNegative);
        r.number("ratio_threshold", p.ratioThreshold, kPositive);
        r.boolean("early_stopping", p.earlyStopping);
        r.number("target_kl", p.targetKl, kPositive);
        r.boolean("use_score_scaling", p.useScoreScaling);
        r.boolean("use_score_norm", p.useScoreNorm);
        r.optionalNumber("score_clip", p.scoreClip, kPositive);
        r.boolean("whiten_rewards", p.whitenRewards);
        bool separateCritic = p.critic == PpoCritic::Separate;
        if (r.boolean("separate_critic", separateCritic))
            p.critic = separateCritic ? PpoCritic::Separate : PpoCritic::None;
        r.choice("critic", p.critic, parsePpoCritic);
        r.number("value_head_dropout", p.valueHeadDropout, kUnitOpen);
        r.integer("max_new_tokens", p.maxNewTokens, 1);
        r.number("temperature", p.temperature, kPositive);
        r.integer("top_k", p.topK, 0);
        r.number("top_p", p.topP, kUnitLeftOpen);
        const std::int64_t backward = p.miniBatchSize * p.gradAccum;
        if (p.batchSize % backward != 0)
            r.fail("batch_size", "must be divisible by mini_batch_size × grad_accum (" +
                                     std::to_string(backward) + "), got " +
                                     std::to_string(p.batchSize));
    });
    top.object("data", [&](ObjectReader &r) {
        r.string("pairs", c.data.pairs);
        readDegrees(r, c.data.degrees);
        r.number("percent", c.data.percent, kUnitLeftOpen);
        r.string("train_ids", c.data.trainIds);
        r.string("eval_ids", c.data.evalIds);
        r.number("eval_fraction", c.data.evalFraction, kUnitOpen);
        if (c.data.trainIds.empty() != c.data.evalIds.empty())
            r.fail(c.data.trainIds.empty() ? "train_ids" : "eval_ids",
                   "give both train_ids and eval_ids, or neither");
        r.named("source", c.data.source, kDataSources);
        r.string("corpus", c.data.corpus);
        r.string("corpus_split", c.data.corpusSplit);
        r.integer("candidates", c.data.candidates, kMinSemiOnlineCandidates);
        r.integer("prompts", c.data.prompts, 0);
        r.number("pose_weight", c.data.poseWeight, kNonNegative);
        if (c.data.candidates > kMaxSemiOnlineCandidates)
            r.fail("candidates", "must be in [" + std::to_string(kMinSemiOnlineCandidates) + ", " +
                                     std::to_string(kMaxSemiOnlineCandidates) + "], got " +
                                     std::to_string(c.data.candidates));
        if (c.data.source == DataSource::SemiOnline) {
            if (method != TrainMethod::Dpo)
                r.fail("source", "semi_online builds DPO pairs; method '" +
                                     std::string(trainMethodName(method)) +
                                     "' trains on labeled pairs");
            if (c.data.corpus.empty())
                r.fail("corpus", "is required when data.source is semi_online (a corpus made by "
                                 "`motionpref-cli corpus build`)");
            if (c.data.corpusSplit.empty())
                r.fail("corpus_split", "must name a split of the corpus (e.g. train)");
            for (const auto &[key, value] :
                 {std::pair{"pairs", &c.data.pairs}, std::pair{"train_ids", &c.data.trainIds},
                  std::pair{"eval_ids", &c.data.evalIds}})
                if (!value->empty())
                    r.fail(key, "is not read when data.source is semi_online (the pairs are "
                                "built from data.corpus)");
        }
    });
    top.object("eval", [&](ObjectReader &r) {
        r.integer("log_every_steps", c.eval.logEverySteps, 1);
        r.integer("eval_every_steps", c.eval.evalEverySteps, 0);
        r.string("best_metric", c.eval.bestMetric);
        r.named("best_mode", c.eval.bestMode, kBestModes);
        r.boolean("motion_metrics", c.eval.motionMetrics);
        r.integer("motion_every_epochs", c.eval.motionEveryEpochs, 1);
        r.integer("replications", c.eval.replications, 1);
        r.string("motion_dataset", c.eval.motionDataset);
        r.string("motion_split", c.eval.motionSplit);
        r.integer("motion_max_clips", c.eval.motionMaxClips, 0);
        r.number("motion_temperature", c.eval.motionTemperature, {.max = 100, .maxExclusive = true},
                 "<= 0: greedy");
        r.string("motion_evaluator", c.eval.motionEvaluator);
        r.integer("motion_mm_texts", c.eval.motionMmTexts, 0);
        if (c.eval.bestMetric.empty())
            r.fail("best_metric", "must name a logged metric");
        if (c.eval.motionMaxClips % kMotionGroupSize != 0)
            r.fail("motion_max_clips",
                   "must be a multiple of " + std::to_string(kMotionGroupSize) +
                       " (the protocol's group size), or 0 for the whole split; got " +
                       std::to_string(c.eval.motionMaxClips));
        if (c.eval.motionSplit.empty())
            r.fail("motion_split", "must name a split file (e.g. val for DATASET/val.txt)");
        if (c.eval.motionMetrics && c.eval.motionDataset.empty())
            r.fail("motion_dataset", "is required when eval.motion_metrics is true (a "
                                     "HumanML3D-layout directory, e.g. the corpus)");
        const std::string prefix = "motion/";
        if (c.eval.bestMetric.rfind(prefix, 0) == 0) {
            const std::string name = c.eval.bestMetric.substr(prefix.size());
            const auto &names = motionMetricNames();
            if (std::find(names.begin(), names.end(), name) == names.end()) {
                std::string known;
                for (const auto &n : names)
                    known += (known.empty() ? "" : ", ") + prefix + n;
                r.fail("best_metric", "unknown HumanML3D metric '" + c.eval.bestMetric +
                                          "' (expected one of " + known + ")");
            }
            if (!c.eval.motionMetrics)
                r.fail("best_metric", "'" + c.eval.bestMetric + "' needs eval.motion_metrics true");
            if (name == "MultiModality" && c.eval.motionMmTexts == 0)
                r.fail("best_metric", "'" + c.eval.bestMetric + "' needs eval.motion_mm_texts > 0");
        }
    });
    top.object("checkpoint", [&](ObjectReader &r) {
        r.integer("every_steps", c.checkpoint.everySteps, 0);
        r.integer("keep_last", c.checkpoint.keepLast, 1);
    });
    top.object("monitor", [&](ObjectReader &r) {
        r.integer("spike_window", c.monitor.spikeWindow, 2);
        r.integer("spike_min_history", c.monitor.spikeMinHistory, 2);
        r.number("spike_threshold", c.monitor.spikeThreshold, kPositive);
        r.number("max_kl", c.monitor.maxKl, kPositive);
    });
    top.finish();
    if (c.method == TrainMethod::Rm && c.eval.motionMetrics)
        top.fail("eval", "motion_metrics evaluates a policy; method 'rm' trains a reward model "
                         "only (use dpo, ppo or rlhf)");
    if (c.method == TrainMethod::Ppo && c.ppo.rewardModel.empty())
        top.fail("ppo", "method 'ppo' needs ppo.reward_model (a reward-model run directory)");
    return c;
}

RunConfig loadRunConfig(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path.string() + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    return parseRunConfig(text.str(), path.string());
}

std::string runConfigToJson(const RunConfig &c)
{
    auto optional = [](const std::optional<double> &v) -> OrderedJson {
        return v ? OrderedJson(*v) : OrderedJson(nullptr);
    };
    OrderedJson j;
    j["method"] = trainMethodName(c.method);
    j["model"] = c.model;
    j["device"] = c.device;
    j["seed"] = c.seed;
    j["epochs"] = c.epochs;
    j["batch_size"] = c.batchSize;
    j["grad_accum"] = c.gradAccum;
    j["max_grad_norm"] = optional(c.maxGradNorm);
    j["optimizer"] = {{"type", optimizerKindName(c.optimizer.kind)},
                      {"lr", c.optimizer.lr},
                      {"beta1", c.optimizer.beta1},
                      {"beta2", c.optimizer.beta2},
                      {"eps", c.optimizer.eps},
                      {"weight_decay", c.optimizer.weightDecay}};
    j["schedule"] = {{"type", scheduleKindName(c.schedule)}, {"warmup_steps", c.warmupSteps}};
    j["lora"] = {{"enabled", c.lora.enabled},
                 {"r", c.lora.r},
                 {"alpha", c.lora.alpha},
                 {"dropout", c.lora.dropout},
                 {"targets", c.lora.targets}};
    j["dpo"] = {{"loss", dpoLossTypeName(c.dpo.loss)},
                {"beta", c.dpo.beta},
                {"label_smoothing_mode", labelSmoothingModeName(c.dpo.labelSmoothingMode)},
                {"label_smoothing", c.dpo.labelSmoothing},
                {"reference_free", c.dpo.referenceFree},
                {"rpo_alpha", c.dpo.rpoAlpha},
                {"precompute_ref_logps", c.dpo.precomputeRefLogps},
                {"disable_dropout", c.dpo.disableDropout},
                {"max_prompt_length", c.dpo.maxPromptLength},
                {"max_target_length", c.dpo.maxTargetLength}};
    j["rm"] = {{"margin", marginScaleName(c.rm.margin)},
               {"use_unsure", c.rm.useUnsure},
               {"neftune_alpha", c.rm.neftuneAlpha},
               {"max_length", c.rm.maxLength}};
    const PpoSettings &p = c.ppo;
    j["ppo"] = {{"reward_model", p.rewardModel},
                {"learning_rate", p.learningRate},
                {"optimizer", optimizerKindName(p.optimizer)},
                {"batch_size", p.batchSize},
                {"mini_batch_size", p.miniBatchSize},
                {"grad_accum", p.gradAccum},
                {"ppo_epochs", p.ppoEpochs},
                {"epochs", p.epochs},
                {"max_grad_norm", optional(p.maxGradNorm)},
                {"adap_kl_ctrl", p.adapKlCtrl},
                {"init_kl_coef", p.initKlCoef},
                {"kl_penalty", klPenaltyName(p.klPenalty)},
                {"target", p.target},
                {"horizon", p.horizon},
                {"gamma", p.gamma},
                {"lam", p.lam},
                {"cliprange", p.cliprange},
                {"cliprange_value", p.cliprangeValue},
                {"vf_coef", p.vfCoef},
                {"ratio_threshold", p.ratioThreshold},
                {"early_stopping", p.earlyStopping},
                {"target_kl", p.targetKl},
                {"use_score_scaling", p.useScoreScaling},
                {"use_score_norm", p.useScoreNorm},
                {"score_clip", optional(p.scoreClip)},
                {"whiten_rewards", p.whitenRewards},
                {"critic", ppoCriticName(p.critic)},
                {"value_head_dropout", p.valueHeadDropout},
                {"max_new_tokens", p.maxNewTokens},
                {"temperature", p.temperature},
                {"top_k", p.topK},
                {"top_p", p.topP}};
    std::vector<std::string> degrees;
    for (PreferenceDegree d : c.data.degrees)
        degrees.emplace_back(degreeKey(d));
    j["data"] = {{"pairs", c.data.pairs},
                 {"degrees", degrees},
                 {"percent", c.data.percent},
                 {"train_ids", c.data.trainIds},
                 {"eval_ids", c.data.evalIds},
                 {"eval_fraction", c.data.evalFraction},
                 {"source", dataSourceName(c.data.source)},
                 {"corpus", c.data.corpus},
                 {"corpus_split", c.data.corpusSplit},
                 {"candidates", c.data.candidates},
                 {"prompts", c.data.prompts},
                 {"pose_weight", c.data.poseWeight}};
    j["eval"] = {{"log_every_steps", c.eval.logEverySteps},
                 {"eval_every_steps", c.eval.evalEverySteps},
                 {"best_metric", c.eval.bestMetric},
                 {"best_mode", nameOf(kBestModes, c.eval.bestMode)},
                 {"motion_metrics", c.eval.motionMetrics},
                 {"motion_every_epochs", c.eval.motionEveryEpochs},
                 {"replications", c.eval.replications},
                 {"motion_dataset", c.eval.motionDataset},
                 {"motion_split", c.eval.motionSplit},
                 {"motion_max_clips", c.eval.motionMaxClips},
                 {"motion_temperature", c.eval.motionTemperature},
                 {"motion_evaluator", c.eval.motionEvaluator},
                 {"motion_mm_texts", c.eval.motionMmTexts}};
    j["checkpoint"] = {{"every_steps", c.checkpoint.everySteps},
                       {"keep_last", c.checkpoint.keepLast}};
    j["monitor"] = {{"spike_window", c.monitor.spikeWindow},
                    {"spike_min_history", c.monitor.spikeMinHistory},
                    {"spike_threshold", c.monitor.spikeThreshold},
                    {"max_kl", c.monitor.maxKl}};
    return j.dump(2) + "\n";
}

void saveRunConfig(const RunConfig &config, const std::filesystem::path &path)
{
    writeFileAtomically(path, runConfigToJson(config));
}

} // namespace mp
