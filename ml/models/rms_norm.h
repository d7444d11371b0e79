#pragma once
// T5's layer norm (RMS norm: no mean subtraction, no bias), weight * x / sqrt(mean(x^2) + eps)
// over the last dimension, as one autograd operation over float CPU tensors.
// LibTorch runs it as six kernels forward (pow, mean, add, rsqrt, two products) and about ten
// backward, and keeps four tensors of the input's size for it; here the forward is one pass over
// each row and the backward one more, keeping the input and one scale per row. Same mathematics
// as the operations up to float rounding (the sums run in another order).

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mp {

// Whether rmsNorm takes its fused path: float32 CPU tensors, x contiguous with a last dimension
// of weight's size, weight one-dimensional and contiguous.
bool canFuseRmsNorm(const at::Tensor &x, const at::Tensor &weight);

// weight * x * rsqrt(mean(x^2, -1) + eps), differentiable in x and weight. Other inputs go
// through LibTorch's operations (the variance in float32, as transformers computes it).
at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps);

// The same forward on raw float rows (a decoding step's), one thread: out[r] = weight * x[r] /
// sqrt(mean(x[r]^2) + eps) for rows of `width` values, stored one after another.
void rmsNormRows(const float *x, const float *weight, float *out, std::int64_t rows,
                 std::int64_t width, double eps);

} // namespace mp
