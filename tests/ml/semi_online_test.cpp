// Semi-online DPO pairs (ml/run/semi_online.h) with the embedded default on a small corpus: the
// chosen side is the caption's own clip encoded by the bundle's VQ-VAE, the rejected side a
// policy sample, the one the simulated labeler's match score puts lowest; a refresh is
// reproducible and another refresh draws other samples.

#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/corpus/corpus_builder.h"
#include "ml/data/npy.h"
#include "ml/models/bundle.h"
#include "ml/run/semi_online.h"

#include "temp_dir.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>

namespace fs = std::filesystem;

namespace {

using mp::test::TempDir;

std::vector<std::int64_t> encodeClip(mp::ModelBundle &bundle, const fs::path &corpus,
                                     const std::string &clipId)
{
    torch::NoGradGuard noGrad;
    bundle.vqvae()->eval();
    const auto features = mp::npy::read(corpus / "new_joint_vecs" / (clipId + ".npy"));
    const auto down = bundle.config().vqvae.downsampling();
    const auto frames = features.size(0) / down * down;
    const auto codes =
        bundle.vqvae()->encode(bundle.normalize(features.narrow(0, 0, frames)).unsqueeze(0))[0];
    return {codes.data_ptr<std::int64_t>(), codes.data_ptr<std::int64_t>() + codes.numel()};
}

} // namespace

TEST(SemiOnline, ChosenIsTheClipAndRejectedTheLowestScoredPolicySample)
{
    TempDir dir;
    mp::corpus::buildCorpus(dir.path(), {.numClips = 30, .seed = 4321, .threads = 1});
    mp::ModelBundle bundle(mp::defaultModelDir());
    const mp::SemiOnlineSource source(
        bundle, {.corpus = dir.path(), .split = "train", .candidates = 4, .prompts = 3, .seed = 7});
    ASSERT_EQ(source.size(), 3u);

    const auto refresh = source.build({0, 1, 2}, 1);
    ASSERT_EQ(refresh.pairs.size(), 3u);
    for (std::size_t i = 0; i < refresh.pairs.size(); ++i) {
        const auto &built = refresh.pairs[i];
        SCOPED_TRACE("caption " + std::to_string(i));
        EXPECT_EQ(built.pair.pairId, static_cast<std::int64_t>(i) + 1);
        EXPECT_EQ(built.pair.prompt, source.prompt(i).caption);
        // Chosen: the dataset's clip for the caption, as the VQ-VAE encodes it.
        EXPECT_EQ(built.pair.chosen, encodeClip(bundle, dir.path(), source.prompt(i).clipId));
        // Rejected: one of the K policy samples, the lowest-scored one.
        ASSERT_EQ(built.candidateCodes.size(), 4u);
        ASSERT_EQ(built.candidateScores.size(), 4u);
        EXPECT_EQ(built.pair.rejected, built.candidateCodes[built.rejectedIndex]);
        EXPECT_NE(built.pair.rejected, built.pair.chosen);
        for (std::size_t c = 0; c < 4; ++c)
            if (!built.candidateCodes[c].empty())
                EXPECT_LE(built.candidateScores[built.rejectedIndex], built.candidateScores[c]);
        // The clip matches its own caption's intent better than the sample it is paired with.
        EXPECT_GT(built.clipScore, built.candidateScores[built.rejectedIndex]);
        EXPECT_GT(built.clipScore, -0.01); // its own measures, up to frame rounding
    }
    // The candidates are samples of the model: generating with the same (deterministic) seeds
    // again gives the same pairs, and another refresh other samples.
    const auto again = source.build({0, 1, 2}, 1);
    const auto other = source.build({0, 1, 2}, 2);
    bool otherDiffers = false;
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(again.pairs[i].candidateCodes, refresh.pairs[i].candidateCodes);
        otherDiffers |= other.pairs[i].candidateCodes != refresh.pairs[i].candidateCodes;
    }
    EXPECT_TRUE(otherDiffers);
    EXPECT_LE(refresh.meanRejectedScore, refresh.meanCandidateScore);
}

TEST(SemiOnline, RefusesBadInputs)
{
    TempDir dir;
    mp::ModelBundle bundle(mp::defaultModelDir());
    try {
        mp::SemiOnlineSource source(bundle, {.corpus = dir.path(), .prompts = 2});
        FAIL() << "an empty directory is no corpus";
    } catch (const mp::InputError &error) {
        EXPECT_NE(std::string(error.what()).find("manifest.json"), std::string::npos)
            << error.what();
    }
    EXPECT_THROW(mp::SemiOnlineSource(bundle, {.corpus = dir.path(), .candidates = 9}),
                 mp::InputError);
}
