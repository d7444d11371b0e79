// The C++ T5 at flan-t5-base's size with MotionGPT's vocabulary (32100 text + 515 motion tokens)
// against transformers. The weights (~1 GB) are not stored: tests/reference/t5_lora.py fills
// every parameter of the HF model from a formula of its name's sorted place and the flattened
// index, and this test applies the same formula to ours by HF name; the golden holds the inputs
// and some outputs (encoder states, logit columns around the text/motion boundary, each row's
// logsumexp and argmax, greedy ids).

#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "reference_compare.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr double kTolerance = 1e-4;

// t5_lora.py formula_scale / formula_values, term for term (float64, then float32).
at::Tensor formulaValues(std::int64_t index, const std::string &name, at::IntArrayRef shape,
                         std::int64_t dKv)
{
    std::int64_t count = 1;
    for (auto size : shape)
        count *= size;
    const auto i = torch::arange(count, torch::kDouble);
    const auto phase = i * 0.61803398875 + (i * i) * 1.3e-7 + (0.5 + 0.7 * index);
    const auto wave = torch::sin(phase);
    at::Tensor values;
    if (shape.size() == 1) {
        values = wave * 0.2 + 1.0;
    } else {
        const auto endsWith = [&](const std::string &suffix) {
            return name.size() >= suffix.size() &&
                   name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
        };
        double scale = std::pow(static_cast<double>(shape[1]), -0.5);
        if (name == "shared.weight" || endsWith("relative_attention_bias.weight"))
            scale = 1.0;
        else if (endsWith(".q.weight"))
            scale = std::pow(static_cast<double>(shape[1] * dKv), -0.5);
        values = wave * scale;
    }
    return values.to(torch::kFloat).reshape(shape);
}

TEST(T5FlanReference, FormulaWeightsGiveTransformersOutputs)
{
    const auto dir = mp::reference::goldenDir("t5") / "flan_formula";
    const mp::reference::Golden io(dir / "io.safetensors");
    auto config = mp::T5Config::load(dir / "config.json");
    EXPECT_EQ(config.vocabSize, 32100 + 515);
    EXPECT_EQ(config.dModel, 768);
    EXPECT_EQ(config.numDecoderLayers, 12);
    EXPECT_FALSE(config.scalesDecoderOutput());
    // transformers 5 writes tie_word_embeddings true for every T5 and marks an untied head only
    // by lm_head.weight in the weights file, which this fixture does not have.
    config.tieWordEmbeddings = false;
    mp::T5Model model(config);

    auto params = model->named_parameters();
    std::vector<std::string> names;
    for (const auto &item : params)
        names.push_back(item.key());
    std::sort(names.begin(), names.end());
    ASSERT_EQ(names, io.meta("parameter_names").get<std::vector<std::string>>());
    {
        torch::NoGradGuard noGrad;
        for (std::size_t k = 0; k < names.size(); ++k) {
            auto &param = params[names[k]];
            param.copy_(
                formulaValues(static_cast<std::int64_t>(k), names[k], param.sizes(), config.dKv));
        }
    }
    model->eval();
    torch::NoGradGuard noGrad;

    const auto &ids = io["encoder_input_ids"];
    const auto &mask = io["encoder_attention_mask"];
    const auto encoded = model->encode(ids, mask);
    mp::reference::expectClose("flan encoder states", encoded, io["encoder_last_hidden_state"],
                               kTolerance);
    const auto decoderIds = model->shiftRight(io["labels"]);
    const auto logits = model->decode(decoderIds, encoded, mask);
    const auto &columns = io["logit_columns"];
    mp::reference::expectClose("flan logits (columns)", logits.index_select(2, columns),
                               io["logits_columns"], kTolerance);
    mp::reference::expectClose("flan logits logsumexp", logits.logsumexp(-1),
                               io["logits_logsumexp"], kTolerance);
    EXPECT_TRUE(torch::equal(logits.argmax(-1), io["logits_argmax"]));

    mp::T5Cache cache;
    std::vector<at::Tensor> steps;
    for (std::int64_t t = 0; t < decoderIds.size(1); ++t)
        steps.push_back(model->decode(decoderIds.narrow(1, t, 1), encoded, mask, &cache));
    const auto cached = torch::cat(steps, 1);
    mp::reference::expectClose("flan KV-cached logits (columns)", cached.index_select(2, columns),
                               io["cached_logits_columns"], kTolerance);
    mp::reference::expectClose("flan KV-cached logsumexp", cached.logsumexp(-1),
                               io["cached_logits_logsumexp"], kTolerance);
    mp::reference::expectClose("flan KV-cached vs uncached (C++)", cached, logits, 1e-5);

    // Greedy generate() on the padded batch: prompts without their padding, rows end at </s>.
    std::vector<std::vector<std::int64_t>> prompts;
    for (std::int64_t r = 0; r < ids.size(0); ++r) {
        const auto length = mask[r].sum().item<std::int64_t>();
        const auto row = ids[r].narrow(0, 0, length).contiguous();
        prompts.emplace_back(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + length);
    }
    mp::GenerateOptions options;
    options.sampling.greedy = true;
    options.seeds.assign(prompts.size(), 0);
    options.maxMotionTokens = io.meta("max_new_tokens").get<std::int64_t>() - 2;
    const auto result = mp::generateTokensBatch(model, prompts, {config.eosTokenId}, options);
    const auto &generated = io["generated_ids"];
    for (std::int64_t r = 0; r < generated.size(0); ++r) {
        std::vector<std::int64_t> expected;
        for (std::int64_t t = 1; t < generated.size(1); ++t) {
            expected.push_back(generated[r][t].item<std::int64_t>());
            if (expected.back() == config.eosTokenId)
                break;
        }
        EXPECT_EQ(result.sequences[static_cast<std::size_t>(r)], expected) << "row " << r;
    }
}

} // namespace
