// DPO on a tiny T5 with LoRA through T5Policy: the adapter-disabled model is exactly the base, the
// loss decreases, and adapter-only checkpoints resume.
#include "ml/models/lora.h"
#include "ml/models/t5.h"
#include "ml/models/t5_config.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/t5_policy.h"
#include "tiny_t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

namespace {

TEST(T5Policy, DisabledAdapterIsTheBaseAndDpoLearns)
{
    torch::manual_seed(5);
    mp::T5Model model(mp::test::tinyPolicyT5Config());
    const mp::PreferenceBatch probe = mp::test::styledPreferenceBatch(6);
    const at::Tensor labels = mp::concatenatedLabels(probe.chosenLabels, probe.rejectedLabels);
    model->eval();
    const at::Tensor baseLogits = [&] {
        torch::NoGradGuard noGrad;
        return model->forward(probe.promptIds.repeat({2, 1}), probe.promptMask.repeat({2, 1}),
                              model->shiftRight(labels));
    }();
    mp::applyLora(*model, mp::LoraConfig{.rank = 2, .alpha = 4.0});
    mp::T5Policy policy(model);
    mp::DpoTrainer trainer(policy, {.loss = {.type = mp::DpoLossType::Sigmoid, .beta = 0.5},
                                    .optimizer = {.lr = 0.02},
                                    .schedule = mp::ScheduleKind::Constant,
                                    .totalSteps = 40});
    double first = 0, lastTen = 0;
    for (int i = 0; i < 40; ++i) {
        const double loss = trainer.step({mp::test::styledPreferenceBatch(16)}).at("loss");
        if (i == 0)
            first = loss;
        if (i >= 30)
            lastTen += loss / 10;
    }
    EXPECT_NEAR(first, std::log(2.0), 1e-5); // B = 0 at start: policy == reference
    EXPECT_LT(lastTen, 0.3) << "mean loss of the last 10 steps";

    torch::NoGradGuard noGrad;
    policy.setAdapterEnabled(false);
    const at::Tensor disabled =
        policy.forward(probe.promptIds.repeat({2, 1}), probe.promptMask.repeat({2, 1}), labels);
    EXPECT_TRUE(torch::equal(disabled, baseLogits));
    policy.setAdapterEnabled(true);
    const at::Tensor enabled =
        policy.forward(probe.promptIds.repeat({2, 1}), probe.promptMask.repeat({2, 1}), labels);
    EXPECT_FALSE(torch::allclose(enabled, baseLogits));
}

TEST(T5Policy, AdapterCheckpointRoundTrip)
{
    const auto dir =
        std::filesystem::temp_directory_path() / ("mp_t5_policy_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    torch::manual_seed(6);
    mp::T5Model model(mp::test::tinyPolicyT5Config());
    mp::applyLora(*model, mp::LoraConfig{.rank = 2, .alpha = 4.0});
    mp::T5Policy policy(model);
    mp::DpoTrainer trainer(policy, {.optimizer = {.lr = 0.02}, .totalSteps = 10});
    trainer.step({mp::test::styledPreferenceBatch(4)});
    trainer.saveCheckpoint(dir);

    torch::manual_seed(7);
    mp::T5Model other(mp::test::tinyPolicyT5Config());
    mp::applyLora(*other, mp::LoraConfig{.rank = 2, .alpha = 4.0});
    mp::T5Policy otherPolicy(other);
    mp::DpoTrainer resumed(otherPolicy, {.optimizer = {.lr = 0.02}, .totalSteps = 10});
    resumed.loadCheckpoint(dir);
    const auto a = policy.trainableParameters();
    const auto b = otherPolicy.trainableParameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
    std::filesystem::remove_all(dir);
}

// T5Policy::scoreLabels applies the head at the scored positions only and sums the logits from
// the summed states: the same log-probs, logit sums and adapter gradients as the generic
// PolicyModel::scoreLabels over forward's full logits (padded labels included), tied or untied.
TEST(T5Policy, ScoredPositionsOnlyGiveTheFullLogitsResults)
{
    for (const bool tied : {true, false}) {
        torch::manual_seed(8);
        auto config = mp::test::tinyPolicyT5Config();
        config.tieWordEmbeddings = tied;
        mp::T5Model model(config);
        mp::applyLora(*model, mp::LoraConfig{.rank = 2, .alpha = 4.0});
        mp::T5Policy policy(model);
        {
            torch::NoGradGuard noGrad;
            for (auto &parameter : policy.trainableParameters())
                parameter.normal_(0.0, 0.3); // lora_B too, so the adapter matters
        }
        const mp::PreferenceBatch probe = mp::test::styledPreferenceBatch(6);
        // Padding as a real batch has it: a column only one row fills, shorter rows.
        at::Tensor labels = mp::concatenatedLabels(probe.chosenLabels, probe.rejectedLabels);
        labels = torch::cat(
            {labels, torch::full({labels.size(0), 1}, mp::kIgnoreLabel, labels.options())}, 1);
        labels.index_put_({0, 3}, 7);
        labels.slice(0, 1, 4).select(1, 2).fill_(mp::kIgnoreLabel);
        const auto ids = probe.promptIds.repeat({2, 1});
        const auto mask = probe.promptMask.repeat({2, 1});
        const auto run = [&](bool scoredOnly) {
            policy.module().zero_grad();
            const auto scored = scoredOnly
                                    ? policy.scoreLabels(ids, mask, labels, {})
                                    : policy.mp::PolicyModel::scoreLabels(ids, mask, labels, {});
            scored.tokens.logps.sum().backward();
            std::vector<at::Tensor> grads;
            for (const auto &parameter : policy.trainableParameters())
                grads.push_back(parameter.grad().clone());
            return std::make_pair(scored, grads);
        };
        const auto [full, fullGrads] = run(false);
        const auto [fast, fastGrads] = run(true);
        EXPECT_TRUE(torch::equal(fast.tokens.mask, full.tokens.mask));
        EXPECT_TRUE(torch::allclose(fast.tokens.logps, full.tokens.logps, 1e-5, 1e-5));
        EXPECT_EQ(fast.logitsPerRow, full.logitsPerRow);
        EXPECT_TRUE(torch::allclose(fast.logitSums, full.logitSums, 1e-6, 1e-6))
            << fast.logitSums << full.logitSums;
        for (std::size_t i = 0; i < fullGrads.size(); ++i)
            EXPECT_TRUE(torch::allclose(fastGrads[i], fullGrads[i], 1e-4, 1e-6)) << i;
    }
}

// The rows are decoded in groups of similar length, each with gradient only up to its longest
// row: the same log-probs and gradients as decoding every row to the batch's width (the base
// class's full logits). With logit sums (the DPO policy) each group's padding is decoded after it
// from its cached keys and values, without gradient: the same sums too. The rows repeat their
// prompts in halves, so the groups share each prompt's cross-attention keys and values. Lengths
// from 1 to the width, a gap inside one row, a row with nothing scored.
TEST(T5Policy, RowsDecodedByLengthGiveTheSameLogProbs)
{
    torch::manual_seed(11);
    mp::T5Model model(mp::test::tinyPolicyT5Config());
    mp::applyLora(*model, mp::LoraConfig{.rank = 2, .alpha = 4.0});
    mp::T5Policy policy(model);
    {
        torch::NoGradGuard noGrad;
        for (auto &parameter : policy.trainableParameters())
            parameter.normal_(0.0, 0.3);
    }
    const mp::PreferenceBatch probe = mp::test::styledPreferenceBatch(20);
    const std::int64_t rows = 2 * probe.promptIds.size(0);
    const std::int64_t width = 12;
    at::Tensor labels = torch::randint(1, model->config().vocabSize, {rows, width}, torch::kLong);
    for (std::int64_t r = 0; r < rows; ++r)
        labels.select(0, r).slice(0, 1 + (r * 7) % width).fill_(mp::kIgnoreLabel);
    labels.index_put_({3, 0}, mp::kIgnoreLabel); // a gap before the row's last scored label
    labels.select(0, 5).fill_(mp::kIgnoreLabel); // nothing scored
    const auto ids = probe.promptIds.repeat({2, 1});
    const auto mask = probe.promptMask.repeat({2, 1});
    policy.module().eval(); // no dropout: both passes see the same network
    enum class Scoring { WholeWidth, ByLength, ByLengthWithSums };
    const auto run = [&](Scoring scoring) {
        policy.module().zero_grad();
        const auto scored =
            scoring == Scoring::WholeWidth
                ? policy.mp::PolicyModel::scoreLabels(ids, mask, labels, {})
                : policy.scoreLabels(ids, mask, labels,
                                     {.logitSums = scoring == Scoring::ByLengthWithSums});
        scored.tokens.logps.sum().backward();
        std::vector<at::Tensor> grads;
        for (const auto &parameter : policy.trainableParameters())
            grads.push_back(parameter.grad().clone());
        return std::make_pair(scored, grads);
    };
    const auto [whole, wholeGrads] = run(Scoring::WholeWidth);
    const auto [byLength, byLengthGrads] = run(Scoring::ByLength);
    const auto [withSums, withSumsGrads] = run(Scoring::ByLengthWithSums);
    EXPECT_FALSE(byLength.logitSums.defined());
    for (const auto *grouped : {&byLength, &withSums}) {
        EXPECT_TRUE(torch::equal(grouped->tokens.mask, whole.tokens.mask));
        EXPECT_TRUE(torch::allclose(grouped->tokens.logps, whole.tokens.logps, 1e-5, 1e-5));
        EXPECT_TRUE(torch::equal(grouped->tokens.logps.select(0, 5), torch::zeros({width})));
    }
    EXPECT_EQ(withSums.logitsPerRow, whole.logitsPerRow);
    EXPECT_TRUE(torch::allclose(withSums.logitSums, whole.logitSums, 1e-6, 1e-6))
        << withSums.logitSums << whole.logitSums;
    for (std::size_t i = 0; i < wholeGrads.size(); ++i) {
        EXPECT_TRUE(torch::allclose(byLengthGrads[i], wholeGrads[i], 1e-4, 1e-6)) << i;
        EXPECT_TRUE(torch::allclose(withSumsGrads[i], wholeGrads[i], 1e-4, 1e-6)) << i;
    }

    // The DPO reference takes this path: its log-probs equal the adapter-disabled policy's.
    const auto reference = mp::referenceLogProbs(policy, probe, {});
    mp::PairLogProbs disabled;
    {
        torch::NoGradGuard noGrad;
        policy.setAdapterEnabled(false);
        disabled = mp::pairLogProbs(policy, probe, {});
        policy.setAdapterEnabled(true);
    }
    EXPECT_TRUE(torch::allclose(reference.chosen, disabled.chosen, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(reference.rejected, disabled.rejected, 1e-5, 1e-5));
    EXPECT_TRUE(std::isnan(reference.chosenLogitsMean));
}

} // namespace
