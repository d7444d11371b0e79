#pragma once
// A T5's decoding step with weight-only int8 (weight_int8.h): int8 copies of the decoder's
// linear weights that a cached step reads (self-attention q/k/v/o, cross-attention q/o, the
// feed-forward's) and of the LM head (lm_head, or the shared embedding of a tied head). The
// encoder, the embedding lookup, the cross-attention keys and values (once per generation) and
// LoRA deltas stay float32; so do the activations. GenerateOptions::int8Weights asks for it.
//
// The copies are made on the first request and kept for the model (int8DecoderWeights): a model
// whose weights change afterwards (another tensor, or one written in place: loading, merging an
// adapter, an optimizer step) gets new copies on its next request. Threads may share them.

#include <ATen/core/Tensor.h>
#include <c10/util/intrusive_ptr.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "ml/models/weight_int8.h"

namespace mp {

class T5ModelImpl;
class LoraLinearImpl;
struct T5Cache;

class Int8DecoderWeights {
public:
    // Quantises model's weights (float32 on the CPU: canUseInt8Decoding).
    explicit Int8DecoderWeights(T5ModelImpl &model);

    // The int8 copy of linear's weight, or null when linear is not among the decoder's.
    const Int8Rows *find(const LoraLinearImpl &linear) const;
    // The head's weight: lm_head's, or the shared embedding's for a tied head.
    const Int8Rows &head() const { return m_head; }
    // Whether every weight the copies were made from is still the model's, unwritten since.
    bool current(T5ModelImpl &model) const;
    // Bytes of the int8 values and scales.
    std::int64_t bytes() const;

private:
    // A source weight, by identity without keeping it: weak references hold the tensor's and
    // its storage's objects (so their addresses are not reused) but not the values.
    struct Source {
        c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> tensor;
        c10::weak_intrusive_ptr<c10::StorageImpl> storage;
        std::int64_t storageOffset = 0;
        std::int64_t version = 0;
        explicit Source(const at::Tensor &weight);
        bool is(const at::Tensor &weight) const;
    };
    std::unordered_map<const LoraLinearImpl *, Int8Rows> m_linears;
    Int8Rows m_head;
    std::vector<Source> m_sources;
};

// Whether the model's decoder and head are float32 on the CPU (elsewhere, e.g. on a GPU, int8
// decoding does not apply and generation runs in float32).
bool canUseInt8Decoding(T5ModelImpl &model);

// The model's int8 weights: made on the first call (about a second at flan-t5-base's size) and
// kept while the model lives and its weights stay the same. Null where canUseInt8Decoding is
// false.
std::shared_ptr<const Int8DecoderWeights>
int8DecoderWeights(const std::shared_ptr<T5ModelImpl> &model);

// model.decode(decoderIds, encoderHidden, encoderMask, &cache) for one new position (decoderIds
// (B, 1)), with the int8 weights in the fast decoding step and the head. Where the fast step does
// not apply (gradients, training mode) it is model.decode itself, in float32.
at::Tensor decodeStepInt8(T5ModelImpl &model, const at::Tensor &decoderIds,
                          const at::Tensor &encoderHidden, const at::Tensor &encoderMask,
                          T5Cache &cache, const Int8DecoderWeights &weights);

} // namespace mp
