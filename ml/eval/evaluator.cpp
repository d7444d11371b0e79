#include "ml/eval/evaluator.h"

#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/data/safetensors.h"
#include "ml/models/gru_inference.h"

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mp {
namespace {

// T2M's LeakyReLU slope and dropout rate.
constexpr double kLeakySlope = 0.2;
constexpr double kMovementDropout = 0.2;

// T2M's init_weight: Xavier-normal weights, zero biases.
void initLinear(torch::nn::Module &module)
{
    for (auto &p : module.named_parameters(true)) {
        if (p.key().find("weight") != std::string::npos && p.value().dim() >= 2)
            torch::nn::init::xavier_normal_(p.value());
        else if (p.key().find("bias") != std::string::npos)
            torch::nn::init::zeros_(p.value());
    }
}

torch::nn::Sequential coembHead(std::int64_t in, std::int64_t hidden, std::int64_t out)
{
    torch::nn::Sequential head(
        torch::nn::Linear(in, hidden), torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})),
        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope)),
        torch::nn::Linear(hidden, out));
    // Only the Linear layers get Xavier; LayerNorm keeps weight 1, bias 0.
    initLinear(*head[0]);
    initLinear(*head[3]);
    return head;
}

torch::nn::GRU biGru(std::int64_t size)
{
    return torch::nn::GRU(torch::nn::GRUOptions(size, size).batch_first(true).bidirectional(true));
}

// The final hidden states of both directions, concatenated: (B, 2H).
at::Tensor runBiGru(torch::nn::GRU &gru, const at::Tensor &hidden, const at::Tensor &inputs,
                    const at::Tensor &lengths, bool packed)
{
    const auto batch = inputs.size(0);
    const auto h0 = hidden.repeat({1, batch, 1}).contiguous();
    at::Tensor last;
    if (packed) {
        const auto cpuLengths = lengths.to(torch::kCPU, torch::kLong);
        if (cpuLengths.numel() != batch)
            throw std::invalid_argument("evaluator: lengths do not match the batch");
        if (batch > 0 && (cpuLengths.min().item<std::int64_t>() < 1 ||
                          cpuLengths.max().item<std::int64_t>() > inputs.size(1)))
            throw std::invalid_argument("evaluator: a sequence length is outside 1.." +
                                        std::to_string(inputs.size(1)));
    }
    // Embedding (no gradient, float32 CPU): the GRU without OpenBLAS packing the recurrent weight
    // at every step (ml/models/gru_inference.h); training and other devices take LibTorch's.
    if (canUseInferenceGru(*gru, inputs, h0)) {
        const auto steps = packed ? lengths : torch::full({batch}, inputs.size(1), torch::kLong);
        last = inferenceGruLastHidden(*gru, inputs, steps, h0);
    } else if (packed) {
        const auto cpuLengths = lengths.to(torch::kCPU, torch::kLong);
        const auto pack = torch::nn::utils::rnn::pack_padded_sequence(inputs, cpuLengths,
                                                                      /*batch_first=*/true,
                                                                      /*enforce_sorted=*/false);
        last = std::get<1>(gru->forward_with_packed_input(pack, h0));
    } else {
        last = std::get<1>(gru->forward(inputs, h0));
    }
    return torch::cat({last[0], last[1]}, -1);
}

} // namespace

EvaluatorConfig EvaluatorConfig::t2m(std::int64_t vocabSize)
{
    EvaluatorConfig config;
    config.vocabSize = vocabSize;
    config.learnedWordVectors = false;
    return config;
}

EvaluatorConfig EvaluatorConfig::small(std::int64_t vocabSize)
{
    EvaluatorConfig config;
    config.vocabSize = vocabSize;
    config.dimWord = 128;
    config.dimTextHidden = 256;
    config.dimCoemb = 256;
    config.dimMovementHidden = 256;
    config.dimMovementLatent = 256;
    config.dimMotionHidden = 256;
    return config;
}

std::string evaluatorConfigToJson(const EvaluatorConfig &c)
{
    nlohmann::json j = {{"vocab_size", c.vocabSize},
                        {"dim_word", c.dimWord},
                        {"dim_pos_ohot", c.dimPosOneHot},
                        {"dim_text_hidden", c.dimTextHidden},
                        {"dim_coemb_hidden", c.dimCoemb},
                        {"dim_motion_input", c.dimMotionInput},
                        {"dim_movement_enc_hidden", c.dimMovementHidden},
                        {"dim_movement_latent", c.dimMovementLatent},
                        {"dim_motion_hidden", c.dimMotionHidden},
                        {"unit_length", c.unitLength},
                        {"pack_motion", c.packMotion},
                        {"learned_word_vectors", c.learnedWordVectors},
                        {"vip_lists", c.vipLists == VipLists::T2m ? "t2m" : "project"}};
    return j.dump(2);
}

EvaluatorConfig evaluatorConfigFromJson(const std::string &text, const std::string &source)
{
    nlohmann::json j;
    try {
        j = parseJsonLimited(source, text);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(source + ": not valid JSON: " + e.what());
    }
    EvaluatorConfig c;
    auto get = [&](const char *key, auto &field) {
        if (!j.contains(key))
            throw InputError(source + ": missing key '" + key + "'");
        try {
            field = j.at(key).get<std::remove_reference_t<decltype(field)>>();
        } catch (const nlohmann::json::exception &) {
            throw InputError(source + ": key '" + key + "' has the wrong type");
        }
    };
    get("vocab_size", c.vocabSize);
    get("dim_word", c.dimWord);
    get("dim_pos_ohot", c.dimPosOneHot);
    get("dim_text_hidden", c.dimTextHidden);
    get("dim_coemb_hidden", c.dimCoemb);
    get("dim_motion_input", c.dimMotionInput);
    get("dim_movement_enc_hidden", c.dimMovementHidden);
    get("dim_movement_latent", c.dimMovementLatent);
    get("dim_motion_hidden", c.dimMotionHidden);
    get("unit_length", c.unitLength);
    get("pack_motion", c.packMotion);
    get("learned_word_vectors", c.learnedWordVectors);
    if (j.contains("vip_lists")) {
        std::string lists;
        get("vip_lists", lists);
        if (lists != "t2m" && lists != "project")
            throw InputError(source + ": vip_lists must be \"t2m\" or \"project\", got \"" + lists +
                             "\"");
        c.vipLists = lists == "t2m" ? VipLists::T2m : VipLists::Project;
    }
    if (c.vocabSize < 3 || c.dimWord < 1 || c.dimCoemb < 1 || c.unitLength != 4)
        throw InputError(source + ": implausible evaluator dimensions");
    return c;
}

TextEncoderBiGRUCoImpl::TextEncoderBiGRUCoImpl(std::int64_t wordSize, std::int64_t posSize,
                                               std::int64_t hiddenSize, std::int64_t outputSize)
{
    pos_emb = register_module("pos_emb", torch::nn::Linear(posSize, wordSize));
    input_emb = register_module("input_emb", torch::nn::Linear(wordSize, hiddenSize));
    gru = register_module("gru", biGru(hiddenSize));
    output_net = register_module("output_net", coembHead(hiddenSize * 2, hiddenSize, outputSize));
    hidden = register_parameter("hidden", torch::randn({2, 1, hiddenSize}));
    initLinear(*pos_emb);
    initLinear(*input_emb);
}

at::Tensor TextEncoderBiGRUCoImpl::forward(const at::Tensor &wordEmbs, const at::Tensor &posOneHot,
                                           const at::Tensor &lengths)
{
    const auto inputs = input_emb(wordEmbs + pos_emb(posOneHot));
    return output_net->forward(runBiGru(gru, hidden, inputs, lengths, /*packed=*/true));
}

MovementConvEncoderImpl::MovementConvEncoderImpl(std::int64_t inputSize, std::int64_t hiddenSize,
                                                 std::int64_t outputSize)
{
    auto conv = [](std::int64_t in, std::int64_t out) {
        return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 4).stride(2).padding(1));
    };
    auto leaky = [] {
        return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope));
    };
    main = register_module(
        "main", torch::nn::Sequential(
                    conv(inputSize, hiddenSize), torch::nn::Dropout(kMovementDropout), leaky(),
                    conv(hiddenSize, outputSize), torch::nn::Dropout(kMovementDropout), leaky()));
    out_net = register_module("out_net", torch::nn::Linear(outputSize, outputSize));
    initLinear(*main);
    initLinear(*out_net);
}

at::Tensor MovementConvEncoderImpl::forward(const at::Tensor &features)
{
    return out_net(main->forward(features.permute({0, 2, 1})).permute({0, 2, 1}));
}

MotionEncoderBiGRUCoImpl::MotionEncoderBiGRUCoImpl(std::int64_t inputSize, std::int64_t hiddenSize,
                                                   std::int64_t outputSize)
{
    input_emb = register_module("input_emb", torch::nn::Linear(inputSize, hiddenSize));
    gru = register_module("gru", biGru(hiddenSize));
    output_net = register_module("output_net", coembHead(hiddenSize * 2, hiddenSize, outputSize));
    hidden = register_parameter("hidden", torch::randn({2, 1, hiddenSize}));
    initLinear(*input_emb);
}

at::Tensor MotionEncoderBiGRUCoImpl::forward(const at::Tensor &movements, const at::Tensor &lengths,
                                             bool packed)
{
    const auto inputs = input_emb(movements);
    return output_net->forward(runBiGru(gru, hidden, inputs, lengths, packed));
}

TextMotionEvaluatorImpl::TextMotionEvaluatorImpl(const EvaluatorConfig &config) : m_config(config)
{
    word_emb = register_module("word_emb", torch::nn::Embedding(config.vocabSize, config.dimWord));
    text_encoder =
        register_module("text_encoder", TextEncoderBiGRUCo(config.dimWord, config.dimPosOneHot,
                                                           config.dimTextHidden, config.dimCoemb));
    movement_encoder = register_module(
        "movement_encoder", MovementConvEncoder(config.dimMotionInput, config.dimMovementHidden,
                                                config.dimMovementLatent));
    motion_encoder = register_module(
        "motion_encoder",
        MotionEncoderBiGRUCo(config.dimMovementLatent, config.dimMotionHidden, config.dimCoemb));
    // Small random word vectors, the scale GloVe's have; frozen when they hold GloVe.
    torch::NoGradGuard noGrad;
    word_emb->weight.normal_(0.0, 0.3);
    word_emb->weight.set_requires_grad(config.learnedWordVectors);
}

void TextMotionEvaluatorImpl::setWordVectors(const at::Tensor &vectors)
{
    if (vectors.dim() != 2 || vectors.size(0) != m_config.vocabSize ||
        vectors.size(1) != m_config.dimWord)
        throw InputError("word vectors: expected (" + std::to_string(m_config.vocabSize) + ", " +
                         std::to_string(m_config.dimWord) + ")");
    torch::NoGradGuard noGrad;
    word_emb->weight.copy_(vectors);
    word_emb->weight.set_requires_grad(false);
    m_config.learnedWordVectors = false;
}

at::Tensor TextMotionEvaluatorImpl::encodeText(const TextBatch &batch)
{
    const auto device = word_emb->weight.device();
    const auto words = word_emb(batch.wordIds.to(device));
    return text_encoder(words, batch.posOneHot.to(device), batch.lengths);
}

at::Tensor
TextMotionEvaluatorImpl::encodeCaptions(const std::vector<std::vector<TaggedWord>> &captions,
                                        const WordVocabulary &vocabulary)
{
    std::vector<EncodedText> encoded;
    encoded.reserve(captions.size());
    for (const auto &caption : captions)
        encoded.push_back(mp::encodeText(caption, vocabulary, m_config.vipLists));
    return encodeText(makeTextBatch(encoded));
}

at::Tensor TextMotionEvaluatorImpl::encodeMovement(const at::Tensor &features)
{
    if (features.dim() != 3 || features.size(2) < m_config.dimMotionInput)
        throw std::invalid_argument("evaluator: expected (B, T, 263) features");
    const auto device = word_emb->weight.device();
    return movement_encoder(features.to(device).slice(2, 0, m_config.dimMotionInput));
}

at::Tensor TextMotionEvaluatorImpl::encodeMotion(const at::Tensor &features,
                                                 const at::Tensor &lengths)
{
    const auto movements = encodeMovement(features);
    const auto units =
        torch::div(lengths.to(torch::kCPU, torch::kLong), m_config.unitLength, "floor");
    return motion_encoder(movements, units, m_config.packMotion);
}

std::map<std::string, at::Tensor> evaluatorStateDict(TextMotionEvaluatorImpl &evaluator)
{
    std::map<std::string, at::Tensor> out;
    for (const auto &p : evaluator.named_parameters(true))
        out.emplace(p.key(), p.value());
    for (const auto &b : evaluator.named_buffers(true))
        out.emplace(b.key(), b.value());
    return out;
}

void loadEvaluatorStateDict(TextMotionEvaluatorImpl &evaluator,
                            const std::map<std::string, at::Tensor> &tensors,
                            const std::string &source, const std::string &allowMissing)
{
    copyNamedTensors(evaluatorStateDict(evaluator), tensors, source, allowMissing);
}

void copyNamedTensors(const std::map<std::string, at::Tensor> &targets,
                      const std::map<std::string, at::Tensor> &tensors, const std::string &source,
                      const std::string &allowMissing)
{
    torch::NoGradGuard noGrad;
    for (auto [name, target] : targets) {
        const auto it = tensors.find(name);
        if (it == tensors.end()) {
            if (!allowMissing.empty() && name.rfind(allowMissing, 0) == 0)
                continue;
            throw InputError(source + ": missing tensor '" + name + "'");
        }
        if (it->second.sizes() != target.sizes()) {
            std::ostringstream message;
            message << source << ": tensor '" << name << "': expected shape " << target.sizes()
                    << ", got " << it->second.sizes();
            throw InputError(message.str());
        }
        target.copy_(it->second);
    }
}

void saveEvaluator(const std::filesystem::path &dir, TextMotionEvaluatorImpl &evaluator,
                   const WordVocabulary &vocabulary, const at::Tensor &mean, const at::Tensor &std)
{
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(dir / "evaluator_config.json", std::ios::trunc);
        out << evaluatorConfigToJson(evaluator.config()) << "\n";
        if (!out)
            throw InputError((dir / "evaluator_config.json").string() + ": cannot write");
    }
    vocabulary.saveWords(dir / "evaluator_vocab.txt");
    TensorMap tensors;
    for (const auto &[name, tensor] : evaluatorStateDict(evaluator))
        tensors.emplace(name, tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous());
    if (mean.defined())
        tensors.emplace("meta.mean", mean.to(torch::kCPU, torch::kFloat32).contiguous());
    if (std.defined())
        tensors.emplace("meta.std", std.to(torch::kCPU, torch::kFloat32).contiguous());
    writeSafetensors(dir / "evaluator.safetensors", tensors, {{"format", "pt"}});
}

LoadedEvaluator loadEvaluator(const std::filesystem::path &dir)
{
    const auto configPath = dir / "evaluator_config.json";
    std::ifstream in(configPath);
    if (!in)
        throw InputError(configPath.string() + ": cannot open the evaluator configuration");
    std::stringstream text;
    text << in.rdbuf();
    const auto config = evaluatorConfigFromJson(text.str(), configPath.string());

    LoadedEvaluator loaded;
    loaded.vocabulary = WordVocabulary::fromWordList(dir / "evaluator_vocab.txt");
    if (loaded.vocabulary.size() != config.vocabSize)
        throw InputError((dir / "evaluator_vocab.txt").string() + ": " +
                         std::to_string(loaded.vocabulary.size()) + " words, the config says " +
                         std::to_string(config.vocabSize));
    loaded.model = TextMotionEvaluator(config);

    const auto weightsPath = dir / "evaluator.safetensors";
    const auto tensors = readSafetensors(weightsPath);
    loadEvaluatorStateDict(*loaded.model, tensors, weightsPath.string());
    if (auto it = tensors.find("meta.mean"); it != tensors.end())
        loaded.mean = it->second;
    if (auto it = tensors.find("meta.std"); it != tensors.end())
        loaded.std = it->second;
    loaded.model->word_emb->weight.set_requires_grad(config.learnedWordVectors);
    return loaded;
}

} // namespace mp
