#pragma once
// Attention of one query position per row (a cached decoding step) as plain loops over float
// tensors on the CPU. LibTorch 1.13's CPU bmm runs one small GEMM per (row, head) -- a batch of
// 64 prompts with 4 heads is 256 calls per product -- and a broadcast product with a sum
// materialises (B, H, T, d_kv); both cost more than the arithmetic of one query. Same
// mathematics as matmul -> + bias -> softmax -> matmul, up to float rounding.

#include <ATen/core/Tensor.h>

namespace mp {

// Whether singleQueryAttention applies: float32 CPU tensors, one query, no gradient wanted.
bool canUseSingleQueryAttention(const at::Tensor &query, const at::Tensor &key,
                                const at::Tensor &value, const at::Tensor &bias);

// query (B, H, 1, d), key/value (B, H, T, d) whose last dimension is contiguous (a narrowed
// cache is fine), bias broadcastable to (B, H, 1, T) or undefined. Returns (B, H, 1, d).
at::Tensor singleQueryAttention(const at::Tensor &query, const at::Tensor &key,
                                const at::Tensor &value, const at::Tensor &bias);

// A (rows, heads, positions, d) float array by its strides (in floats); d is contiguous.
struct SingleQueryView {
    const float *data = nullptr;
    std::int64_t row = 0;
    std::int64_t head = 0;
    std::int64_t position = 0;
};

// singleQueryAttention on raw arrays (a cached decoding step without a tensor operation): for each
// row and head, softmax(q . k_t + bias_t) over t < length, times v. query and out: one position
// (query's `position` stride unused; out row r, head h at out + r * outRowStride + h *
// outHeadStride); bias: data null for none, else its scores at stride `position`.
void singleQueryAttentionRaw(const SingleQueryView &query, const SingleQueryView &key,
                             const SingleQueryView &value, const SingleQueryView &bias, float *out,
                             std::int64_t outRowStride, std::int64_t outHeadStride,
                             std::int64_t batch, std::int64_t heads, std::int64_t length,
                             std::int64_t dim);

} // namespace mp
