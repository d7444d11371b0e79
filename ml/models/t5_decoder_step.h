#pragma once
// One cached decoding step of T5's decoder (one new position per row, no gradient, eval mode,
// float32 on the CPU) on raw float arrays: RMS norms, the q/k/v/o, cross-attention and
// feed-forward products (fewRowsProduct, straight from the weights, LoRA deltas added when an
// adapter is active and unmerged), attention over the KV cache (singleQueryAttentionRaw) and the
// residual sums, with a handful of scratch buffers per step instead of some hundred LibTorch
// operations. The keys and values go into the cache's buffers in place; the self-attention's
// relative position bias comes from a table kept in the cache. Same mathematics as
// T5StackImpl::forward, up to float rounding (sums in another order).

#include <ATen/core/Tensor.h>

namespace mp {

class T5StackImpl;
struct T5Cache;

// Whether fastDecoderStep applies: a decoder stack in eval mode, no gradient, embeds (B, 1, d)
// float32 on the CPU, no decoder mask, an encoder output, and float32 CPU weights.
bool canUseFastDecoderStep(T5StackImpl &stack, const at::Tensor &embeds, const at::Tensor &mask,
                           const at::Tensor &encoderHidden);

// T5StackImpl::forward(embeds, {}, encoderHidden, encoderMask, &cache) for one new position.
at::Tensor fastDecoderStep(T5StackImpl &stack, const at::Tensor &embeds,
                           const at::Tensor &encoderHidden, const at::Tensor &encoderMask,
                           T5Cache &cache);

} // namespace mp
