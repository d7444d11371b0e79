#pragma once
// The log-probability of one chosen token per row, log_softmax(logits)[target], as one autograd
// operation over float CPU tensors (the scoring of labels under a policy's head).
// LibTorch runs it as log_softmax (a tensor of the logits' size, kept for the backward) and a
// gather, and backward as a zero-filled tensor of that size for the gather's gradient and
// log_softmax_backward; here the forward reads each row twice (maximum, then the sum of
// exponentials) and keeps two floats per row (the maximum and the log of that sum), and the
// backward writes the logits' gradient in one pass: grad * (onehot(target) - softmax). Same
// mathematics as LibTorch's up to float rounding (the sums run in another order, exp is
// vector16.h's).

#include <ATen/core/Tensor.h>

namespace mp {

// Whether pickedLogProbs takes its fused path: float32 contiguous CPU logits (..., V) with V > 0
// and int64 CPU targets of the leading sizes.
bool canFusePickedLogProbs(const at::Tensor &logits, const at::Tensor &targets);

// log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1): logits (..., V),
// targets (...) in [0, V) -> (...), differentiable in logits. Other inputs go through LibTorch's
// operations. Throws std::out_of_range on a target outside [0, V) on the fused path.
at::Tensor pickedLogProbs(const at::Tensor &logits, const at::Tensor &targets);

} // namespace mp
