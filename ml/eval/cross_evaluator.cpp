#include "ml/eval/cross_evaluator.h"

#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/core/paths.h"
#include "ml/data/safetensors.h"
#include "ml/eval/evaluator.h"
#include "ml/models/sentencepiece.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

namespace mp {
namespace {

constexpr double kMaxLogitScale = 100.0;
constexpr double kInitialTemperature = 0.07; // CLIP's
constexpr double kMinInputStd = 1e-4;        // channels that never vary (root x, z) stay finite

torch::nn::GRU oneWayGru(std::int64_t in, std::int64_t hidden)
{
    return torch::nn::GRU(torch::nn::GRUOptions(in, hidden).batch_first(true));
}

torch::nn::Conv1d halvingConv(std::int64_t in, std::int64_t out)
{
    return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 5).stride(2).padding(2));
}

// The last GRU state of each sequence, reading only its own steps: (B, H).
at::Tensor lastState(torch::nn::GRU &gru, const at::Tensor &inputs, const at::Tensor &lengths)
{
    const auto cpuLengths = lengths.to(torch::kCPU, torch::kLong);
    if (cpuLengths.numel() != inputs.size(0))
        throw std::invalid_argument("cross evaluator: lengths do not match the batch");
    if (inputs.size(0) > 0 && (cpuLengths.min().item<std::int64_t>() < 1 ||
                               cpuLengths.max().item<std::int64_t>() > inputs.size(1)))
        throw std::invalid_argument("cross evaluator: a sequence length is outside 1.." +
                                    std::to_string(inputs.size(1)));
    const auto pack = torch::nn::utils::rnn::pack_padded_sequence(inputs, cpuLengths, true, false);
    return std::get<1>(gru->forward_with_packed_input(pack))[0];
}

// (B, T) mask of the first lengths[b] steps, as (B, 1, T) for channel-first activations.
at::Tensor stepMask(const at::Tensor &lengths, std::int64_t steps, const at::Device &device)
{
    const auto t = torch::arange(steps, torch::TensorOptions(torch::kLong).device(device));
    return (t.unsqueeze(0) < lengths.to(device).unsqueeze(1)).unsqueeze(1).to(torch::kFloat32);
}

at::Tensor halved(const at::Tensor &lengths)
{
    return torch::div(lengths + 1, 2, "floor");
}

} // namespace

std::string crossEvaluatorConfigToJson(const CrossEvaluatorConfig &c)
{
    return nlohmann::json{{"vocab_size", c.vocabSize},
                          {"dim_piece", c.dimPiece},
                          {"dim_text", c.dimText},
                          {"dim_motion", c.dimMotion},
                          {"dim_embedding", c.dimEmbedding},
                          {"max_pieces", c.maxPieces},
                          {"motion_input", kCrossMotionInput}}
        .dump();
}

CrossEvaluatorConfig crossEvaluatorConfigFromJson(const std::string &text,
                                                  const std::string &source)
{
    const auto j = parseJsonLimited(source, text);
    if (!j.is_object())
        throw InputError(source + ": the cross-evaluator config must be a JSON object");
    CrossEvaluatorConfig c;
    const auto get = [&](const char *key, std::int64_t &field) {
        if (!j.contains(key))
            throw InputError(source + ": missing key '" + key + "'");
        if (!j.at(key).is_number_integer() || j.at(key).get<std::int64_t>() < 1 ||
            j.at(key).get<std::int64_t>() > 1000000)
            throw InputError(source + ": key '" + key +
                             "' must be an integer in [1, 1000000], got " + jsonExcerpt(j.at(key)));
        field = j.at(key).get<std::int64_t>();
    };
    get("vocab_size", c.vocabSize);
    get("dim_piece", c.dimPiece);
    get("dim_text", c.dimText);
    get("dim_motion", c.dimMotion);
    get("dim_embedding", c.dimEmbedding);
    get("max_pieces", c.maxPieces);
    std::int64_t input = 0;
    get("motion_input", input);
    if (input != kCrossMotionInput)
        throw InputError(source + ": motion_input must be " + std::to_string(kCrossMotionInput) +
                         ", got " + std::to_string(input));
    return c;
}

at::Tensor crossMotionInput(const at::Tensor &features)
{
    if (features.dim() != 2 || features.size(1) != kFeatureDim || features.size(0) < 1)
        throw std::invalid_argument("cross evaluator: motion input needs (T>=1, 263) features");
    const auto joints = recoverFromRic(features.to(torch::kCPU, torch::kFloat32));
    auto relative = joints.clone();
    const auto root = joints.select(1, 0); // (T, 3)
    relative.select(2, 0).sub_(root.select(1, 0).unsqueeze(1));
    relative.select(2, 2).sub_(root.select(1, 2).unsqueeze(1));
    auto velocity = torch::zeros_like(joints);
    if (joints.size(0) > 1)
        velocity.slice(0, 1).copy_(joints.slice(0, 1) - joints.slice(0, 0, -1));
    const auto frames = joints.size(0);
    return torch::cat({relative.reshape({frames, -1}), velocity.reshape({frames, -1})}, 1);
}

std::vector<std::int64_t> crossCaptionPieces(const SentencePieceModel &tokenizer,
                                             const std::string &caption, std::int64_t maxPieces)
{
    auto ids = tokenizer.encode(caption);
    if (static_cast<std::int64_t>(ids.size()) > maxPieces)
        ids.resize(static_cast<std::size_t>(maxPieces));
    if (ids.empty())
        ids.push_back(std::max<std::int64_t>(tokenizer.unkId(), 0));
    return ids;
}

std::pair<at::Tensor, at::Tensor>
crossPieceBatch(const std::vector<std::vector<std::int64_t>> &pieces)
{
    std::int64_t longest = 1;
    for (const auto &p : pieces)
        longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(p.size()));
    auto ids = torch::zeros({static_cast<std::int64_t>(pieces.size()), longest}, torch::kLong);
    std::vector<std::int64_t> lengths;
    for (std::size_t k = 0; k < pieces.size(); ++k) {
        const auto n = static_cast<std::int64_t>(pieces[k].size());
        ids[static_cast<std::int64_t>(k)].slice(0, 0, n).copy_(torch::tensor(pieces[k]));
        lengths.push_back(n);
    }
    return {ids, torch::tensor(lengths, torch::kLong)};
}

CrossEvaluatorImpl::CrossEvaluatorImpl(const CrossEvaluatorConfig &config) : m_config(config)
{
    if (config.vocabSize < 1)
        throw std::invalid_argument("cross evaluator: the vocabulary is empty");
    piece_emb =
        register_module("piece_emb", torch::nn::Embedding(config.vocabSize, config.dimPiece));
    text_gru = register_module("text_gru", oneWayGru(config.dimPiece, config.dimText));
    text_out = register_module("text_out", torch::nn::Linear(config.dimText, config.dimEmbedding));
    conv1 = register_module("conv1", halvingConv(kCrossMotionInput, config.dimMotion));
    conv2 = register_module("conv2", halvingConv(config.dimMotion, config.dimMotion));
    motion_gru = register_module("motion_gru", oneWayGru(config.dimMotion, config.dimMotion));
    motion_out =
        register_module("motion_out", torch::nn::Linear(config.dimMotion, config.dimEmbedding));
    logit_scale =
        register_parameter("logit_scale", torch::full({1}, std::log(1.0 / kInitialTemperature)));
    input_mean = register_buffer("input_mean", torch::zeros({kCrossMotionInput}));
    input_std = register_buffer("input_std", torch::ones({kCrossMotionInput}));
}

at::Tensor CrossEvaluatorImpl::encodeText(const at::Tensor &ids, const at::Tensor &lengths)
{
    const auto states = lastState(text_gru, piece_emb(ids), lengths);
    return torch::nn::functional::normalize(text_out(states),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
}

at::Tensor CrossEvaluatorImpl::encodeMotion(const at::Tensor &input, const at::Tensor &lengths)
{
    // Each convolution's outputs past a motion's own length are zeroed, so the next one sees
    // what its zero padding would give a motion alone in its batch.
    const auto device = input.device();
    const auto lengths1 = halved(lengths);
    const auto lengths2 = halved(lengths1);
    auto x = input.permute({0, 2, 1}); // (B, C, T)
    x = torch::relu(conv1(x));
    x = x * stepMask(lengths1, x.size(2), device);
    x = torch::relu(conv2(x));
    x = x * stepMask(lengths2, x.size(2), device);
    const auto states = lastState(motion_gru, x.permute({0, 2, 1}), lengths2);
    return torch::nn::functional::normalize(motion_out(states),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
}

at::Tensor CrossEvaluatorImpl::temperatureScale() const
{
    return logit_scale.exp().clamp_max(kMaxLogitScale);
}

at::Tensor symmetricInfoNce(const at::Tensor &text, const at::Tensor &motion,
                            const at::Tensor &scale)
{
    const auto logits = scale * torch::matmul(text, motion.t());
    const auto target =
        torch::arange(text.size(0), torch::TensorOptions(torch::kLong).device(text.device()));
    return 0.5 * (torch::nn::functional::cross_entropy(logits, target) +
                  torch::nn::functional::cross_entropy(logits.t(), target));
}

std::map<std::string, at::Tensor> crossEvaluatorStateDict(CrossEvaluatorImpl &model)
{
    std::map<std::string, at::Tensor> out;
    for (const auto &item : model.named_parameters())
        out[item.key()] = item.value();
    for (const auto &item : model.named_buffers())
        out[item.key()] = item.value();
    return out;
}

void saveCrossEvaluator(const std::filesystem::path &dir, CrossEvaluatorImpl &model,
                        const std::filesystem::path &tokenizerFile, const std::string &summaryJson)
{
    std::filesystem::create_directories(dir);
    const auto tokenizerCopy = dir / "spiece.model";
    std::error_code ec;
    if (!std::filesystem::equivalent(tokenizerFile, tokenizerCopy, ec)) {
        std::filesystem::copy_file(tokenizerFile, tokenizerCopy,
                                   std::filesystem::copy_options::overwrite_existing, ec);
        if (ec)
            throw InputError(tokenizerCopy.string() + ": cannot copy the tokenizer from " +
                             tokenizerFile.string() + ": " + ec.message());
    }
    TensorMap tensors;
    for (const auto &[name, tensor] : crossEvaluatorStateDict(model))
        tensors.emplace(name, tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous());
    writeSafetensors(dir / "cross_evaluator.safetensors", tensors, {{"format", "pt"}});
    const auto path = dir / "cross_evaluator.json";
    nlohmann::json j = {
        {"config", nlohmann::json::parse(crossEvaluatorConfigToJson(model.config()))},
        {"training", nlohmann::json::parse(summaryJson)}};
    writeFileAtomically(path, j.dump(2) + "\n");
}

LoadedCrossEvaluator loadCrossEvaluator(const std::filesystem::path &dir)
{
    const auto configPath = dir / "cross_evaluator.json";
    std::ifstream in(configPath);
    if (!in)
        throw InputError(configPath.string() + ": cannot open the cross-evaluator configuration");
    std::stringstream text;
    text << in.rdbuf();
    const auto j = parseJsonLimited(configPath.string(), text.str());
    if (!j.is_object() || !j.contains("config"))
        throw InputError(configPath.string() + ": missing key 'config'");
    const auto config = crossEvaluatorConfigFromJson(j["config"].dump(), configPath.string());

    LoadedCrossEvaluator loaded;
    loaded.tokenizer = std::make_shared<SentencePieceModel>(dir / "spiece.model");
    if (loaded.tokenizer->size() != config.vocabSize)
        throw InputError((dir / "spiece.model").string() + ": " +
                         std::to_string(loaded.tokenizer->size()) + " pieces, " +
                         configPath.string() + " says " + std::to_string(config.vocabSize));
    loaded.summaryJson = j.contains("training") ? j["training"].dump() : "{}";
    loaded.model = CrossEvaluator(config);
    const auto weightsPath = dir / "cross_evaluator.safetensors";
    copyNamedTensors(crossEvaluatorStateDict(*loaded.model), readSafetensors(weightsPath),
                     weightsPath.string());
    loaded.model->eval();
    return loaded;
}

std::filesystem::path resolveCrossCheckDir(const std::filesystem::path &given)
{
    const auto dir = given == "default" ? defaultModelDir() / "cross_evaluator" : given;
    if (!std::filesystem::exists(dir / "cross_evaluator.json"))
        throw InputError(dir.string() +
                         ": no cross evaluator here (cross_evaluator.json is missing); train one "
                         "with `motionpref-cli eval train-cross-evaluator`");
    return dir;
}

at::Tensor crossMotionBatch(const CrossEvaluatorImpl &model, const std::vector<at::Tensor> &inputs,
                            const std::vector<std::int64_t> &lengths)
{
    const auto frames = *std::max_element(lengths.begin(), lengths.end());
    auto buffer =
        torch::zeros({static_cast<std::int64_t>(inputs.size()), frames, kCrossMotionInput});
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto n = std::min(lengths[i], inputs[i].size(0));
        if (n > 0)
            buffer[static_cast<std::int64_t>(i)].slice(0, 0, n).copy_(
                (inputs[i].slice(0, 0, n) - model.input_mean) / model.input_std);
    }
    return buffer;
}

CrossEvaluatorEmbedder::CrossEvaluatorEmbedder(LoadedCrossEvaluator loaded, int batchSize)
    : m_loaded(std::move(loaded)), m_batchSize(std::max(1, batchSize))
{
    m_loaded.model->eval();
}

at::Tensor CrossEvaluatorEmbedder::texts(const std::vector<std::string> &captions)
{
    torch::NoGradGuard noGrad;
    auto &model = *m_loaded.model;
    std::vector<at::Tensor> out;
    for (std::size_t begin = 0; begin < captions.size(); begin += std::size_t(m_batchSize)) {
        const auto end = std::min(captions.size(), begin + std::size_t(m_batchSize));
        std::vector<std::vector<std::int64_t>> pieces;
        for (std::size_t i = begin; i < end; ++i)
            pieces.push_back(
                crossCaptionPieces(*m_loaded.tokenizer, captions[i], model.config().maxPieces));
        const auto [ids, lengths] = crossPieceBatch(pieces);
        out.push_back(model.encodeText(ids, lengths));
    }
    if (out.empty())
        return torch::zeros({0, model.config().dimEmbedding});
    return torch::cat(out);
}

at::Tensor CrossEvaluatorEmbedder::motions(const std::vector<at::Tensor> &features,
                                           const std::vector<std::int64_t> &lengths)
{
    torch::NoGradGuard noGrad;
    auto &model = *m_loaded.model;
    if (features.size() != lengths.size())
        throw std::invalid_argument("cross evaluator: motions and lengths differ in number");
    std::vector<std::int64_t> order(features.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](auto a, auto b) { return lengths[a] < lengths[b]; });
    auto out =
        torch::zeros({static_cast<std::int64_t>(features.size()), model.config().dimEmbedding});
    for (std::size_t begin = 0; begin < order.size(); begin += std::size_t(m_batchSize)) {
        const auto end = std::min(order.size(), begin + std::size_t(m_batchSize));
        std::vector<at::Tensor> inputs;
        std::vector<std::int64_t> partLengths;
        for (std::size_t k = begin; k < end; ++k) {
            const auto &f = features[order[k]];
            const auto length = std::max<std::int64_t>(1, lengths[order[k]]);
            const auto n = std::min(length, f.dim() == 2 ? f.size(0) : 0);
            // An empty generated motion reads as a still pose at the origin (zero features).
            inputs.push_back(n > 0 ? crossMotionInput(f.slice(0, 0, n))
                                   : crossMotionInput(torch::zeros({1, kFeatureDim})));
            partLengths.push_back(length);
        }
        const auto embedded = model.encodeMotion(crossMotionBatch(model, inputs, partLengths),
                                                 torch::tensor(partLengths, torch::kLong));
        const std::vector<std::int64_t> rowsOut(order.begin() + std::ptrdiff_t(begin),
                                                order.begin() + std::ptrdiff_t(end));
        out.index_copy_(0, torch::tensor(rowsOut, torch::kLong), embedded);
    }
    return out;
}

} // namespace mp
