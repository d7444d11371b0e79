#pragma once
// The T5 encoder-decoder with LoRA adapters as a PolicyModel: labels are scored with HF's
// shift-right decoder input, the reference is the same model with its adapters disabled, and
// checkpoints hold the adapter weights only (the base stays frozen).

#include "ml/models/t5.h"
#include "ml/train/policy_model.h"

namespace mp {

struct T5PolicyOptions {
    // TRL's disable_dropout: every dropout, the LoRA one included, is off during DPO.
    bool disableDropout = true;
};

class T5Policy : public PolicyModel {
public:
    // The model must already carry its adapters (applyLora).
    explicit T5Policy(T5Model model, T5PolicyOptions options = {});

    at::Tensor forward(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                       const at::Tensor &labels) override;
    void setAdapterEnabled(bool enabled) override;
    bool adapterEnabled() const override { return m_enabled; }
    std::vector<at::Tensor> trainableParameters() override;
    torch::nn::Module &module() override;
    void saveState(torch::serialize::OutputArchive &archive) override;
    void loadState(torch::serialize::InputArchive &archive) override;

    T5Model &model() { return m_model; }

private:
    T5Model m_model;
    T5PolicyOptions m_options;
    bool m_enabled = true;
};

} // namespace mp
