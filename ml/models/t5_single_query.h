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

} // namespace mp
