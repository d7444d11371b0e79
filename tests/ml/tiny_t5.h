#pragma once
// A random two-layer T5 with a 50-token vocabulary, for the generation tests (sampler_test,
// sampler_batch_test): small enough that a whole sampling loop takes milliseconds.

#include "ml/models/t5.h"

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

} // namespace mp::test
