#pragma once
// The cross-check evaluator: a second text/motion model built unlike the T2M evaluator
// (evaluator.h), so that a model tuned on labels from a T2M-like judge cannot raise both scores
// by pleasing one design. What differs:
//  - motion input: joint positions from recover_from_ric (not the 263 features): per frame the
//    22 joints relative to the root on the ground plane (root height kept) and the per-frame
//    velocities of the joints' positions, 132 values, normalised with statistics of its own
//    training split;
//  - motion encoder: two strided 1-D convolutions (time / 4) and a one-way GRU, its last state
//    projected (T2M: a pretrained conv autoencoder and a bidirectional GRU);
//  - text encoder: SentencePiece pieces of the model bundle's tokenizer (no lemmatising, no POS
//    tags, no word vocabulary) through learned piece embeddings and a one-way GRU (T2M: word
//    vectors + POS one-hots through a bidirectional GRU);
//  - both embeddings L2-normalised, trained with symmetric InfoNCE and a learned temperature
//    (T2M: Euclidean distance with a hinge margin).
// Files of a cross-evaluator directory: cross_evaluator.json (config and training summary),
// cross_evaluator.safetensors (weights, input_mean, input_std) and spiece.model.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include "ml/eval/evaluation.h"

namespace mp {

class SentencePieceModel;

// Per-frame input channels: 22 x 3 root-relative positions + 22 x 3 velocities.
constexpr std::int64_t kCrossMotionInput = 132;

struct CrossEvaluatorConfig {
    std::int64_t vocabSize = 0; // pieces of the tokenizer
    std::int64_t dimPiece = 48;
    std::int64_t dimText = 128;
    std::int64_t dimMotion = 128;
    std::int64_t dimEmbedding = 96;
    std::int64_t maxPieces = 40; // longer captions are cut
};
std::string crossEvaluatorConfigToJson(const CrossEvaluatorConfig &config);
CrossEvaluatorConfig crossEvaluatorConfigFromJson(const std::string &text,
                                                  const std::string &source);

// Un-normalised features (T, 263), T >= 1 -> (T, 132) joint input (float32, CPU). Velocities of
// frame 0 are 0; each motion's own recover_from_ric, so a crop starts facing +Z like a
// generated motion.
at::Tensor crossMotionInput(const at::Tensor &features);

// Piece ids of a caption, cut to maxPieces (at least one id: unk for an empty caption).
std::vector<std::int64_t> crossCaptionPieces(const SentencePieceModel &tokenizer,
                                             const std::string &caption, std::int64_t maxPieces);

// Captions' piece ids padded with 0 into (ids (B, L), lengths (B)) for encodeText.
std::pair<at::Tensor, at::Tensor>
crossPieceBatch(const std::vector<std::vector<std::int64_t>> &pieces);

class CrossEvaluatorImpl : public torch::nn::Module {
public:
    explicit CrossEvaluatorImpl(const CrossEvaluatorConfig &config);
    const CrossEvaluatorConfig &config() const { return m_config; }

    // ids (B, L) int64 padded with anything; lengths (B) in 1..L. Returns (B, E), unit rows.
    at::Tensor encodeText(const at::Tensor &ids, const at::Tensor &lengths);
    // input (B, T, 132) normalised, zero past each length; lengths (B) in 1..T frames. The
    // result of a motion does not depend on its batch-mates or on the padding.
    at::Tensor encodeMotion(const at::Tensor &input, const at::Tensor &lengths);
    at::Tensor temperatureScale() const; // exp(logit_scale), capped at 100

    torch::nn::Embedding piece_emb{nullptr};
    torch::nn::GRU text_gru{nullptr};
    torch::nn::Linear text_out{nullptr};
    torch::nn::Conv1d conv1{nullptr};
    torch::nn::Conv1d conv2{nullptr};
    torch::nn::GRU motion_gru{nullptr};
    torch::nn::Linear motion_out{nullptr};
    at::Tensor logit_scale;
    at::Tensor input_mean; // (132) buffers, set from the training split
    at::Tensor input_std;

private:
    CrossEvaluatorConfig m_config;
};
TORCH_MODULE(CrossEvaluator);

// Symmetric InfoNCE of paired unit embeddings (row i of each belongs together): the mean of the
// cross entropies of scale * T M^T over rows and over columns, with target i.
at::Tensor symmetricInfoNce(const at::Tensor &text, const at::Tensor &motion,
                            const at::Tensor &scale);

std::map<std::string, at::Tensor> crossEvaluatorStateDict(CrossEvaluatorImpl &model);

struct LoadedCrossEvaluator {
    CrossEvaluator model{nullptr};
    std::shared_ptr<SentencePieceModel> tokenizer;
    std::string summaryJson; // cross_evaluator.json's "training" object, "{}" when absent
};
// Writes the three files; tokenizerFile is copied as spiece.model (unless it is already there).
void saveCrossEvaluator(const std::filesystem::path &dir, CrossEvaluatorImpl &model,
                        const std::filesystem::path &tokenizerFile,
                        const std::string &summaryJson = "{}");
// InputError naming the file for a missing file, a bad config, or a missing/misshapen tensor.
LoadedCrossEvaluator loadCrossEvaluator(const std::filesystem::path &dir);
// "default": the embedded default bundle's cross_evaluator/; else the directory itself. Either
// must hold cross_evaluator.json (InputError naming the directory otherwise).
std::filesystem::path resolveCrossCheckDir(const std::filesystem::path &given);

// Embeds captions and motions for the evaluation protocol (CrossCheckEmbedder, evaluation.h).
class CrossEvaluatorEmbedder : public CrossCheckEmbedder {
public:
    explicit CrossEvaluatorEmbedder(LoadedCrossEvaluator loaded, int batchSize = 64);
    at::Tensor texts(const std::vector<std::string> &captions) override;
    at::Tensor motions(const std::vector<at::Tensor> &features,
                       const std::vector<std::int64_t> &lengths) override;
    CrossEvaluatorImpl &model() { return *m_loaded.model; }

private:
    LoadedCrossEvaluator m_loaded;
    int m_batchSize;
};

// Normalised, zero-padded (B, maxLength, 132) input of the first lengths[i] frames of each
// feature tensor (frames past a motion's end repeat nothing: they are zeros); rows of fewer
// frames than asked are zero past their end.
at::Tensor crossMotionBatch(const CrossEvaluatorImpl &model, const std::vector<at::Tensor> &inputs,
                            const std::vector<std::int64_t> &lengths);

} // namespace mp
