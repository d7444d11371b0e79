#pragma once
// Tiny random T5s for tests: a two-layer one with a 50-token vocabulary for the generation tests
// (sampler_test, sampler_batch_test), small enough that a whole sampling loop takes
// milliseconds, a one-layer one with preference batches for the DPO tests (t5_policy_test,
// full_finetune_test), and a one-layer one for the trainers' tests.

#include <cstdint>

#include <torch/torch.h>

#include "ml/models/t5.h"
#include "ml/train/dpo_trainer.h"

namespace mp::test {

inline T5Model tinyGenerationT5()
{
    T5Config c;
    c.vocabSize = 50;
    c.dModel = 16;
    c.dKv = 4;
    c.dFf = 32;
    c.numLayers = 2;
    c.numDecoderLayers = 2;
    c.numHeads = 2;
    c.relativeAttentionNumBuckets = 8;
    c.relativeAttentionMaxDistance = 20;
    c.feedForwardProj = "gated-gelu";
    c.tieWordEmbeddings = false;
    return T5Model(c);
}

// One layer each side, 24 tokens, dropout 0.1 (the DPO tests switch it off or not).
inline T5Config tinyPolicyT5Config()
{
    T5Config c;
    c.vocabSize = 24;
    c.dModel = 16;
    c.dKv = 4;
    c.dFf = 32;
    c.numLayers = 1;
    c.numDecoderLayers = 1;
    c.numHeads = 2;
    c.relativeAttentionNumBuckets = 8;
    c.relativeAttentionMaxDistance = 16;
    c.dropoutRate = 0.1;
    c.feedForwardProj = "gated-gelu";
    c.tieWordEmbeddings = false;
    return c;
}

// One layer each side, 30 tokens, d_model 32, no dropout: the trainers' tests (trainers_test,
// ppo_trainer_test).
inline T5Config tinyTrainerT5Config()
{
    T5Config c;
    c.vocabSize = 30;
    c.dModel = 32;
    c.dKv = 8;
    c.dFf = 64;
    c.numLayers = 1;
    c.numDecoderLayers = 1;
    c.numHeads = 4;
    c.dropoutRate = 0.0;
    c.feedForwardProj = "gated-gelu";
    c.tieWordEmbeddings = false;
    return c;
}

// B pairs on random 4-token prompts: the preferred answer is a fixed "style" (tokens 5, 6, </s>),
// the rejected one random (two tokens, </s>). Draws from the default generator.
inline PreferenceBatch styledPreferenceBatch(std::int64_t b)
{
    const at::Tensor prompt = torch::randint(3, 24, {b, 4});
    const at::Tensor eos = torch::ones({b, 1}, torch::kLong);
    return {.promptIds = prompt,
            .promptMask = torch::ones({b, 4}, torch::kLong),
            .chosenLabels = torch::cat({torch::tensor({5L, 6L}).repeat({b, 1}), eos}, 1),
            .rejectedLabels = torch::cat({torch::randint(3, 24, {b, 2}), eos}, 1)};
}

} // namespace mp::test
