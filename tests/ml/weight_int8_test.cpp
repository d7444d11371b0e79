// Weight-only int8 (ml/models/weight_int8.h, weight_int8_decoder.h): the quantisation's bounds,
// the int8 product against the float product over the dequantised weights, and a whole decoding
// step and a sampled sequence with int8 weights against the same in float32 on a copy of the
// model whose weights are the dequantised ones.

#include "ml/models/lora.h"
#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "ml/models/weight_int8.h"
#include "ml/models/weight_int8_decoder.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {

// Relative to the largest output: the sums run in another order.
void expectNearInt8Product(const at::Tensor &got, const at::Tensor &expected,
                           const std::string &what)
{
    ASSERT_EQ(got.sizes(), expected.sizes()) << what;
    const double scale = std::max(1e-30, expected.abs().max().item<double>());
    EXPECT_LT((got - expected).abs().max().item<double>(), 2e-6 * scale) << what;
}

mp::T5Config int8TestConfig(bool tied)
{
    mp::T5Config c;
    c.vocabSize = 60;
    c.dModel = 40;
    c.dKv = 8;
    c.dFf = 88;
    c.numLayers = 2;
    c.numDecoderLayers = 3;
    c.numHeads = 3;
    c.relativeAttentionNumBuckets = 8;
    c.relativeAttentionMaxDistance = 16;
    c.dropoutRate = 0.0;
    c.feedForwardProj = "gated-gelu";
    c.tieWordEmbeddings = tied;
    return c;
}

// The decoder's step weights and the head of a model, as Int8DecoderWeights quantises them.
std::vector<mp::LoraLinear> int8TestLinears(mp::T5Model &model)
{
    std::vector<mp::LoraLinear> linears;
    for (const auto &block : model->decoder->blocks) {
        const auto &self = block->selfAttention->SelfAttention;
        const auto &cross = block->crossAttention->EncDecAttention;
        const auto &ff = block->feedForward->DenseReluDense;
        for (const auto &linear : {self->q, self->k, self->v, self->o, cross->q, cross->o, ff->wi,
                                   ff->wi_0, ff->wi_1, ff->wo, model->lm_head})
            if (!linear.is_empty())
                linears.push_back(linear);
    }
    return linears;
}

// A copy of model (adapter included) whose decoder step weights and untied head are
// dequantize(quantize(w)): what the int8 step computes, in float32.
mp::T5Model dequantisedCopy(mp::T5Model &model, bool adapter)
{
    mp::T5Model copy(model->config());
    if (adapter)
        mp::applyLora(*copy, {.rank = 4, .alpha = 8, .targetModules = {"q", "v", "o", "wo"}});
    torch::NoGradGuard noGrad;
    const auto source = model->named_parameters();
    for (auto &p : copy->named_parameters())
        p.value().copy_(source[p.key()]);
    for (const auto &linear : int8TestLinears(copy))
        linear->weight.copy_(mp::dequantizeRows(mp::quantizeRows(linear->weight)));
    copy->eval();
    return copy;
}

mp::T5Model int8TestModel(bool tied, bool adapter)
{
    torch::manual_seed(11);
    mp::T5Model model(int8TestConfig(tied));
    if (adapter) {
        mp::applyLora(*model, {.rank = 4, .alpha = 8, .targetModules = {"q", "v", "o", "wo"}});
        torch::NoGradGuard noGrad;
        for (auto &p : model->named_parameters())
            if (p.key().find("lora_B") != std::string::npos)
                p.value().normal_(0.0, 0.2); // a trained adapter
    }
    model->eval();
    return model;
}

} // namespace

TEST(WeightInt8, QuantisationRoundTripWithinHalfAStep)
{
    torch::manual_seed(3);
    auto weight = torch::randn({37, 70});
    weight[3].zero_();      // a row of zeros: scale 0, values 0
    weight[5][9] = 40.0f;   // an outlier sets its row's scale
    weight[6].mul_(1e-20f); // tiny values: no underflow to a zero scale
    const auto q = mp::quantizeRows(weight);
    ASSERT_EQ(q.values.size(), 37u * 70u);
    ASSERT_EQ(q.scales.size(), 37u);
    const auto back = mp::dequantizeRows(q);
    for (std::int64_t j = 0; j < 37; ++j) {
        const double largest = weight[j].abs().max().item<double>();
        const double scale = q.scales[static_cast<std::size_t>(j)];
        EXPECT_FLOAT_EQ(static_cast<float>(scale), static_cast<float>(largest / 127.0)) << j;
        int extreme = 0;
        for (std::int64_t k = 0; k < 70; ++k) {
            const int level = q.values[static_cast<std::size_t>(j * 70 + k)];
            EXPECT_LE(std::abs(level), 127);
            extreme = std::max(extreme, std::abs(level));
            const double error = std::abs(weight[j][k].item<double>() - back[j][k].item<double>());
            // Half a step, with room for the float rounding of scale * q.
            EXPECT_LE(error, 0.5 * scale * (1.0 + 1e-5)) << j << ", " << k;
        }
        EXPECT_EQ(extreme, largest > 0.0 ? 127 : 0) << j; // the largest |w| maps to +-127
    }
    EXPECT_EQ(back[3].abs().max().item<float>(), 0.0f);
    EXPECT_GT(q.scales[6], 0.0f);
}

TEST(WeightInt8, ProductEqualsFloatProductOverDequantisedWeights)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(5);
    // Inputs not a multiple of 16 (the scalar tail), outputs not a multiple of any block; 1-4
    // rows (the int8 rows read directly), 5-32 and above 32 (dequantised tiles).
    for (const auto &[out, in] :
         std::vector<std::pair<int, int>>{{67, 83}, {1000, 600}, {600, 1000}})
        for (const int rows : {1, 2, 3, 4, 5, 7, 16, 33, 64}) {
            const auto q = mp::quantizeRows(torch::randn({out, in}));
            const auto dequantised = mp::dequantizeRows(q);
            const auto bias = torch::randn({out});
            const auto input = torch::randn({rows, in});
            const auto what = std::to_string(out) + "x" + std::to_string(in) + ", " +
                              std::to_string(rows) + " rows";
            expectNearInt8Product(mp::int8Linear(input, q, bias),
                                  torch::linear(input, dequantised, bias), what);
            expectNearInt8Product(mp::int8Linear(input, q, {}),
                                  torch::linear(input, dequantised, {}), what + ", no bias");
        }
    // (B, 1, in) as a decoding step has it.
    const auto q = mp::quantizeRows(torch::randn({96, 128}));
    const auto step = torch::randn({5, 1, 128});
    expectNearInt8Product(mp::int8Linear(step, q, {}),
                          torch::linear(step, mp::dequantizeRows(q), {}), "(5, 1, 128)");
}

class Int8DecodingStep : public ::testing::TestWithParam<std::tuple<std::int64_t, bool>> {};

TEST_P(Int8DecodingStep, EqualsTheFloatStepOverDequantisedWeights)
{
    const auto [rows, adapter] = GetParam();
    auto model = int8TestModel(/*tied=*/false, adapter);
    auto copy = dequantisedCopy(model, adapter);
    const auto weights = mp::int8DecoderWeights(model.ptr());
    ASSERT_TRUE(weights);
    torch::NoGradGuard noGrad;
    const auto input = torch::randint(2, 60, {rows, 7});
    auto mask = torch::ones({rows, 7}, torch::kLong);
    mask[rows - 1].narrow(0, 4, 3).zero_(); // a shorter prompt
    const auto encoded = model->encode(input, mask);
    ASSERT_TRUE(torch::equal(encoded, copy->encode(input, mask))); // the encoder stays float32
    const auto decoderIds = torch::randint(2, 60, {rows, 12});
    mp::T5Cache int8Cache;
    mp::T5Cache floatCache;
    for (std::int64_t t = 0; t < decoderIds.size(1); ++t) {
        const auto ids = decoderIds.narrow(1, t, 1);
        const auto int8 = mp::decodeStepInt8(*model, ids, encoded, mask, int8Cache, *weights);
        const auto reference = copy->decode(ids, encoded, mask, &floatCache);
        ASSERT_EQ(int8.sizes(), reference.sizes());
        EXPECT_TRUE(torch::allclose(int8, reference, 1e-5, 1e-5))
            << "step " << t << ": " << (int8 - reference).abs().max().item<float>();
    }
    EXPECT_EQ(int8Cache.length, decoderIds.size(1));
    // The quantisation is there: the float32 model's own logits are not these.
    const auto own = model->decode(decoderIds, encoded, mask);
    const auto dequantised = copy->decode(decoderIds, encoded, mask);
    EXPECT_GT((own - dequantised).abs().max().item<float>(), 1e-4);
}

// 1 and 2 rows (the int8 rows read directly), 7 (tiles), 40 (above the float product's 32), with
// and without an adapter (its deltas in float32).
INSTANTIATE_TEST_SUITE_P(Rows, Int8DecodingStep,
                         ::testing::Values(std::make_tuple(1, false), std::make_tuple(2, false),
                                           std::make_tuple(2, true), std::make_tuple(7, true),
                                           std::make_tuple(40, false)));

TEST(Int8DecodingTiedHead, TheEmbeddingStaysFloatAndTheHeadReadsInt8)
{
    auto model = int8TestModel(/*tied=*/true, false);
    auto copy = dequantisedCopy(model, false); // decoder weights only: the head is tied
    const auto weights = mp::int8DecoderWeights(model.ptr());
    ASSERT_TRUE(weights);
    torch::NoGradGuard noGrad;
    const auto input = torch::randint(2, 60, {2, 6});
    const auto encoded = model->encode(input);
    const auto headWeight = mp::dequantizeRows(mp::quantizeRows(model->shared->weight));
    mp::T5Cache int8Cache;
    mp::T5Cache floatCache;
    for (std::int64_t t = 0; t < 6; ++t) {
        const auto ids = torch::randint(2, 60, {2, 1});
        const auto int8 = mp::decodeStepInt8(*model, ids, encoded, {}, int8Cache, *weights);
        auto hidden = copy->decodeHidden(ids, encoded, {}, &floatCache);
        const auto reference = torch::matmul(hidden, headWeight.t());
        EXPECT_TRUE(torch::allclose(int8, reference, 1e-5, 1e-5))
            << "step " << t << ": " << (int8 - reference).abs().max().item<float>();
    }
}

TEST(Int8Generation, SamplesWhatTheDequantisedFloatModelSamples)
{
    for (const bool adapter : {false, true}) {
        auto model = int8TestModel(/*tied=*/false, adapter);
        auto copy = dequantisedCopy(model, adapter);
        const std::vector<std::vector<std::int64_t>> prompts = {
            {5, 9, 12, 1}, {7, 3, 1}, {5, 9, 12, 1}, {20, 21, 22, 23, 24, 1}};
        mp::GenerateOptions options{.sampling = {.temperature = 1.0, .topK = 20},
                                    .seeds = {1, 2, 3, 4},
                                    .maxMotionTokens = 16};
        const std::vector<std::int64_t> stops = {1};
        const auto floats = mp::generateTokensBatch(copy, prompts, stops, options);
        options.int8Weights = true;
        const auto int8 = mp::generateTokensBatch(model, prompts, stops, options);
        EXPECT_EQ(int8.sequences, floats.sequences) << "adapter " << adapter;
        EXPECT_EQ(int8.rowSteps, floats.rowSteps);
    }
}

TEST(Int8Generation, WeightsAreMadeOnceAndRemadeWhenTheModelChanges)
{
    auto model = int8TestModel(/*tied=*/false, true);
    const auto first = mp::int8DecoderWeights(model.ptr());
    ASSERT_TRUE(first);
    EXPECT_EQ(mp::int8DecoderWeights(model.ptr()), first); // kept
    EXPECT_TRUE(first->current(*model));
    EXPECT_GT(first->bytes(), 0);
    // Merging the adapter writes the base weights in place: new copies, of the merged weights.
    mp::mergeLora(*model);
    EXPECT_FALSE(first->current(*model));
    const auto merged = mp::int8DecoderWeights(model.ptr());
    EXPECT_NE(merged, first);
    const auto &q = model->decoder->blocks[0]->selfAttention->SelfAttention->q;
    const auto *rows = merged->find(*q);
    ASSERT_NE(rows, nullptr);
    EXPECT_TRUE(
        torch::equal(mp::dequantizeRows(*rows), mp::dequantizeRows(mp::quantizeRows(q->weight))));
    // A weight given another storage (set_data, as a load may do): remade too.
    {
        torch::NoGradGuard noGrad;
        q->weight.set_data(q->weight.clone());
    }
    EXPECT_FALSE(merged->current(*model));
    // Another model gets its own copies; the cross-attention's k is not among them.
    auto other = int8TestModel(/*tied=*/false, false);
    const auto otherWeights = mp::int8DecoderWeights(other.ptr());
    EXPECT_NE(otherWeights, merged);
    EXPECT_EQ(otherWeights->find(*other->decoder->blocks[0]->crossAttention->EncDecAttention->k),
              nullptr);
    EXPECT_EQ(otherWeights->find(*q), nullptr); // the first model's layer
}

TEST(Int8Generation, TheCopiesDoNotKeepAModelsWeights)
{
    std::shared_ptr<const mp::Int8DecoderWeights> weights;
    std::optional<c10::weak_intrusive_ptr<c10::StorageImpl>> storage;
    {
        auto model = int8TestModel(/*tied=*/false, false);
        weights = mp::int8DecoderWeights(model.ptr());
        storage = model->decoder->blocks[0]
                      ->selfAttention->SelfAttention->q->weight.storage()
                      .getWeakStorageImpl();
        EXPECT_FALSE(storage->expired());
    }
    EXPECT_TRUE(storage->expired()); // the model is gone, and its float32 weights with it
    EXPECT_GT(weights->bytes(), 0);
}
