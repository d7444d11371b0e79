#pragma once
// MotionGPT's QuantizeEMAReset: nearest-code quantisation against a (numCodes, codeDim) codebook
// buffer, updated in training by exponential moving averages, with codes used less than once
// (in EMA count) reset to random encoder outputs of the batch (dead-code reset).

#include <cstdint>
#include <tuple>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace mp {

struct QuantizerOutput {
    at::Tensor quantized;  // (N, codeDim, T), straight-through gradient to the input
    at::Tensor commitLoss; // mse(x, sg(code)), scalar
    at::Tensor perplexity; // of the batch's code usage
    at::Tensor codes;      // (N, T) int64
};

class QuantizeEmaResetImpl : public torch::nn::Module {
public:
    QuantizeEmaResetImpl(std::int64_t numCodes, std::int64_t codeDim, double mu = 0.99);

    // x (N, codeDim, T). In training mode, initialises the codebook from the first batch and
    // updates it (no gradient) after picking the codes.
    QuantizerOutput forward(const at::Tensor &x);
    // Rows (M, codeDim) -> nearest code index (M) in L2.
    at::Tensor quantize(const at::Tensor &rows) const;
    // Indices (any shape) -> code vectors (..., codeDim).
    at::Tensor dequantize(const at::Tensor &codes) const;

    // Sets the codebook and EMA state as if initialised (tests, resumed training).
    void setCodebook(const at::Tensor &codebook);
    bool initialized() const { return m_initialized; }
    // EMA state, for checkpoints that resume training (the model file keeps only the codebook).
    at::Tensor codeSum() const { return m_codeSum; }
    at::Tensor codeCount() const { return m_codeCount; }
    void setEmaState(const at::Tensor &codeSum, const at::Tensor &codeCount);

    // One EMA step on rows (M, codeDim) with their codes; returns the batch perplexity.
    at::Tensor updateCodebook(const at::Tensor &rows, const at::Tensor &codes);
    at::Tensor perplexity(const at::Tensor &codes) const;

    std::int64_t numCodes() const { return m_numCodes; }
    std::int64_t codeDim() const { return m_codeDim; }

    at::Tensor codebook;

private:
    // Repeats rows (with a little noise) until there are at least numCodes of them.
    at::Tensor tile(const at::Tensor &rows) const;

    std::int64_t m_numCodes;
    std::int64_t m_codeDim;
    double m_mu;
    bool m_initialized = false;
    at::Tensor m_codeSum;
    at::Tensor m_codeCount;
};
TORCH_MODULE(QuantizeEmaReset);

} // namespace mp
