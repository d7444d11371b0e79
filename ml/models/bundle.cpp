#include "ml/models/bundle.h"

#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/data/safetensors.h"
#include "ml/models/eval_mode.h"
#include "ml/models/state_dict.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>

namespace mp {

namespace fs = std::filesystem;

namespace {

const char *const kFormat = "motionpref-bundle";

const char *const kBundleFiles[] = {"config.json", "model.safetensors", "vqvae.safetensors",
                                    "spiece.model", "meta.safetensors"};

nlohmann::json readJson(const fs::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path.filename().string() + ": cannot open");
    try {
        return parseJsonLimited(path.filename().string(), in);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(path.filename().string() + ": not valid JSON: " + e.what());
    }
}

// A directory of another kind (a Hugging Face model, a MotionGPT checkout or checkpoint folder)
// gets a message that says what it is, rather than "missing vqvae.safetensors".
void refuseForeignDirectory(const fs::path &directory)
{
    const std::string expected =
        "not a MotionPref model bundle (config.json with t5/vqvae/tokens sections, "
        "model.safetensors, vqvae.safetensors, spiece.model, meta.safetensors); 'motionpref-cli "
        "import motiongpt' makes one from MotionGPT's checkpoint and flan-t5-base";
    const auto config = directory / "config.json";
    if (fs::is_regular_file(config)) {
        nlohmann::json json;
        try {
            std::ifstream in(config);
            json = parseJsonLimited(config.string(), in);
        } catch (const nlohmann::json::exception &) {
            return; // reported as invalid JSON by the loader
        }
        if (json.is_object() && !json.contains("t5") &&
            (json.contains("model_type") || json.contains("architectures"))) {
            const auto type = json.value("model_type", nlohmann::json("?"));
            throw InputError("config.json is a Hugging Face model config (model_type " +
                             type.dump() + "): " + expected);
        }
        return;
    }
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(directory, ec)) {
        const auto ext = entry.path().extension().string();
        if (ext == ".tar" || ext == ".ckpt" || ext == ".pth" || ext == ".pt" || ext == ".bin")
            throw InputError(entry.path().filename().string() +
                             " is a PyTorch checkpoint: " + expected);
    }
}

double storedValues(const fs::path &file)
{
    const SafetensorsReader reader(file);
    double total = 0.0;
    for (const auto &name : reader.names()) {
        double numel = 1.0;
        for (auto size : reader.entry(name).shape)
            numel *= static_cast<double>(size);
        total += numel;
    }
    return total;
}

// Refuses a config that asks for more parameters than the weights file holds before anything
// is allocated: a corrupt or foreign config could otherwise ask for terabytes.
void checkSizeAgainstFile(double configured, const fs::path &file, const std::string &section)
{
    const auto stored = storedValues(file);
    if (configured > stored)
        throw InputError("config.json: the " + section + " section describes " +
                         std::to_string(static_cast<long long>(configured)) + " parameters but " +
                         file.filename().string() + " holds " +
                         std::to_string(static_cast<long long>(stored)) +
                         " values: config and weights do not match");
}

} // namespace

std::string BundleConfig::prompt(const std::string &caption) const
{
    if (promptTemplate.empty())
        return caption;
    // Every occurrence, as MotionGPT's str.replace does.
    auto text = promptTemplate;
    for (auto at = text.find(promptPlaceholder); at != std::string::npos;
         at = text.find(promptPlaceholder, at + caption.size()))
        text.replace(at, promptPlaceholder.size(), caption);
    return text;
}

nlohmann::json BundleConfig::toJson() const
{
    nlohmann::json json = {
        {"format", kFormat},
        {"version", 1},
        {"description", description},
        {"t5", t5.toJson()},
        {"vqvae", vqvae.toJson()},
        {"tokens", tokens.toJson()},
        {"fps", fps},
        {"num_joints", numJoints},
        {"max_prompt_tokens", maxPromptTokens},
        {"normalization", {{"file", "meta.safetensors"}, {"mean", "mean"}, {"std", "std"}}},
        {"generation",
         {{"temperature", sampling.temperature},
          {"top_k", sampling.topK},
          {"top_p", sampling.topP},
          {"max_motion_tokens", maxMotionTokens}}}};
    if (!promptTemplate.empty())
        json["prompt"] = {{"template", promptTemplate},
                          {"placeholder", promptPlaceholder},
                          {"source", promptSource}};
    return json;
}

BundleConfig BundleConfig::fromJson(const nlohmann::json &json, const std::string &source)
{
    if (!json.is_object())
        throw InputError(source + ": not a JSON object");
    for (const char *key : {"t5", "vqvae", "tokens"})
        if (!json.contains(key))
            throw InputError(source + ": missing section '" + key + "'");
    BundleConfig c;
    c.t5 = T5Config::fromJson(json["t5"], source + " (t5)");
    c.vqvae = VqVaeConfig::fromJson(json["vqvae"], source);
    c.tokens = MotionTokenLayout::fromJson(json["tokens"], source);
    readOptionalKey(json, "fps", c.fps, source);
    readOptionalKey(json, "num_joints", c.numJoints, source);
    readOptionalKey(json, "max_prompt_tokens", c.maxPromptTokens, source);
    readOptionalKey(json, "description", c.description, source);
    if (json.contains("generation")) {
        const auto &g = json["generation"];
        const auto where = source + " (generation)";
        if (!g.is_object())
            throw InputError(where + ": not a JSON object");
        readOptionalKey(g, "temperature", c.sampling.temperature, where);
        readOptionalKey(g, "top_k", c.sampling.topK, where);
        readOptionalKey(g, "top_p", c.sampling.topP, where);
        readOptionalKey(g, "max_motion_tokens", c.maxMotionTokens, where);
    }
    if (json.contains("prompt")) {
        const auto &p = json["prompt"];
        const auto where = source + " (prompt)";
        if (!p.is_object())
            throw InputError(where + ": not a JSON object");
        readOptionalKey(p, "template", c.promptTemplate, where);
        readOptionalKey(p, "placeholder", c.promptPlaceholder, where);
        readOptionalKey(p, "source", c.promptSource, where);
    }
    c.validate(source);
    return c;
}

void BundleConfig::validate(const std::string &source) const
{
    t5.validate(source + " (t5)");
    if (!promptTemplate.empty() &&
        (promptPlaceholder.empty() || promptTemplate.find(promptPlaceholder) == std::string::npos))
        throw InputError(source + ": prompt.template '" + promptTemplate +
                         "' does not contain its placeholder '" + promptPlaceholder + "'");
    if (t5.vocabSize < tokens.vocabSize())
        throw InputError(source + ": t5.vocab_size " + std::to_string(t5.vocabSize) +
                         " does not cover the " + std::to_string(tokens.vocabSize()) +
                         " text and motion tokens");
    if (tokens.numMotionCodes != vqvae.numCodes)
        throw InputError(source + ": tokens.num_motion_codes " +
                         std::to_string(tokens.numMotionCodes) + " differs from vqvae.num_codes " +
                         std::to_string(vqvae.numCodes));
    if (!(fps > 0.0) || !std::isfinite(fps))
        throw InputError(source + ": fps must be positive");
    if (maxPromptTokens < 2 || maxMotionTokens < 1 || maxMotionTokens > kMaxMotionTokensLimit)
        throw InputError(source + ": max_prompt_tokens >= 2 and max_motion_tokens in 1.." +
                         std::to_string(kMaxMotionTokensLimit) + " needed");
    // recoverFromRic reads 263 features as HumanML3D's 22 joints.
    if (numJoints < 1 || (vqvae.inputDim == 263 && numJoints != 22))
        throw InputError(source + ": num_joints " + std::to_string(numJoints) +
                         " does not fit vqvae.input_dim " + std::to_string(vqvae.inputDim));
    try {
        validateSampleOptions(sampling);
    } catch (const InputError &) {
        rethrowWithContext(source + " (generation)");
    }
}

void checkNormalization(const at::Tensor &mean, const at::Tensor &std, std::int64_t inputDim,
                        const std::string &source)
{
    for (const auto &[name, t] : {std::pair{"mean", mean}, std::pair{"std", std}}) {
        if (!t.defined())
            throw InputError(source + ": missing tensor '" + name + "'");
        if (t.dim() != 1 || t.size(0) != inputDim)
            throw InputError(source + ": tensor '" + name + "': expected shape (" +
                             std::to_string(inputDim) + "), got " + shapeString(t));
        if (!torch::isfinite(t).all().item<bool>())
            throw InputError(source + ": tensor '" + name + "' has NaN or infinite values");
    }
    if (!(std > 0).all().item<bool>())
        throw InputError(source + ": tensor 'std' has zero or negative entries");
}

ModelBundle::ModelBundle(const fs::path &directory, const c10::Device &device)
    : m_directory(directory)
{
    if (!fs::is_directory(directory))
        throw InputError(directory.string() + ": not a model bundle directory");
    // Every message names the bundle, then the file: "BUNDLE: model.safetensors: tensor ...".
    try {
        load(device);
    } catch (...) {
        rethrowWithContext(directory.string());
    }
}

void ModelBundle::load(const c10::Device &device)
{
    const auto &directory = m_directory;
    refuseForeignDirectory(directory);
    for (const char *name : kBundleFiles)
        if (!fs::is_regular_file(directory / name))
            throw InputError(std::string(name) +
                             ": missing (every bundle needs config.json, model.safetensors, "
                             "vqvae.safetensors, spiece.model, meta.safetensors)");
    m_config = BundleConfig::fromJson(readJson(directory / "config.json"), "config.json");
    m_spmModel = directory / "spiece.model";
    m_tokenizer = std::make_unique<Tokenizer>(m_spmModel, m_config.tokens);

    checkSizeAgainstFile(m_config.t5.numParameters(), directory / "model.safetensors", "t5");
    checkSizeAgainstFile(m_config.vqvae.numParameters(), directory / "vqvae.safetensors", "vqvae");
    m_t5 = T5Model(m_config.t5);
    m_t5->loadWeights(directory / "model.safetensors");
    m_config.t5 = m_t5->config(); // an HF 5 "tied" config may have been untied by the weights
    m_vqvae = VqVae(m_config.vqvae);
    m_vqvae->loadWeights(directory / "vqvae.safetensors");

    SafetensorsReader meta(directory / "meta.safetensors");
    for (const char *name : {"mean", "std"})
        if (!meta.contains(name))
            throw InputError("meta.safetensors: missing tensor '" + std::string(name) + "'");
    m_mean = meta.tensor("mean").to(torch::kFloat);
    m_std = meta.tensor("std").to(torch::kFloat);
    checkNormalization(m_mean, m_std, m_config.vqvae.inputDim, "meta.safetensors");

    m_t5->to(device);
    m_vqvae->to(device);
    m_t5->eval();
    m_vqvae->eval();
}

ModelBundle::ModelBundle(const BundleConfig &config, T5Model t5, VqVae vqvae,
                         const fs::path &spmModel, const at::Tensor &mean, const at::Tensor &std)
    : m_config(config), m_spmModel(spmModel), m_t5(std::move(t5)), m_vqvae(std::move(vqvae)),
      m_mean(mean.detach().to(torch::kCPU, torch::kFloat)),
      m_std(std.detach().to(torch::kCPU, torch::kFloat))
{
    m_config.validate("bundle config");
    checkNormalization(m_mean, m_std, m_config.vqvae.inputDim, "normalization");
    m_tokenizer = std::make_unique<Tokenizer>(spmModel, m_config.tokens);
}

ModelBundle::~ModelBundle() = default;

c10::Device ModelBundle::device() const
{
    return m_t5->shared->weight.device();
}

GenerateOptions ModelBundle::defaultOptions(const std::vector<std::uint64_t> &seeds) const
{
    return {.sampling = m_config.sampling,
            .seeds = seeds,
            .maxMotionTokens = m_config.maxMotionTokens,
            .useCache = true};
}

std::vector<std::int64_t> ModelBundle::encodePrompt(const std::string &prompt) const
{
    if (std::all_of(prompt.begin(), prompt.end(),
                    [](unsigned char ch) { return std::isspace(ch) != 0; }))
        throw InputError("the prompt is empty");
    return m_tokenizer->encodeText(m_config.prompt(prompt), m_config.maxPromptTokens);
}

std::vector<MotionSample> ModelBundle::generate(const std::string &prompt,
                                                const GenerateOptions &options,
                                                const ProgressFn &progress)
{
    return generateBatch(
        std::vector<std::string>(std::max<std::size_t>(1, options.seeds.size()), prompt), options,
        progress);
}

std::vector<MotionSample> ModelBundle::generateBatch(const std::vector<std::string> &prompts,
                                                     const GenerateOptions &options,
                                                     const ProgressFn &progress, bool withJoints)
{
    std::vector<std::vector<std::int64_t>> ids;
    std::map<std::string, std::size_t> encodedAt; // a caption repeated is tokenized once
    for (const auto &prompt : prompts) {
        const auto [it, added] = encodedAt.emplace(prompt, ids.size());
        ids.push_back(added ? encodePrompt(prompt) : ids[it->second]);
    }
    const std::vector<std::int64_t> stops = {m_config.tokens.eomId(), m_tokenizer->eosId()};
    const auto generated = generateTokensBatch(m_t5, ids, stops, options, progress);
    std::vector<MotionSample> samples;
    std::vector<std::vector<std::int64_t>> codes;
    for (std::size_t i = 0; i < generated.sequences.size(); ++i) {
        MotionSample sample;
        sample.seed = options.seeds[i];
        sample.tokens = generated.sequences[i];
        const auto decoded = m_tokenizer->decodeMotion(sample.tokens);
        sample.codes = decoded.codes;
        sample.degenerate = decoded.degenerate();
        codes.push_back(sample.degenerate ? std::vector<std::int64_t>{} : sample.codes);
        samples.push_back(std::move(sample));
    }
    auto features = decodeCodesBatch(codes);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        samples[i].features = std::move(features[i]);
        if (withJoints && m_config.vqvae.inputDim == 263)
            samples[i].joints = recoverFromRic(samples[i].features);
    }
    return samples;
}

at::Tensor ModelBundle::decodeCodes(const std::vector<std::int64_t> &codes)
{
    return decodeCodesBatch({codes}).front();
}

std::vector<at::Tensor>
ModelBundle::decodeCodesBatch(const std::vector<std::vector<std::int64_t>> &codes)
{
    std::vector<at::Tensor> out(codes.size());
    // Code count -> the lists of that length (the VQ-VAE's convolutions see each motion's own
    // frames only when a batch has no padding).
    std::map<std::size_t, std::vector<std::size_t>> byLength;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        if (codes[i].size() <= 1) {
            const auto zeros =
                torch::zeros({m_config.vqvae.downsampling(), m_config.vqvae.inputDim});
            out[i] = denormalize(zeros);
        } else {
            byLength[codes[i].size()].push_back(i);
        }
    }
    if (byLength.empty())
        return out;
    torch::NoGradGuard noGrad;
    EvalModeScope evalMode(*m_vqvae);
    for (const auto &[length, members] : byLength) {
        auto batch = torch::empty(
            {static_cast<std::int64_t>(members.size()), static_cast<std::int64_t>(length)},
            torch::kLong);
        auto rows = batch.accessor<std::int64_t, 2>();
        for (std::size_t r = 0; r < members.size(); ++r)
            for (std::size_t j = 0; j < length; ++j)
                rows[static_cast<std::int64_t>(r)][static_cast<std::int64_t>(j)] =
                    codes[members[r]][j];
        batch = batch.clamp(0, m_config.vqvae.numCodes - 1);
        const auto features = m_vqvae->decode(batch.to(device())).to(torch::kCPU);
        for (std::size_t r = 0; r < members.size(); ++r)
            out[members[r]] = denormalize(features[static_cast<std::int64_t>(r)]);
    }
    return out;
}

at::Tensor ModelBundle::normalize(const at::Tensor &features) const
{
    return (features - m_mean.to(features.device())) / m_std.to(features.device());
}

at::Tensor ModelBundle::denormalize(const at::Tensor &features) const
{
    return features * m_std.to(features.device()) + m_mean.to(features.device());
}

void ModelBundle::save(const fs::path &directory) const
{
    std::error_code ec;
    fs::create_directories(directory, ec);
    if (ec)
        throw InputError(directory.string() + ": cannot create: " + ec.message());
    {
        const auto tmp = directory / "config.json.tmp";
        std::ofstream out(tmp);
        out << m_config.toJson().dump(2) << "\n";
        if (!out)
            throw InputError((directory / "config.json").string() + ": cannot write");
        out.close();
        fs::rename(tmp, directory / "config.json");
    }
    m_t5->saveWeights(directory / "model.safetensors");
    m_vqvae->saveWeights(directory / "vqvae.safetensors");
    writeSafetensors(directory / "meta.safetensors", {{"mean", m_mean}, {"std", m_std}});
    const auto target = directory / "spiece.model";
    if (fs::exists(target) && fs::equivalent(m_spmModel, target))
        return;
    fs::copy_file(m_spmModel, target, fs::copy_options::overwrite_existing, ec);
    if (ec)
        throw InputError(target.string() +
                         ": cannot copy the SentencePiece model: " + ec.message());
}

} // namespace mp
