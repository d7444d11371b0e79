// The C++ T5 against transformers' T5ForConditionalGeneration on the same weights and inputs
// (tests/reference/t5_lora.py writes the goldens): encoder states, teacher-forced logits, the
// KV-cached step-by-step decode and greedy generate() ids, for an untied gated-gelu model saved
// by transformers 5 (tie_word_embeddings true + lm_head.weight in the file) and a tied T5 v1.0
// one (relu, head = shared embedding scaled by d_model^-0.5). The sequences reach past
// relative_attention_max_distance in the encoder and the decoder.

#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "reference_compare.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

constexpr double kT5Tolerance = 1e-4; // fp32, relative to the tensor's largest value

struct T5Fixture {
    mp::T5Model model{nullptr};
    mp::reference::Golden io;
};

T5Fixture loadFixture(const std::string &name)
{
    return {mp::reference::goldenT5(name),
            mp::reference::Golden(mp::reference::goldenDir("t5") / (name + "_io.safetensors"))};
}

// Each row's tokens where its mask is 1 (the prompt without padding).
std::vector<std::vector<std::int64_t>> unpadded(const at::Tensor &ids, const at::Tensor &mask)
{
    std::vector<std::vector<std::int64_t>> rows;
    for (std::int64_t r = 0; r < ids.size(0); ++r) {
        std::vector<std::int64_t> row;
        for (std::int64_t t = 0; t < ids.size(1); ++t)
            if (mask[r][t].item<std::int64_t>() != 0)
                row.push_back(ids[r][t].item<std::int64_t>());
        rows.push_back(row);
    }
    return rows;
}

// HF generate()'s row without the decoder start token, cut after the first </s> (the rest is
// padding).
std::vector<std::int64_t> generatedRow(const at::Tensor &generated, std::int64_t row,
                                       std::int64_t eos)
{
    std::vector<std::int64_t> out;
    for (std::int64_t t = 1; t < generated.size(1); ++t) {
        out.push_back(generated[row][t].item<std::int64_t>());
        if (out.back() == eos)
            break;
    }
    return out;
}

at::Tensor cachedLogits(mp::T5Model &model, const at::Tensor &encoded, const at::Tensor &mask,
                        const at::Tensor &decoderIds)
{
    mp::T5Cache cache;
    std::vector<at::Tensor> steps;
    for (std::int64_t t = 0; t < decoderIds.size(1); ++t)
        steps.push_back(model->decode(decoderIds.narrow(1, t, 1), encoded, mask, &cache));
    return torch::cat(steps, 1);
}

void checkAgainstTransformers(const std::string &name)
{
    auto [model, io] = loadFixture(name);
    torch::NoGradGuard noGrad;
    const auto &ids = io["encoder_input_ids"];
    const auto &mask = io["encoder_attention_mask"];
    const auto decoderIds = model->shiftRight(io["labels"]);
    EXPECT_TRUE(torch::equal(decoderIds, io["decoder_input_ids"])) << "_shift_right";

    const auto encoded = model->encode(ids, mask);
    mp::reference::expectClose(name + " encoder states", encoded, io["encoder_last_hidden_state"],
                               kT5Tolerance);
    const auto logits = model->decode(decoderIds, encoded, mask);
    mp::reference::expectClose(name + " logits", logits, io["logits"], kT5Tolerance);

    const auto cached = cachedLogits(model, encoded, mask, decoderIds);
    mp::reference::expectClose(name + " KV-cached logits", cached, io["cached_logits"],
                               kT5Tolerance);
    mp::reference::expectClose(name + " KV-cached vs uncached (C++)", cached, logits, 1e-5);

    const auto eos = model->config().eosTokenId;
    const auto maxNew = io.meta("max_new_tokens").get<std::int64_t>();
    const auto prompts = unpadded(ids, mask);
    for (bool useCache : {true, false}) {
        mp::GenerateOptions options;
        options.sampling.greedy = true;
        options.seeds.assign(prompts.size(), 0);
        options.maxMotionTokens = maxNew - 2; // the loop adds two steps (start/end of motion)
        options.useCache = useCache;
        const auto result = mp::generateTokensBatch(model, prompts, {eos}, options);
        for (std::size_t r = 0; r < prompts.size(); ++r)
            EXPECT_EQ(result.sequences[r],
                      generatedRow(io["generated_ids"], static_cast<std::int64_t>(r), eos))
                << name << " greedy row " << r << (useCache ? " (cached)" : " (uncached)");
    }
}

TEST(T5Reference, UntiedModelSavedByTransformers5MatchesIt)
{
    checkAgainstTransformers("small");
    // transformers 5 wrote tie_word_embeddings true; the file's own lm_head.weight unties it.
    auto [model, io] = loadFixture("small");
    EXPECT_FALSE(model->lm_head.is_empty());
    EXPECT_FALSE(model->config().scalesDecoderOutput());
}

TEST(T5Reference, TiedScaledModelMatchesTransformers)
{
    checkAgainstTransformers("tied");
    auto [model, io] = loadFixture("tied");
    EXPECT_TRUE(model->lm_head.is_empty());
    EXPECT_TRUE(model->config().scalesDecoderOutput());
}

TEST(T5Reference, SequencesReachPastTheMaximumDistance)
{
    // Guards the goldens: the relative-position buckets beyond max_distance are exercised.
    for (const std::string name : {"small", "tied"}) {
        auto [model, io] = loadFixture(name);
        const auto maxDistance = model->config().relativeAttentionMaxDistance;
        EXPECT_GT(io["encoder_input_ids"].size(1), maxDistance + 1) << name;
        EXPECT_GT(io["labels"].size(1), maxDistance + 1) << name;
    }
}

} // namespace
