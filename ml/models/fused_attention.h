#pragma once
// T5's attention core, softmax(Q K^T + bias) V for every head (no 1/sqrt(d) scaling: T5 folds it
// into the query's initialisation), as one autograd operation over float CPU tensors in the
// projections' own (batch, length, heads x d_kv) layout.
// LibTorch runs it as head transposes copied by reshape, a batched product whose CPU kernel issues
// one GEMM per (row, head) through select and addmm_ (with MKL it would be one batched call; the
// Debian build has OpenBLAS), a bias add and a softmax each over a fresh (B, H, L, S) tensor, and
// the reverse of all that backward. Here each (row, head) is two BLAS calls on strided views of
// the projections forward and four backward, the bias add and softmax one pass over the scores,
// and only the probabilities are kept for the backward. Same mathematics up to float rounding.

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mp {

// Whether fusedAttention applies: float32 CPU tensors; query (B, L, H*D), key and value (B, S,
// H*D), all contiguous; bias undefined or broadcastable to (B, H, L, S) with S values in its last
// dimension.
bool canFuseAttention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                      const at::Tensor &bias, std::int64_t numHeads);

// For each row b and head h (columns h*D .. h*D+D-1 of the last dimension):
// out[b, :, h] = softmax(query[b, :, h] key[b, :, h]^T + bias[b, h]) value[b, :, h].
// Differentiable in query, key, value and bias (the bias's gradient summed over its broadcast
// dimensions). Returns (B, L, H*D).
at::Tensor fusedAttention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                          const at::Tensor &bias, std::int64_t numHeads);

} // namespace mp
