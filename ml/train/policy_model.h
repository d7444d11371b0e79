#pragma once
// What preference training needs from a policy, whatever the model behind it: teacher-forced
// logits for label sequences, a switch for its adapter (the DPO/PPO reference is the same model
// with the adapter disabled), its trainable parameters and its training state.

#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/logprobs.h"

namespace torch::nn {
class Module;
}
namespace torch::serialize {
class OutputArchive;
class InputArchive;
} // namespace torch::serialize

namespace mp {

// Scored labels of one forward: the token log-probs and, per row, the sum of every logit of every
// position (padding included: TRL's logits/* metrics are plain means), in float64.
struct ScoredLabels {
    TokenLogProbs tokens;
    at::Tensor logitSums; // [B] double
    std::int64_t logitsPerRow = 0;
};

class PolicyModel {
public:
    virtual ~PolicyModel() = default;

    // encoderIds/encoderMask [B,S]; labels [B,T] padded with -100. Returns logits [B,T,V] that
    // align with the labels (an encoder-decoder builds its decoder input by shifting labels right).
    virtual at::Tensor forward(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                               const at::Tensor &labels) = 0;
    // tokenLogProbs of forward's logits and their sums; a model may compute them without the
    // logits of positions nobody scores (T5Policy does).
    virtual ScoredLabels scoreLabels(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                                     const at::Tensor &labels, const LogProbOptions &options);
    virtual void setAdapterEnabled(bool enabled) = 0;
    virtual bool adapterEnabled() const = 0;
    // The parameters the optimiser updates (the LoRA weights for a LoRA policy).
    virtual std::vector<at::Tensor> trainableParameters() = 0;
    // For train()/eval(), devices and the default save/load.
    virtual torch::nn::Module &module() = 0;

    // The trained state a checkpoint holds; by default the whole module.
    virtual void saveState(torch::serialize::OutputArchive &archive);
    virtual void loadState(torch::serialize::InputArchive &archive);
};

// Disables the adapter for its lifetime and restores the previous state, also on exceptions.
class AdapterDisabledScope {
public:
    explicit AdapterDisabledScope(PolicyModel &policy);
    ~AdapterDisabledScope();
    AdapterDisabledScope(const AdapterDisabledScope &) = delete;
    AdapterDisabledScope &operator=(const AdapterDisabledScope &) = delete;

private:
    PolicyModel &m_policy;
    bool m_previous;
};

} // namespace mp
