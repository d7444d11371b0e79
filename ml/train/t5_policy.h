#pragma once
// The T5 encoder-decoder as a PolicyModel, labels scored with HF's shift-right decoder input.
// Two ways to train it:
// - LoRA: the reference is the same model with its adapters disabled, and checkpoints hold the
//   adapter weights only (the base stays frozen);
// - full fine-tuning: every parameter of the T5 trains, the reference is a frozen copy of the
//   model taken when the policy is made (setAdapterEnabled(false) scores with that copy), and
//   checkpoints hold all the weights.

#include "ml/models/t5.h"
#include "ml/train/policy_model.h"

namespace mp {

struct T5PolicyOptions {
    // TRL's disable_dropout: every dropout, the LoRA one included, is off during DPO.
    bool disableDropout = true;
    // Train every parameter (the model must carry no adapters) against a frozen copy.
    bool fullFineTuning = false;
};

class T5Policy : public PolicyModel {
public:
    // With LoRA the model must already carry its adapters (applyLora); for full fine-tuning it
    // must carry none.
    explicit T5Policy(T5Model model, T5PolicyOptions options = {});

    at::Tensor forward(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                       const at::Tensor &labels) override;
    // The head and its log-softmax at the scored (non-padding) positions only; the logits' sums
    // from the head of each row's summed decoder states (the head is linear, without bias).
    ScoredLabels scoreLabels(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                             const at::Tensor &labels, const LogProbOptions &options) override;
    void setAdapterEnabled(bool enabled) override;
    bool adapterEnabled() const override { return m_enabled; }
    std::vector<at::Tensor> trainableParameters() override;
    torch::nn::Module &module() override;
    void saveState(torch::serialize::OutputArchive &archive) override;
    void loadState(torch::serialize::InputArchive &archive) override;

    T5Model &model() { return m_model; }
    // The frozen reference of full fine-tuning; null with LoRA.
    const T5Model &reference() const { return m_reference; }

private:
    // The model that scores now (the frozen copy for a full fine-tuning reference), in its mode.
    T5Model &activeModel();
    // The decoder's states for labels (N, T, d_model), as the head takes them.
    at::Tensor decoderStates(T5Model &model, const at::Tensor &encoderIds,
                             const at::Tensor &encoderMask, const at::Tensor &labels);
    // Token log-probs (N, T) with the rows decoded in groups of similar length, each group with
    // gradient only up to its longest row; with stateSums, also each row's decoder states summed
    // over all T positions (N, d_model, float64), the padding past its group's length decoded
    // after it without gradient from the group's cached keys and values.
    struct GroupedScores {
        at::Tensor logps;
        at::Tensor stateSums;
    };
    GroupedScores scoreByLength(T5Model &model, const at::Tensor &encoderIds,
                                const at::Tensor &encoderMask, const at::Tensor &labels,
                                std::int64_t ignoreIndex, bool stateSums);

    T5Model m_model;
    T5Model m_reference{nullptr};
    T5PolicyOptions m_options;
    bool m_enabled = true;
};

} // namespace mp
