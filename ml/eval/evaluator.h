#pragma once
// The text/motion evaluator networks of Guo et al. 2022 (T2M networks/modules.py), with module
// and parameter names equal to the keys of the T2M checkpoint finest.tar (text_encoder.*,
// movement_encoder.*, motion_encoder.*), so a converted checkpoint loads as is. Member names
// follow the checkpoint keys rather than the m_ convention for that reason.
//
// Sequence handling of the motion GRU is selectable: packed by length (Guo, via LibTorch's
// pack_padded_sequence, identical to PyTorch's) or over the batch-padded tensor (MotionGPT's
// tm2t_evaluator). The text GRU is packed in both, as both codebases do. Without gradient on
// float32 CPU tensors (embedding) both GRUs run through ml/models/gru_inference.h, the same
// results up to float rounding; training runs LibTorch's.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include "ml/eval/text_preprocess.h"

namespace mp {

struct EvaluatorConfig {
    std::int64_t vocabSize = 3;
    std::int64_t dimWord = 300;
    std::int64_t dimPosOneHot = kEvalPosClasses;
    std::int64_t dimTextHidden = 512;
    std::int64_t dimCoemb = 512;
    std::int64_t dimMotionInput = 259; // the 263 features minus the 4 foot contacts
    std::int64_t dimMovementHidden = 512;
    std::int64_t dimMovementLatent = 512;
    std::int64_t dimMotionHidden = 1024;
    int unitLength = 4;                    // the movement encoder downsamples time 4x
    bool packMotion = true;                // Guo; false = MotionGPT's unpacked GRU
    bool learnedWordVectors = true;        // false when word_emb holds fixed GloVe vectors
    VipLists vipLists = VipLists::Project; // T2m for an imported T2M checkpoint

    // The T2M checkpoint's dimensions (GloVe 300, 512/1024 hidden).
    static EvaluatorConfig t2m(std::int64_t vocabSize);
    // The embedded default's: learned 128-d word vectors, 256-d everywhere else (about 8x less
    // compute than T2M's, enough for the procedural corpus's vocabulary).
    static EvaluatorConfig small(std::int64_t vocabSize);
};

// Serialised as evaluator_config.json ("vip_lists" is optional: "project" when absent).
std::string evaluatorConfigToJson(const EvaluatorConfig &config);
EvaluatorConfig evaluatorConfigFromJson(const std::string &text, const std::string &source);

// (word + Linear(pos)) -> Linear -> BiGRU (learned h0, packed) -> [fwd; bwd] -> MLP.
class TextEncoderBiGRUCoImpl : public torch::nn::Module {
public:
    TextEncoderBiGRUCoImpl(std::int64_t wordSize, std::int64_t posSize, std::int64_t hiddenSize,
                           std::int64_t outputSize);
    // wordEmbs (B, L, word), posOneHot (B, L, 15), lengths (B) with 1 <= length <= L.
    at::Tensor forward(const at::Tensor &wordEmbs, const at::Tensor &posOneHot,
                       const at::Tensor &lengths);

    torch::nn::Linear pos_emb{nullptr};
    torch::nn::Linear input_emb{nullptr};
    torch::nn::GRU gru{nullptr};
    torch::nn::Sequential output_net{nullptr};
    at::Tensor hidden;
};
TORCH_MODULE(TextEncoderBiGRUCo);

// Conv1d(k4 s2 p1) x2 with dropout 0.2 and LeakyReLU 0.2, then Linear: time / 4.
class MovementConvEncoderImpl : public torch::nn::Module {
public:
    MovementConvEncoderImpl(std::int64_t inputSize, std::int64_t hiddenSize,
                            std::int64_t outputSize);
    at::Tensor forward(const at::Tensor &features); // (B, T, in) -> (B, T/4, out)

    torch::nn::Sequential main{nullptr};
    torch::nn::Linear out_net{nullptr};
};
TORCH_MODULE(MovementConvEncoder);

// Linear -> BiGRU (learned h0; packed by length or not) -> [fwd; bwd] -> MLP.
class MotionEncoderBiGRUCoImpl : public torch::nn::Module {
public:
    MotionEncoderBiGRUCoImpl(std::int64_t inputSize, std::int64_t hiddenSize,
                             std::int64_t outputSize);
    // movements (B, T', in); lengths (B) in T' units, used only when packed.
    at::Tensor forward(const at::Tensor &movements, const at::Tensor &lengths, bool packed);

    torch::nn::Linear input_emb{nullptr};
    torch::nn::GRU gru{nullptr};
    torch::nn::Sequential output_net{nullptr};
    at::Tensor hidden;
};
TORCH_MODULE(MotionEncoderBiGRUCo);

// The three encoders plus the word-vector table word_emb (not in T2M's checkpoint: T2M looks up
// GloVe outside the network; here GloVe vectors are copied into it and frozen).
class TextMotionEvaluatorImpl : public torch::nn::Module {
public:
    explicit TextMotionEvaluatorImpl(const EvaluatorConfig &config);

    const EvaluatorConfig &config() const { return m_config; }
    void setPackMotion(bool packed) { m_config.packMotion = packed; }
    // Copies (vocab, dimWord) vectors into word_emb and freezes them.
    void setWordVectors(const at::Tensor &vectors);

    at::Tensor encodeText(const TextBatch &batch);
    // Tagged captions through encodeText (text_preprocess.h) with this evaluator's VIP lists.
    at::Tensor encodeCaptions(const std::vector<std::vector<TaggedWord>> &captions,
                              const WordVocabulary &vocabulary);
    // features (B, T, 263) normalised with the evaluator statistics, zero-padded; lengths (B)
    // in frames (multiples of unitLength). Returns (B, dimCoemb).
    at::Tensor encodeMovement(const at::Tensor &features);
    at::Tensor encodeMotion(const at::Tensor &features, const at::Tensor &lengths);

    torch::nn::Embedding word_emb{nullptr};
    TextEncoderBiGRUCo text_encoder{nullptr};
    MovementConvEncoder movement_encoder{nullptr};
    MotionEncoderBiGRUCo motion_encoder{nullptr};

private:
    EvaluatorConfig m_config;
};
TORCH_MODULE(TextMotionEvaluator);

// Every parameter and buffer by its dotted name (the checkpoint keys).
std::map<std::string, at::Tensor> evaluatorStateDict(TextMotionEvaluatorImpl &evaluator);
// Copies tensors[name] into each named target (a module's parameters and buffers, e.g. a state
// dict). Names missing from tensors are an InputError naming source unless they start with
// allowMissing (when not empty); shapes must match.
void copyNamedTensors(const std::map<std::string, at::Tensor> &targets,
                      const std::map<std::string, at::Tensor> &tensors, const std::string &source,
                      const std::string &allowMissing = "");
// Copies tensors into the evaluator. Names missing from the map are an InputError unless
// allowMissing lists their prefix (e.g. "word_emb." for a T2M checkpoint); shapes must match.
void loadEvaluatorStateDict(TextMotionEvaluatorImpl &evaluator,
                            const std::map<std::string, at::Tensor> &tensors,
                            const std::string &source, const std::string &allowMissing = "");

// An evaluator directory: evaluator_config.json, evaluator_vocab.txt and the weights
// evaluator.safetensors (the checkpoint keys, plus meta.mean / meta.std when given).
struct LoadedEvaluator {
    TextMotionEvaluator model{nullptr};
    WordVocabulary vocabulary;
    at::Tensor mean; // (263) evaluator normalisation, undefined when not saved
    at::Tensor std;
};
void saveEvaluator(const std::filesystem::path &dir, TextMotionEvaluatorImpl &evaluator,
                   const WordVocabulary &vocabulary, const at::Tensor &mean = {},
                   const at::Tensor &std = {});
LoadedEvaluator loadEvaluator(const std::filesystem::path &dir);

} // namespace mp
