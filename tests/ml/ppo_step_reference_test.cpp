// One whole PPO step with the policy's own value head (the paper's shared-backbone ppo.py, TRL's
// AutoModelForSeq2SeqLMWithValueHead) against TRL 0.8.6's PPOTrainer.step on the same files
// (tests/reference/ppo_step_trl08.py writes them with transformers, PEFT and TRL): the no-grad
// forwards' log-probs, reference log-probs and values, the step's stats, and the adapter's and
// value head's weights after two PPO epochs of three Adam updates each. Float32 on both sides.

#include "ml/data/safetensors.h"
#include "ml/models/lora.h"
#include "ml/models/t5.h"
#include "ml/train/logprobs.h"
#include "ml/train/ppo_trainer.h"

#include "reference_cases.h"
#include "reference_compare.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using mp::reference::expectClose;

// Float32 forwards of a two-layer T5 in a different operation order: a few ulps of the logits.
constexpr double kForwardTolerance = 2e-5;
// Six Adam updates at lr 1e-3 over float32 gradients: the weights' rounding compounds.
constexpr double kWeightTolerance = 1e-4;
constexpr double kStatTolerance = 1e-4;

struct StepFixture {
    mp::test::Golden golden = mp::test::readGolden("ppo", "step_trl08");
    mp::T5Model policy{nullptr};
    mp::LoraConfig lora;

    StepFixture()
    {
        const fs::path dir = mp::test::goldenDir("ppo") / "step";
        policy = mp::T5Model(mp::T5Config::load(dir / "model" / "config.json"));
        policy->loadWeights(dir / "model" / "model.safetensors");
        lora = mp::loadLoraAdapter(*policy, dir / "adapter");
    }

    at::Tensor tensor(const std::string &key) const { return golden.tensor(key); }

    std::unique_ptr<mp::PpoTrainer> trainer()
    {
        const auto orders = tensor("orders").to(torch::kLong).contiguous();
        const auto &meta = golden.json["meta"];
        auto made = std::make_unique<mp::PpoTrainer>(
            policy, mp::RewardModel{nullptr},
            mp::PpoTrainerOptions{
                .optimizer = {.kind = mp::OptimizerKind::Adam,
                              .lr = meta["learning_rate"].get<double>()},
                .miniBatchSize = meta["mini_batch_size"].get<std::int64_t>(),
                .ppoEpochs = meta["ppo_epochs"].get<std::int64_t>(),
                .scoreTransform = {.useScaling = false, .useNorm = false},
                .valueHead = true,
                .valueHeadDropout = 0.0,
                .order = [orders](std::int64_t, std::int64_t epoch, std::int64_t rows) {
                    const auto row = orders[epoch];
                    EXPECT_EQ(row.size(0), rows);
                    return std::vector<std::int64_t>(row.data_ptr<std::int64_t>(),
                                                     row.data_ptr<std::int64_t>() + rows);
                }});
        torch::NoGradGuard noGrad;
        made->valueHead()->summary->weight.copy_(tensor("value_head/initial/weight"));
        made->valueHead()->summary->bias.copy_(tensor("value_head/initial/bias"));
        return made;
    }

    mp::PpoRollout rollout() const
    {
        mp::PpoRollout r{.promptIds = tensor("prompt_ids").to(torch::kLong),
                         .promptMask = tensor("prompt_mask").to(torch::kLong),
                         .labels = tensor("labels").to(torch::kLong),
                         .rawScores = tensor("scores").to(torch::kFloat)};
        // TRL's encoder-decoder mask: every response token but the first.
        r.mask = r.labels.ne(mp::kIgnoreLabel).to(torch::kFloat);
        r.mask.select(1, 0).zero_();
        return r;
    }
};

TEST(PpoStepReference, ForwardsGiveTrlsLogProbsReferenceAndValues)
{
    StepFixture fixture;
    auto trainer = fixture.trainer();
    mp::PpoRollout rollout = fixture.rollout();
    const auto mask = fixture.tensor("forward/mask");
    ASSERT_TRUE(torch::equal(rollout.mask, mask)) << "the rollout's mask is not TRL's";
    trainer->evaluate(rollout);
    expectClose("log-probs", rollout.logprobs * mask, fixture.tensor("forward/logprobs") * mask,
                kForwardTolerance);
    expectClose("reference log-probs", rollout.refLogprobs * mask,
                fixture.tensor("forward/ref_logprobs") * mask, kForwardTolerance);
    expectClose("values", rollout.values * mask, fixture.tensor("forward/values") * mask,
                kForwardTolerance);
    // The adapter's B is nonzero: a reference equal to the policy would pass for a broken
    // LoraDisabledScope.
    EXPECT_GT((rollout.logprobs - rollout.refLogprobs).abs().max().item<double>(), 1e-2);
}

TEST(PpoStepReference, StepGivesTrlsStatsAndWeights)
{
    StepFixture fixture;
    auto trainer = fixture.trainer();
    const mp::PpoStepResult result = trainer->step(fixture.rollout(), 0);

    const auto &expected = fixture.golden.json["cases"][0]["stats"];
    int compared = 0;
    for (const auto &[key, value] : expected.items()) {
        if (key.rfind("time/", 0) == 0)
            continue; // TRL's wall-clock timings
        const auto it = result.metrics.find(key);
        if (it == result.metrics.end()) {
            ADD_FAILURE() << "the step has no stat " << key;
            continue;
        }
        const double want = value.get<double>();
        EXPECT_NEAR(it->second, want, kStatTolerance * std::max(1.0, std::abs(want))) << key;
        ++compared;
    }
    EXPECT_GE(compared, 20);

    expectClose("value head weight after the step", trainer->valueHead()->summary->weight,
                fixture.tensor("value_head/final/weight"), kWeightTolerance);
    expectClose("value head bias after the step", trainer->valueHead()->summary->bias,
                fixture.tensor("value_head/final/bias"), kWeightTolerance);
    // The step moved the head: a trainer that left it out of the optimizer would fail above only
    // by the size of an update.
    EXPECT_GT((trainer->valueHead()->summary->weight - fixture.tensor("value_head/initial/weight"))
                  .abs()
                  .max()
                  .item<double>(),
              1e-4);

    // The adapter as PEFT names it: the app's writer, read back.
    mp::test::TempDir saved;
    mp::saveLoraAdapter(*fixture.policy, fixture.lora, saved.path());
    const mp::TensorMap adapter = mp::readSafetensors(saved.path() / "adapter_model.safetensors");
    int adapterTensors = 0;
    for (const auto &[key, want] : fixture.golden.tensors) {
        const std::string prefix = "adapter/final/";
        if (key.rfind(prefix, 0) != 0)
            continue;
        const auto it = adapter.find(key.substr(prefix.size()));
        if (it == adapter.end()) {
            ADD_FAILURE() << "the app's adapter has no " << key.substr(prefix.size());
            continue;
        }
        expectClose(key, it->second, want, kWeightTolerance);
        ++adapterTensors;
    }
    // A and B of q and v: 2 encoder layers' self-attention, 2 decoder layers' self and cross.
    EXPECT_EQ(adapterTensors, 24);
}

} // namespace
