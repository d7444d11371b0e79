#include "ml/core/error.h"
#include "ml/models/vqvae.h"
#include "ml/models/vqvae_eval.h"
#include "ml/motion/features.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

namespace {

// A VQ-VAE whose every weight is zero: the decoder outputs 0 in normalised space, so the
// reconstruction is exactly the mean features, and every frame maps to the code nearest to 0.
mp::VqVae zeroVqVae()
{
    mp::VqVae vqvae(mp::VqVaeConfig{.inputDim = 263, .numCodes = 16, .codeDim = 8, .width = 12});
    torch::NoGradGuard noGrad;
    for (auto &p : vqvae->parameters())
        p.zero_();
    auto codebook = torch::randn({16, 8}) + 1.0;
    codebook[5].zero_(); // the code nearest to the zero encoding
    vqvae->quantizer->setCodebook(codebook);
    return vqvae;
}

// A walking-like clip: the root moves along +Z, the joints sway.
at::Tensor clip(std::int64_t frames, double phase)
{
    auto f = torch::zeros({frames, 263}, torch::kFloat);
    const auto t = torch::arange(frames, torch::kFloat);
    f.select(1, 2).fill_(0.05); // root velocity z
    f.select(1, 3).fill_(0.9);  // root height
    f.narrow(1, 4, 63).copy_(
        torch::sin(t.unsqueeze(1) * 0.2 + phase + torch::arange(63, torch::kFloat).unsqueeze(0)) *
        0.3);
    return f;
}

TEST(VqVaeEval, MeanPoseReconstructionGivesTheHandComputedError)
{
    auto vqvae = zeroVqVae();
    const auto mean = torch::linspace(-0.1, 0.1, 263);
    const auto std = torch::full({263}, 0.5);
    const std::vector<at::Tensor> clips = {clip(42, 0.0), clip(17, 1.0), clip(3, 2.0)};
    const auto r = mp::measureVqVaeReconstruction(vqvae, clips, {"a", "b", "c"}, mean, std);

    // Frames cut to multiples of 4; the 3-frame clip has no whole code and is left out.
    EXPECT_EQ(r.clips, 2);
    EXPECT_EQ(r.frames, 40 + 16);
    double sum = 0.0;
    double relativeSum = 0.0;
    double worst = 0.0;
    for (const auto &[index, frames] : {std::pair{0, 40}, std::pair{1, 16}}) {
        const auto truth = mp::recoverFromRic(clips[index].narrow(0, 0, frames).to(torch::kDouble));
        const auto meanPose =
            mp::recoverFromRic(mean.unsqueeze(0).expand({frames, 263}).to(torch::kDouble));
        const auto errors = (meanPose - truth).norm(2, -1);
        sum += errors.sum().item<double>();
        relativeSum += ((meanPose - meanPose.narrow(1, 0, 1)) - (truth - truth.narrow(1, 0, 1)))
                           .norm(2, -1)
                           .sum()
                           .item<double>();
        worst = std::max(worst, 1000.0 * errors.mean().item<double>());
    }
    EXPECT_NEAR(r.mpjpeMm, 1000.0 * sum / (56.0 * 22.0), 1e-3);
    EXPECT_NEAR(r.rootRelativeMpjpeMm, 1000.0 * relativeSum / (56.0 * 22.0), 1e-3);
    EXPECT_NEAR(r.worstClipMpjpeMm, worst, 1e-3);
    EXPECT_GT(r.mpjpeMm, 100.0); // the mean pose is far from a walk
    // Normalised features: |0 - (x - mean) / std| averaged.
    const auto n0 = ((clips[0].narrow(0, 0, 40) - mean) / std).abs().sum();
    const auto n1 = ((clips[1].narrow(0, 0, 16) - mean) / std).abs().sum();
    EXPECT_NEAR(r.featureL1, (n0 + n1).item<double>() / (56.0 * 263.0), 1e-5);
    // One code for everything.
    EXPECT_DOUBLE_EQ(r.codesUsed, 1.0 / 16.0);
    EXPECT_NEAR(r.perplexity, 1.0, 1e-9);
    EXPECT_EQ(r.toJson()["clips"], 2);
}

TEST(VqVaeEval, BadInputIsAnInputError)
{
    auto vqvae = zeroVqVae();
    const auto mean = torch::zeros({263});
    const auto std = torch::ones({263});
    EXPECT_THROW(mp::measureVqVaeReconstruction(vqvae, {clip(3, 0.0)}, {"short"}, mean, std),
                 mp::InputError);
    EXPECT_THROW(
        mp::measureVqVaeReconstruction(vqvae, {torch::zeros({40, 22, 3})}, {"joints"}, mean, std),
        mp::InputError);
    // maxClips takes the first clips only.
    const auto r = mp::measureVqVaeReconstruction(vqvae, {clip(40, 0.0), clip(40, 1.0)}, {}, mean,
                                                  std, {.maxClips = 1});
    EXPECT_EQ(r.clips, 1);
}

} // namespace
