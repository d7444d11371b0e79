// Sequence log-probs of a padded preference batch against TRL (tests/reference/t5_lora.py):
// chosen and rejected labels of different lengths, -100 padded and concatenated, scored by the
// small T5 with PEFT's adapter (policy) and with it disabled (reference), summed (sigmoid) and
// averaged per token (IPO), with TRL's logits means and chosen NLL. The golden comes from TRL
// v0.11.4's DPOTrainer.concatenated_forward / get_batch_logps (logits means over every entry, as
// ours), v0.12.2's rewrite of it (the chosen NLL without padding, as ours) and TRL 1.16's
// selective_log_softmax (1.x scores causal LMs only).

#include "ml/models/lora.h"
#include "ml/models/t5.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/logprobs.h"
#include "ml/train/t5_policy.h"
#include "reference_compare.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <string>
#include <utility>

namespace {

constexpr double kLogProbsTolerance = 1e-5;

mp::T5Model smallModelWithPeftAdapter()
{
    auto model = mp::reference::goldenT5("small");
    mp::loadLoraAdapter(*model, mp::reference::goldenDir("lora") / "peft_adapter");
    return model;
}

// The concatenated labels [2B,T] and the policy's logits for them, as TRL's concatenated forward
// builds them (prompt repeated, decoder input = labels shifted right).
std::pair<at::Tensor, at::Tensor> policyLogits(const mp::reference::Golden &golden)
{
    auto model = smallModelWithPeftAdapter();
    model->eval();
    torch::NoGradGuard noGrad;
    const auto labels = mp::concatenatedLabels(golden["chosen_labels"], golden["rejected_labels"]);
    const auto logits =
        model->forward(golden["prompt_input_ids"].repeat({2, 1}),
                       golden["prompt_attention_mask"].repeat({2, 1}), model->shiftRight(labels));
    return {labels, logits};
}

at::Tensor scalar(double value)
{
    return torch::tensor({value}, torch::kDouble);
}

TEST(LogProbsReference, PairLogProbsMatchTrlConcatenatedForward)
{
    const mp::reference::Golden golden(mp::reference::goldenDir("logps") / "dpo_logps.safetensors");
    mp::T5Policy policy(smallModelWithPeftAdapter());
    mp::PreferenceBatch batch;
    batch.promptIds = golden["prompt_input_ids"];
    batch.promptMask = golden["prompt_attention_mask"];
    batch.chosenLabels = golden["chosen_labels"];
    batch.rejectedLabels = golden["rejected_labels"];
    torch::NoGradGuard noGrad;
    for (const std::string loss : {"sigmoid", "ipo"}) {
        const mp::LogProbOptions options{.alignment = mp::LabelAlignment::EncoderDecoder,
                                         .average = loss == "ipo"};
        for (const std::string role : {"policy", "reference"}) {
            const auto logps = role == "policy" ? mp::pairLogProbs(policy, batch, options)
                                                : mp::referenceLogProbs(policy, batch, options);
            // referenceLogProbs leaves out the logits/* means (no metric reads the reference's);
            // the adapter-disabled model's means come from pairLogProbs.
            const auto means = role == "policy" ? logps : [&] {
                mp::AdapterDisabledScope disabled(policy);
                return mp::pairLogProbs(policy, batch, options);
            }();
            if (role == "reference")
                EXPECT_TRUE(std::isnan(logps.chosenLogitsMean));
            const auto key = loss + "_" + role;
            mp::reference::expectClose(key + " chosen logps", logps.chosen,
                                       golden[key + "_chosen_logps"], kLogProbsTolerance);
            mp::reference::expectClose(key + " rejected logps", logps.rejected,
                                       golden[key + "_rejected_logps"], kLogProbsTolerance);
            mp::reference::expectClose(key + " logits/chosen", scalar(means.chosenLogitsMean),
                                       golden[key + "_logits_chosen_mean"], kLogProbsTolerance);
            mp::reference::expectClose(key + " logits/rejected", scalar(means.rejectedLogitsMean),
                                       golden[key + "_logits_rejected_mean"], kLogProbsTolerance);
            mp::reference::expectClose(key + " chosen logps (TRL 0.12)", logps.chosen,
                                       golden[key + "_v012_chosen_logps"], kLogProbsTolerance);
            mp::reference::expectClose(key + " rejected logps (TRL 0.12)", logps.rejected,
                                       golden[key + "_v012_rejected_logps"], kLogProbsTolerance);
            mp::reference::expectClose(key + " chosen NLL (TRL 0.12)", logps.chosenNll.reshape({1}),
                                       golden[key + "_v012_nll_loss"], kLogProbsTolerance);
        }
    }
    // The adapter moves the log-probs, so policy and reference are told apart.
    EXPECT_GT((golden["sigmoid_policy_chosen_logps"] - golden["sigmoid_reference_chosen_logps"])
                  .abs()
                  .max()
                  .item<double>(),
              1e-2);
}

// TRL 0.11.4's encoder-decoder nll_loss differs from ours (and from 0.12's) because its
// get_batch_logps overwrites the -100 labels with 0 in place before the NLL is taken: the
// padding is scored as token 0. Recomputing that reproduces its number, so the difference is
// explained, not a bug here.
TEST(LogProbsReference, Trl011NllScoresPaddingAsTokenZero)
{
    const mp::reference::Golden golden(mp::reference::goldenDir("logps") / "dpo_logps.safetensors");
    const auto [labels, logits] = policyLogits(golden);
    const auto batch = golden["chosen_labels"].size(0);
    const auto padAsZero = labels.slice(0, 0, batch).clamp_min(0);
    const auto nll = -mp::gatherLogProbs(logits.slice(0, 0, batch), padAsZero).mean();
    mp::reference::expectClose("TRL 0.11.4 NLL with padding as token 0", nll.reshape({1}),
                               golden["sigmoid_policy_nll_loss"], kLogProbsTolerance);
    EXPECT_GT((golden["sigmoid_policy_nll_loss"] - golden["sigmoid_policy_v012_nll_loss"])
                  .abs()
                  .item<double>(),
              1e-2);
}

TEST(LogProbsReference, SequenceLogProbsMatchTrl116SelectiveLogSoftmax)
{
    const mp::reference::Golden golden(mp::reference::goldenDir("logps") / "dpo_logps.safetensors");
    const auto [labels, logits] = policyLogits(golden);
    mp::reference::expectClose("TRL 1.16 sum", mp::sequenceLogProbs(logits, labels),
                               golden["trl116_logps_sum"], kLogProbsTolerance);
    mp::reference::expectClose("TRL 1.16 IPO average",
                               mp::sequenceLogProbs(logits, labels, {.average = true}),
                               golden["trl116_logps_ipo_average"], kLogProbsTolerance);
}

} // namespace
