#pragma once
// A random, tiny model bundle written to a directory, for tests that need a ModelBundle to
// generate with (pair generation, the Label panel) but not a trained one: generation takes a few
// milliseconds. The normalisation's mean is the SMPL-22 rest pose standing still, so the motions
// are small random movements of a standing body (263-d HumanML3D features, 22 joints).

#include "ml/models/bundle.h"
#include "ml/models/tokenizer.h"
#include "ml/motion/features.h"
#include "ml/motion/skeleton.h"

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

namespace mp::test {

inline BundleConfig tinyBundleConfig()
{
    BundleConfig c;
    c.tokens = {.textVocabSize = 100, .numMotionCodes = 16};
    c.t5.vocabSize = c.tokens.vocabSize();
    c.t5.dModel = 16;
    c.t5.dKv = 4;
    c.t5.dFf = 32;
    c.t5.numLayers = 1;
    c.t5.numDecoderLayers = 2;
    c.t5.numHeads = 2;
    c.t5.relativeAttentionNumBuckets = 8;
    c.t5.relativeAttentionMaxDistance = 20;
    c.t5.feedForwardProj = "gated-gelu";
    c.t5.tieWordEmbeddings = false;
    c.vqvae = {.inputDim = 263, .numCodes = 16, .codeDim = 8, .width = 12};
    c.maxMotionTokens = 10;
    return c;
}

// Writes the bundle to directory/bundle (scratch files in directory/src); returns its path.
inline std::filesystem::path writeTinyBundle(const std::filesystem::path &directory)
{
    torch::manual_seed(0);
    std::filesystem::create_directories(directory / "src");
    std::vector<std::string> sentences;
    for (const char *verb : {"walks", "runs", "jumps", "waves", "kicks"})
        for (const char *way : {"forward", "backward", "left", "right", "slowly", "twice"})
            sentences.push_back(std::string("a person ") + verb + " " + way);
    trainSentencePiece(sentences, directory / "src" / "spiece.model", {.vocabSize = 40});
    const BundleConfig config = tinyBundleConfig();
    VqVae vqvae(config.vqvae);
    vqvae->quantizer->setCodebook(torch::randn({16, 8}) * 0.3);
    const Skeleton &body = smpl22();
    at::Tensor rest = body.restPositions(torch::dtype(torch::kFloat));
    rest.select(1, 1) += body.restRootHeightM();
    const at::Tensor standing = extractFeatures(rest.unsqueeze(0).repeat({8, 1, 1})).mean(0);
    ModelBundle bundle(config, T5Model(config.t5), vqvae, directory / "src" / "spiece.model",
                       standing, torch::full({263}, 0.02));
    bundle.save(directory / "bundle");
    return directory / "bundle";
}

} // namespace mp::test
