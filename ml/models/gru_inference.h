#pragma once
// The final hidden states of a one-layer GRU for inference on the CPU (no gradient, float32),
// as torch::nn::GRU computes them over a packed sequence (pack_padded_sequence), up to float
// rounding.
// LibTorch multiplies each time step's few rows by the whole recurrent weight through OpenBLAS,
// which packs (copies) that weight on every call: for the T2M evaluator's motion GRU (3*1024 x
// 1024, at most 32 rows a step) the packing cost about as much as the product. Here the inputs of
// all time steps are projected in one GEMM, the recurrent weight is packed once per call and
// direction into panels of 32 output columns, and each step's product of at most 32 rows runs
// over those panels (a register-blocked kernel, 8 rows x 32 columns, the next panel prefetched).
// fewRowsProduct (ml/models/few_rows_product.h), reading the unpacked weight, was measured first:
// 1,000 motions and texts at one thread, the same binary alternating, 11.2-12.4 s CPU with it
// against 10.0-10.4 s with the panels.

#include <ATen/core/Tensor.h>

namespace torch::nn {
class GRUImpl;
}

namespace mp {

// Whether inferenceGruLastHidden can run this GRU on these inputs: no gradient wanted, one layer
// with biases, batch-first, float32 CPU inputs, h0 and weights.
bool canUseInferenceGru(const torch::nn::GRUImpl &gru, const at::Tensor &inputs,
                        const at::Tensor &h0);

// inputs (B, T, in), batch-first; lengths (B) in 1..T (each row reads only its first lengths[b]
// steps, the backward direction starting at its own last one, as over a packed sequence; for an
// unpacked GRU pass T for every row); h0 (D, B, H). Returns the final hidden states (D, B, H), as
// the second output of GRUImpl::forward_with_packed_input. Throws std::invalid_argument on shapes
// that do not fit.
at::Tensor inferenceGruLastHidden(const torch::nn::GRUImpl &gru, const at::Tensor &inputs,
                                  const at::Tensor &lengths, const at::Tensor &h0);

} // namespace mp
