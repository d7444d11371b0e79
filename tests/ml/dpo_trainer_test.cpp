// The DPO step on a toy LoRA-style policy: loss decreases, the reference is the adapter-disabled
// base, a resumed run reproduces the uninterrupted one, a poisoned batch stops the run.
#include "ml/core/error.h"
#include "ml/run/events.h"
#include "ml/run/run_monitor.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/policy_model.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <filesystem>
#include <limits>

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kVocab = 12;
constexpr std::int64_t kDim = 8;
constexpr std::int64_t kMaxLength = 6;
constexpr std::int64_t kEos = 1;

// Encoder = masked mean of prompt embeddings; decoder position t adds a position vector; a frozen
// output layer plus a rank-2 adapter (B zero at start, as LoRA) gives the logits.
class ToyPolicyImpl : public torch::nn::Module {
public:
    ToyPolicyImpl()
    {
        embed = register_parameter("embed", torch::randn({kVocab, kDim}) * 0.5, false);
        pos = register_parameter("pos", torch::randn({kMaxLength, kDim}) * 0.5, false);
        out = register_parameter("out", torch::randn({kVocab, kDim}) * 0.5, false);
        lora_A = register_parameter("lora_A", torch::randn({2, kDim}) * 0.3);
        lora_B = register_parameter("lora_B", torch::zeros({kVocab, 2}));
    }

    at::Tensor forward(const at::Tensor &ids, const at::Tensor &mask, const at::Tensor &labels)
    {
        const at::Tensor m = mask.to(torch::kFloat).unsqueeze(2);
        const at::Tensor context = (embed.index({ids}) * m).sum(1) / m.sum(1);
        const at::Tensor h = torch::tanh(context.unsqueeze(1) + pos.slice(0, 0, labels.size(1)));
        at::Tensor logits = torch::matmul(h, out.t());
        if (enabled)
            logits = logits + 2.0 * torch::matmul(torch::matmul(h, lora_A.t()), lora_B.t());
        return logits;
    }

    at::Tensor embed, pos, out, lora_A, lora_B;
    bool enabled = true;
};
TORCH_MODULE(ToyPolicy);

class ToyPolicyModel : public mp::PolicyModel {
public:
    at::Tensor forward(const at::Tensor &ids, const at::Tensor &mask,
                       const at::Tensor &labels) override
    {
        return net->forward(ids, mask, labels);
    }
    void setAdapterEnabled(bool enabled) override { net->enabled = enabled; }
    bool adapterEnabled() const override { return net->enabled; }
    std::vector<at::Tensor> trainableParameters() override { return {net->lora_A, net->lora_B}; }
    torch::nn::Module &module() override { return *net; }

    ToyPolicy net;
};

// Prompts of 3 tokens; the preferred answer repeats the first two prompt tokens then EOS, the
// rejected one is random tokens then EOS, shorter by one. Drawn from torch's default generator.
mp::PreferenceBatch toyBatch(std::int64_t b)
{
    const at::Tensor prompt = torch::randint(2, kVocab, {b, 3});
    const at::Tensor eos = torch::full({b, 1}, kEos, torch::kLong);
    const at::Tensor chosen =
        torch::cat({prompt.slice(1, 0, 2), eos, torch::full({b, 1}, -100L)}, 1);
    const at::Tensor rejected = torch::cat({torch::randint(2, kVocab, {b, 1}), eos}, 1);
    return {.promptIds = prompt,
            .promptMask = torch::ones({b, 3}, torch::kLong),
            .chosenLabels = chosen,
            .rejectedLabels = rejected};
}

mp::DpoTrainerOptions toyOptions(mp::DpoLossType type = mp::DpoLossType::Sigmoid)
{
    return {.loss = {.type = type, .beta = 0.5},
            .optimizer = {.kind = mp::OptimizerKind::AdamW, .lr = 0.05},
            .schedule = mp::ScheduleKind::Cosine,
            .warmupSteps = 2,
            .totalSteps = 60,
            .maxGradNorm = 1.0};
}

TEST(DpoTrainer, ConcatenatedLabelsPadWithIgnore)
{
    const auto labels =
        mp::concatenatedLabels(torch::tensor({{5L, 1L}}), torch::tensor({{7L, 8L, 1L}}));
    EXPECT_TRUE(torch::equal(labels, torch::tensor({{5L, 1L, -100L}, {7L, 8L, 1L}})));
}

TEST(DpoTrainer, LossDecreasesAndReferenceStaysTheBase)
{
    torch::manual_seed(1);
    ToyPolicyModel policy;
    mp::DpoTrainer trainer(policy, toyOptions());
    torch::manual_seed(2);
    const mp::PreferenceBatch heldOut = toyBatch(32);
    const auto referenceBefore = mp::referenceLogProbs(policy, heldOut, {});
    const auto policyBefore = mp::pairLogProbs(policy, heldOut, {});
    // B = 0: the policy is its reference, so the first loss is exactly log 2.
    EXPECT_TRUE(torch::equal(referenceBefore.chosen, policyBefore.chosen));
    const auto evalBefore = trainer.evaluate({heldOut});
    EXPECT_NEAR(evalBefore.at("eval_loss"), std::log(2.0), 1e-6);

    double firstLoss = 0, lastLoss = 0;
    for (int i = 0; i < 60; ++i) {
        const auto metrics = trainer.step({toyBatch(16)});
        (i == 0 ? firstLoss : lastLoss) = metrics.at("loss");
        EXPECT_TRUE(std::isfinite(metrics.at("grad_norm")));
    }
    EXPECT_NEAR(firstLoss, std::log(2.0), 1e-6);
    EXPECT_LT(lastLoss, 0.45);
    EXPECT_EQ(trainer.globalStep(), 60);
    const auto evalAfter = trainer.evaluate({heldOut});
    EXPECT_LT(evalAfter.at("eval_loss"), 0.5);
    EXPECT_GT(evalAfter.at("eval_rewards/accuracies"), 0.9);
    EXPECT_GT(evalAfter.at("eval_rewards/margins"), 0.5);
    // The reference (adapter disabled) did not move, and the adapter is back on.
    const auto referenceAfter = mp::referenceLogProbs(policy, heldOut, {});
    EXPECT_TRUE(torch::equal(referenceBefore.chosen, referenceAfter.chosen));
    EXPECT_TRUE(torch::equal(referenceBefore.rejected, referenceAfter.rejected));
    EXPECT_TRUE(policy.adapterEnabled());
    EXPECT_FALSE(torch::equal(mp::pairLogProbs(policy, heldOut, {}).chosen, referenceAfter.chosen));
}

TEST(DpoTrainer, IpoAndPerExampleSmoothingTrain)
{
    torch::manual_seed(3);
    ToyPolicyModel policy;
    mp::DpoTrainer ipo(policy, toyOptions(mp::DpoLossType::Ipo));
    double first = 0, last = 0;
    for (int i = 0; i < 30; ++i) {
        auto batch = toyBatch(16);
        batch.labelSmoothing = torch::full({16}, 0.2); // ignored by IPO
        (i == 0 ? first : last) = ipo.step({batch}).at("loss");
    }
    EXPECT_NEAR(first, 1.0, 1e-6); // (0 - 1/(2·0.5))²
    EXPECT_LT(last, first);
}

// RPO: the chosen tokens' mean NLL is gathered by hand on a fixed batch, and the trainer's loss is
// the preference loss plus α times it; training with it keeps the chosen answers likelier than
// the same run without it.
TEST(DpoTrainer, RpoAddsTheChosenNll)
{
    torch::manual_seed(5);
    ToyPolicyModel policy;
    torch::manual_seed(6);
    const mp::PreferenceBatch batch = toyBatch(8);
    const auto pair = mp::pairLogProbs(policy, batch, {});
    const at::Tensor logits = torch::log_softmax(
        policy.forward(batch.promptIds, batch.promptMask, batch.chosenLabels.clamp_min(0)), -1);
    double total = 0;
    int tokens = 0;
    for (std::int64_t i = 0; i < 8; ++i)
        for (std::int64_t t = 0; t < batch.chosenLabels.size(1); ++t) {
            const std::int64_t label = batch.chosenLabels[i][t].item<std::int64_t>();
            if (label == mp::kIgnoreLabel)
                continue;
            total -= logits[i][t][label].item<double>();
            ++tokens;
        }
    EXPECT_EQ(tokens, 8 * 3);
    EXPECT_NEAR(pair.chosenNll.item<double>(), total / tokens, 1e-5);

    auto options = toyOptions(mp::DpoLossType::Ipo);
    mp::DpoTrainer plain(policy, options);
    options.rpoAlpha = 0.5;
    mp::DpoTrainer rpo(policy, options);
    const auto plainEval = plain.evaluate({batch});
    const auto rpoEval = rpo.evaluate({batch});
    EXPECT_EQ(plainEval.count("eval_nll_loss"), 0u);
    EXPECT_NEAR(rpoEval.at("eval_nll_loss"), total / tokens, 1e-5);
    EXPECT_NEAR(rpoEval.at("eval_loss"), plainEval.at("eval_loss") + 0.5 * total / tokens, 1e-5);
}

TEST(DpoTrainer, RpoKeepsTheChosenLikelier)
{
    auto chosenNllAfterTraining = [](double alpha) {
        torch::manual_seed(7);
        ToyPolicyModel policy;
        auto options = toyOptions(mp::DpoLossType::Ipo);
        options.rpoAlpha = alpha;
        mp::DpoTrainer trainer(policy, options);
        for (int i = 0; i < 30; ++i)
            trainer.step({toyBatch(16)});
        torch::manual_seed(8);
        return mp::pairLogProbs(policy, toyBatch(64), {}).chosenNll.item<double>();
    };
    EXPECT_LT(chosenNllAfterTraining(1.0), chosenNllAfterTraining(0.0) - 0.05);
}

std::vector<double> flatParams(ToyPolicyModel &policy)
{
    std::vector<double> values;
    for (const auto &p : policy.trainableParameters()) {
        const at::Tensor flat = p.detach().to(torch::kDouble).reshape(-1).contiguous();
        values.insert(values.end(), flat.data_ptr<double>(),
                      flat.data_ptr<double>() + flat.numel());
    }
    return values;
}

TEST(DpoTrainer, ResumeReproducesTheUninterruptedRun)
{
    const fs::path dir =
        fs::temp_directory_path() / ("mp_dpo_resume_" + std::to_string(::getpid()));
    fs::remove_all(dir);

    torch::manual_seed(10);
    ToyPolicyModel first;
    mp::DpoTrainer uninterrupted(first, toyOptions());
    std::vector<double> losses;
    for (int i = 0; i < 4; ++i)
        uninterrupted.step({toyBatch(8), toyBatch(8)});
    uninterrupted.saveCheckpoint(dir / "checkpoint");
    for (int i = 0; i < 4; ++i) {
        const auto metrics = uninterrupted.step({toyBatch(8), toyBatch(8)});
        losses.push_back(metrics.at("loss"));
        losses.push_back(metrics.at("learning_rate"));
    }

    torch::manual_seed(99); // a different start: everything must come from the checkpoint
    ToyPolicyModel second;
    mp::DpoTrainer resumed(second, toyOptions());
    resumed.loadCheckpoint(dir / "checkpoint");
    EXPECT_EQ(resumed.globalStep(), 4);
    std::vector<double> resumedLosses;
    for (int i = 0; i < 4; ++i) {
        const auto metrics = resumed.step({toyBatch(8), toyBatch(8)});
        resumedLosses.push_back(metrics.at("loss"));
        resumedLosses.push_back(metrics.at("learning_rate"));
    }
    EXPECT_EQ(resumedLosses, losses);
    EXPECT_EQ(flatParams(second), flatParams(first));
    EXPECT_EQ(resumed.globalStep(), 8);

    // A checkpoint from another loss is refused, naming the file.
    ToyPolicyModel third;
    mp::DpoTrainer hinge(third, toyOptions(mp::DpoLossType::Hinge));
    try {
        hinge.loadCheckpoint(dir / "checkpoint");
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("trainer_state.json"), std::string::npos);
    }
    EXPECT_THROW(hinge.loadCheckpoint(dir / "missing"), mp::InputError);
    fs::remove_all(dir);
}

TEST(DpoTrainer, PoisonedBatchTriggersTheDivergenceStop)
{
    const fs::path dir =
        fs::temp_directory_path() / ("mp_dpo_poison_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    torch::manual_seed(4);
    ToyPolicyModel policy;
    mp::DpoTrainer trainer(policy, toyOptions());
    bool stopped = false;
    std::vector<double> paramsBeforePoison;
    {
        mp::EventWriter writer(dir / "events.jsonl");
        mp::RunMonitor monitor(writer);
        for (int step = 1; step <= 5 && !stopped; ++step) {
            auto batch = toyBatch(8);
            if (step == 4) {
                paramsBeforePoison = flatParams(policy);
                batch.refChosenLogps = torch::full({8}, std::numeric_limits<float>::quiet_NaN());
                batch.refRejectedLogps = torch::zeros({8});
            }
            stopped = !monitor.logStep(step, 0.0, trainer.step({batch}));
        }
        EXPECT_TRUE(monitor.failed());
    }
    EXPECT_TRUE(stopped);
    EXPECT_EQ(trainer.globalStep(), 3);                // the poisoned update was not applied
    EXPECT_EQ(flatParams(policy), paramsBeforePoison); // weights are the last good ones
    const auto events = mp::readEvents(dir / "events.jsonl");
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().type, mp::EventType::Failed);
    EXPECT_EQ(events.back().step, 4);
    EXPECT_NE(events.back().text.at("reason").find("loss"), std::string::npos);
    fs::remove_all(dir);
}

} // namespace
