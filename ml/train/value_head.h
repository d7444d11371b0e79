#pragma once
// TRL's ValueHead, the critic of the paper's shared-backbone PPO (ppo.py, PpoCritic::ValueHead):
// a value per position from the policy's own last decoder states through Dropout(0.1) then
// Linear(d_model, 1) (spec §1.6, preference-learning.md "Value head").

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

namespace mp {

class ValueHeadImpl : public torch::nn::Module {
public:
    // LibTorch's default Linear initialisation (PyTorch's, as TRL's "zero" strategy leaves it).
    ValueHeadImpl(std::int64_t hiddenSize, double dropout);

    // states (B, T, d) -> values (B, T), in float32 whatever the states' dtype (as TRL upcasts).
    at::Tensor forward(const at::Tensor &states);

    torch::nn::Dropout dropout{nullptr};
    torch::nn::Linear summary{nullptr}; // TRL's v_head.summary
};
TORCH_MODULE(ValueHead);

} // namespace mp
