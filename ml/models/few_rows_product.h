#pragma once
// x @ W^T (+ bias) for a few rows of x (2 to 32: one decoding step of a labeling pair, or of a
// batch whose rows are finishing) as a hand-written blocked matrix-vector product over float
// tensors on the CPU.
// OpenBLAS's GEMM packs the whole weight on every call, which for two rows over flan-t5's
// 768x2048 or 768x32615 weights costs more than the product itself; here each weight row is read
// once per call, straight from the tensor, for up to four input rows at a time. Same mathematics
// as torch::linear, up to float rounding (the sum over the inputs runs in another order).

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mp {

// Most rows the few-rows product takes; above it a GEMM's packing pays for itself (CPU us per
// product, one thread, weights cycled through 32 MB: at 24 rows 1.6-1.8x faster than OpenBLAS on
// the default's and flan-t5's shapes, at 32 rows 1.1-1.3x, at 64 rows 0.8-1.0x).
inline constexpr std::int64_t kFewRowsProductMaxRows = 32;

// Whether fewRowsLinear applies and is faster than torch::linear here: float32 CPU tensors, 1 to
// kFewRowsProductMaxRows rows (few rows only over large weights), weight (out, in) with a
// contiguous last dimension, bias undefined or (out), no gradient wanted.
bool canUseFewRowsLinear(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias);

// input (..., in), weight (out, in), bias (out) or undefined; returns (..., out).
at::Tensor fewRowsLinear(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias);

// The same product on raw float rows: y[r][j] = sum_k x[r][k] * w[j][k] (+ bias[j]) for r < count,
// j < outFeatures, k < in; row r of x starts at x + r * xStride, row j of w at w + j * wStride, row
// r of y at y + r * yStride. Any row count (four at a time); no allocation, no dispatch.
void fewRowsProduct(const float *x, std::int64_t xStride, std::int64_t count, const float *w,
                    std::int64_t wStride, std::int64_t outFeatures, std::int64_t in,
                    const float *bias, float *y, std::int64_t yStride);

} // namespace mp
