#pragma once
// T5 v1.1's gated feed-forward activation, gelu_new(gate) * linear (gelu with the tanh
// approximation), as one autograd operation over float CPU tensors.
// LibTorch runs it as three kernels forward (gelu, mul) and four backward (the mul's two products,
// gelu_backward), each a pass over the widest activation of the layer (rows x d_ff), and keeps
// gelu's output for the backward; here the forward is one pass, the backward one pass that
// computes both gradients with one exponential per element, and only the two inputs are kept.
// Same mathematics as torch::gelu(gate, "tanh") * linear up to float rounding: 1 + tanh(y) is
// computed as 2 sigmoid(2y) with a vectorised exponential (relative error below 1e-6).

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mp {

// Whether gatedGeluTanh takes its fused path: float32 contiguous CPU tensors of equal sizes.
// Otherwise it computes torch::gelu(gate, "tanh") * linear.
bool canFuseGatedGelu(const at::Tensor &gate, const at::Tensor &linear);

// gelu_new(gate) * linear, differentiable in both inputs.
at::Tensor gatedGeluTanh(const at::Tensor &gate, const at::Tensor &linear);

// The same forward on raw float arrays of `count` elements (a decoding step's rows); out may be
// gate or linear.
void gatedGeluTanhRaw(const float *gate, const float *linear, float *out, std::int64_t count);

} // namespace mp
