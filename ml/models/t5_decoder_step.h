#pragma once
// One cached decoding step of T5's decoder (one new position per row, no gradient, eval mode,
// float32 on the CPU) on raw float arrays: RMS norms, the q/k/v/o, cross-attention and
// feed-forward products (fewRowsProduct, straight from the weights, LoRA deltas added when an
// adapter is active and unmerged), attention over the KV cache (singleQueryAttentionRaw) and the
// residual sums, with a handful of scratch buffers per step instead of some hundred LibTorch
// operations. The keys and values go into the cache's buffers in place; the self-attention's
// relative position bias comes from a table kept in the cache. Same mathematics as
// T5StackImpl::forward, up to float rounding (sums in another order). With int8 weights
// (weight_int8_decoder.h) the products read their int8 copies instead: the same mathematics over
// the dequantised weights, up to float rounding.

#include <ATen/core/Tensor.h>

namespace mp {

class Int8DecoderWeights;
class T5ModelImpl;
class T5StackImpl;
struct T5Cache;

// Whether fastDecoderStep applies: a decoder stack in eval mode, no gradient, embeds (B, 1, d)
// float32 on the CPU, no decoder mask, an encoder output, and float32 CPU weights.
bool canUseFastDecoderStep(T5StackImpl &stack, const at::Tensor &embeds, const at::Tensor &mask,
                           const at::Tensor &encoderHidden);

// T5StackImpl::forward(embeds, {}, encoderHidden, encoderMask, &cache) for one new position;
// int8: the stack's weights as int8 (null: float32).
at::Tensor fastDecoderStep(T5StackImpl &stack, const at::Tensor &embeds,
                           const at::Tensor &encoderHidden, const at::Tensor &encoderMask,
                           T5Cache &cache, const Int8DecoderWeights *int8 = nullptr);

// T5ModelImpl::head over a step's states (..., d_model) with the head's int8 weight (an untied
// lm_head's LoRA delta added in float32).
at::Tensor fastHeadInt8(T5ModelImpl &model, const at::Tensor &hidden,
                        const Int8DecoderWeights &int8);

} // namespace mp
