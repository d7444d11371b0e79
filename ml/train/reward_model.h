#pragma once
// The reward model of the paper's RLHF (§1.5): the T5 with LoRA adapters and a scalar head on the
// decoder's last hidden state. A motion is scored teacher-forced: the prompt goes to the encoder,
// the motion labels (SOM codes EOM </s>) shifted right to the decoder, and the head reads the
// hidden state of the last label position (which has seen the whole motion). The same class is
// PPO's value network, then with a per-position head read and a zero-initialised head.

#include <cstdint>
#include <filesystem>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "ml/models/lora.h"
#include "ml/models/t5.h"

namespace at {
class Generator;
}

namespace mp {

class RewardModelImpl : public torch::nn::Module {
public:
    // t5 must already carry its LoRA adapters (the base stays frozen); the head is trainable.
    explicit RewardModelImpl(T5Model t5, bool zeroHead = false);

    // Decoder hidden states (B, T, d) for labels (B, T) padded with -100. NEFTune noise of
    // strength neftuneAlpha is added to both embeddings while training (alpha 0: none).
    at::Tensor hidden(const at::Tensor &promptIds, const at::Tensor &promptMask,
                      const at::Tensor &labels, double neftuneAlpha = 0.0,
                      at::Generator *generator = nullptr);
    // One score per sequence (B): the head on the last label position.
    at::Tensor score(const at::Tensor &promptIds, const at::Tensor &promptMask,
                     const at::Tensor &labels, double neftuneAlpha = 0.0,
                     at::Generator *generator = nullptr);
    // One value per label position (B, T), for PPO's critic.
    at::Tensor values(const at::Tensor &promptIds, const at::Tensor &promptMask,
                      const at::Tensor &labels);

    std::vector<at::Tensor> trainableParameters();
    T5Model &t5() { return m_t5; }

    // A reward model directory: the adapter (PEFT layout) plus reward_head.safetensors.
    void save(const std::filesystem::path &directory, const LoraConfig &lora);
    // Loads adapter and head onto a fresh bundle T5; InputError naming what is missing.
    void load(const std::filesystem::path &directory);

    torch::nn::Linear head{nullptr};

private:
    T5Model m_t5;
};
TORCH_MODULE(RewardModel);

// A reward-model directory (reward_head.safetensors in it), or an rm run directory: its best/,
// else its reward_model/. InputError naming the path when there is none.
std::filesystem::path resolveRewardModelDir(const std::filesystem::path &path);

// Index of the last scored position of each row of labels (B, T) padded with -100.
at::Tensor lastLabelIndex(const at::Tensor &labels);

} // namespace mp
