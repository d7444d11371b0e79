#pragma once
// Autoregressive generation of motion-token sequences from a T5 model: several samples in one
// batch (one seed each, one prompt each or one shared), each distinct prompt encoded once (right-
// padded with an encoder mask), an incremental decoder with a KV cache, and each row stopping at
// end-of-motion or </s>; finished rows leave the batch and its cache.

#include <cstdint>
#include <vector>

#include "ml/core/progress.h"
#include "ml/models/sampler.h"
#include "ml/models/t5.h"

namespace mp {

// More motion tokens than any model makes (MotionGPT: 49 for 196 frames, max_length 128): a
// bound on the time and the cache a request may take.
constexpr std::int64_t kMaxMotionTokensLimit = 1024;

struct GenerateOptions {
    SampleOptions sampling;
    std::vector<std::uint64_t> seeds = {0}; // one sample per seed
    std::int64_t maxMotionTokens = 49;      // codes; SOM and EOM come on top
    bool useCache = true;                   // false re-runs the decoder on the whole prefix
    // Cached decoding steps read int8 copies of the decoder's linear weights and the LM head
    // (ml/models/weight_int8_decoder.h: made once per model, activations and LoRA deltas stay
    // float32). CPU float32 models only; elsewhere, and without the cache, float32.
    bool int8Weights = false;
};

struct GeneratedTokens {
    std::vector<std::vector<std::int64_t>> sequences; // per sample, without the start token
    std::int64_t decoderSteps = 0;
    std::int64_t rowSteps = 0; // decoder row-steps computed (finished rows drop out)
};

// promptIds: the encoded prompt (with </s>), the same for every sample. stopIds: a row ends
// when it emits one of them (EOM, </s>). Runs in eval mode without gradients and restores the
// model's training flag.
GeneratedTokens generateTokens(T5Model &model, const std::vector<std::int64_t> &promptIds,
                               const std::vector<std::int64_t> &stopIds,
                               const GenerateOptions &options, const ProgressFn &progress = {});

// One prompt per sample: prompts[i] (encoded, with </s>) is sampled with options.seeds[i]. A row's
// tokens depend only on its prompt and seed, not on the other rows (up to float rounding of the
// batched matrix products).
GeneratedTokens generateTokensBatch(T5Model &model,
                                    const std::vector<std::vector<std::int64_t>> &prompts,
                                    const std::vector<std::int64_t> &stopIds,
                                    const GenerateOptions &options,
                                    const ProgressFn &progress = {});

} // namespace mp
