#pragma once
// The linear layers' large float32 products on the CPU through oneDNN's sgemm, forward and
// backward. LibTorch hands them to OpenBLAS, which on these shapes (a step's thousand-odd token
// rows by 256-1024 features) spends a third of each call outside its kernel: packing, a pass that
// zeroes the output, and an output that no longer sits in cache when the kernel reads it back.
// oneDNN's JIT sgemm keeps 140-150 GFLOP/s where OpenBLAS keeps 110-125 (one core, the default
// model's DPO step; tests/bench/RESULTS.md). Built without oneDNN, or off the fast path, it is
// at::mm and LibTorch's own backward.

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mp {

// rows (R, in) @ weight (out, in)^T, differentiable in both. No bias: the caller adds its own.
at::Tensor denseLinear(const at::Tensor &rows, const at::Tensor &weight);

// rows @ weight^T + scaling (rows @ loraA^T) @ loraB^T: a LoRA layer (PEFT's unmerged form) with
// a frozen weight, differentiable in rows, loraA (r, in) and loraB (out, r). On denseLinear's
// oneDNN path the adapter is folded into the weight for each call, so forward and backward take
// one large product each; elsewhere it is the unmerged form.
at::Tensor loraDenseLinear(const at::Tensor &rows, const at::Tensor &weight,
                           const at::Tensor &loraA, const at::Tensor &loraB, double scaling);

// Whether denseLinear would take oneDNN for these operands: a oneDNN build, CPU float32, and every
// dimension of the product at least kDenseLinearMinSize (smaller products gain nothing), and
// MP_ONEDNN is not "0" in the environment.
bool denseLinearUsesOneDnn(const at::Tensor &rows, const at::Tensor &weight);

// Whether this build has oneDNN (Debian's libdnnl-dev at configure time).
bool denseLinearHasOneDnn();

// The OpenBLAS thread count for a training process at LibTorch's `threads`: one where oneDNN takes
// the large products (OpenBLAS's pool, left with the small ones, busy-yields beside oneDNN's
// OpenMP team: a two-thread DPO step 1.14-1.25 s wall with one OpenBLAS thread, 1.28-1.62 s with
// two), else `threads`.
int trainingBlasThreads(int threads);

inline constexpr std::int64_t kDenseLinearMinSize = 128;

} // namespace mp
