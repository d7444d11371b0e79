// The reward model's loss with margins and soft labels, its accuracy, and the per-degree
// constants (margins 3/2/1/0 and 1/0.666/0.333/0, label 0.5 for unsure, DPO label smoothing
// 0/0.2/0.3/0.5) against the paper's own code (InstructMotion's RewardTrainer.compute_loss and
// src/utils/motiongpt_utils.py preprocessing) and TRL 0.8.6's RewardTrainer, on the same scores
// (goldens from tests/reference/losses_trl08.py). float64 on both sides: 1e-9 relative.
#include "ml/train/preference_degree.h"
#include "ml/train/reward_loss.h"

#include "reference_cases.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using namespace mp::test;

constexpr double kTol = kFloat64Tol;

std::vector<mp::PreferenceDegree> degrees(const nlohmann::json &names)
{
    std::vector<mp::PreferenceDegree> out;
    for (const auto &name : names) {
        const auto degree = mp::parseDegree(name.get<std::string>());
        EXPECT_TRUE(degree.has_value()) << name;
        out.push_back(degree.value_or(mp::PreferenceDegree::Unsure));
    }
    return out;
}

TEST(RewardReferenceTest, DegreeConstantsAreThePapersPreprocessing)
{
    const Golden golden = readGolden("losses", "trl08");
    const nlohmann::json &k = golden.json["degree_constants"];
    const std::vector<mp::PreferenceDegree> ds = degrees(k["degrees"]);
    ASSERT_EQ(ds.size(), 4u);
    for (size_t i = 0; i < ds.size(); ++i) {
        const std::string what = k["degrees"][i];
        EXPECT_DOUBLE_EQ(mp::rewardMargin(ds[i], mp::MarginScale::Big), k["margin_big"][i]) << what;
        EXPECT_DOUBLE_EQ(mp::rewardMargin(ds[i], mp::MarginScale::Small), k["margin_small"][i])
            << what;
        EXPECT_DOUBLE_EQ(mp::rewardMargin(ds[i], mp::MarginScale::None), 0.0) << what;
        EXPECT_DOUBLE_EQ(mp::rewardLabel(ds[i]), k["label"][i]) << what;
        EXPECT_DOUBLE_EQ(mp::paperLabelSmoothing(ds[i]), k["label_smoothing"][i]) << what;
    }
}

TEST(RewardReferenceTest, LossWithMarginsAndLabelsMatchesComputeLoss)
{
    const Golden golden = readGolden("losses", "trl08");
    const at::Tensor rc = golden.tensor("reward/chosen_scores");
    const at::Tensor rr = golden.tensor("reward/rejected_scores");
    const std::vector<mp::PreferenceDegree> ds = degrees(golden.json["reward_degrees"]);
    DiffTable table("reward loss vs InstructMotion / TRL 0.8.6 RewardTrainer.compute_loss");
    int checked = 0;
    for (const nlohmann::json &c : golden.json["cases"]) {
        if (c["kind"] != "reward_loss")
            continue;
        const std::string scale = c["margin_scale"];
        const at::Tensor margin =
            scale == "none"
                ? at::Tensor()
                : mp::rewardMargins(ds, *mp::parseMarginScale(scale)).to(torch::kDouble);
        const at::Tensor label = mp::rewardLabels(ds).to(torch::kDouble);
        if (margin.defined()) {
            // The project's margins are float32 (0.666 rounds); the golden's are float64.
            table.expectTensorNear("margins per degree", margin, golden.tensor(c["margin"]), 1e-7,
                                   c["name"]);
        }
        table.expectTensorNear("labels per degree", label, golden.tensor(c["label"]), kTol,
                               c["name"]);
        const at::Tensor goldenMargin = golden.tensor(c["margin"]);
        // The paper's loss with soft labels, per pair ([B,1] margin and label).
        table.expectNear("paper loss (margin, label)",
                         mp::rewardLosses(rc, rr, goldenMargin, label).mean().item<double>(),
                         c["paper_loss_per_pair"], kTol, c["name"]);
        // TRL's: -logσ(r_c - r_r - m), mean.
        table.expectNear("TRL loss (margin)",
                         mp::rewardLosses(rc, rr, goldenMargin).mean().item<double>(),
                         c["trl_loss_per_pair"], kTol, c["name"]);
        // With the collator's [B] margin both compute a [B,B] broadcast mean (spec §3 quirk);
        // the project keeps the per-pair form, so the two must differ wherever margins do.
        if (scale != "none")
            EXPECT_GT(std::abs(c["paper_loss_collator_broadcast"].get<double>() -
                               c["paper_loss_per_pair"].get<double>()),
                      1e-3)
                << c["name"];
        ++checked;
    }
    EXPECT_EQ(checked, 3);
    table.expectNear("TRL loss (no margin)", mp::rewardLosses(rc, rr).mean().item<double>(),
                     golden.json["reward_no_margin"]["trl_loss"], kTol, "no margin");
}

TEST(RewardReferenceTest, AccuracyAndChosenProbabilityMatchPredictionStep)
{
    const Golden golden = readGolden("losses", "trl08");
    const at::Tensor rc = golden.tensor("reward/chosen_scores");
    const at::Tensor rr = golden.tensor("reward/rejected_scores");
    ASSERT_TRUE((rc == rr).any().item<bool>()) << "the golden should hold a tie";
    const nlohmann::json &accuracy = golden.json["reward_accuracy"];
    DiffTable table("reward accuracy vs TRL 0.8.6 compute_accuracy");
    table.expectNear("eval accuracy (ties correct)", mp::rewardAccuracy(rc, rr),
                     accuracy["accuracy"], kTol, "accuracy");
    table.expectTensorNear("p(chosen) = softmax[0]", mp::rewardChosenProbability(rc, rr),
                           golden.tensor(accuracy["chosen_probability"]), kTol, "softmax");
}

// TRL 1.16's RewardTrainer: the same per-pair loss (it squeezes the scores to [B], so no [B,B]
// broadcast), but its logged accuracy is a strict chosen > rejected, where 0.8.6's
// compute_accuracy (and the project, which follows the paper's release) counts a tie correct.
TEST(RewardReferenceTest, Trl116LossMatchesAndItsAccuracyCountsTiesWrong)
{
    const Golden golden = readGolden("losses", "trl116");
    const at::Tensor rc = golden.tensor("reward/chosen_scores");
    const at::Tensor rr = golden.tensor("reward/rejected_scores");
    DiffTable table("reward loss vs TRL 1.16 RewardTrainer.compute_loss");
    int checked = 0;
    for (const nlohmann::json &c : golden.json["cases"]) {
        if (c["kind"] != "reward_compute_loss")
            continue;
        table.expectNear("TRL 1.16 loss",
                         mp::rewardLosses(rc, rr, golden.tensor(c["margin"])).mean().item<double>(),
                         c["loss"], kTol, c["name"]);
        table.expectNear("TRL 1.16 margin metric", (rc - rr).mean().item<double>(),
                         c["metrics"]["margin"], kTol, c["name"]);
        const double ties = (rc == rr).to(torch::kDouble).mean().item<double>();
        table.expectNear("accuracy - ties (1.16's strict)", mp::rewardAccuracy(rc, rr) - ties,
                         c["metrics"]["accuracy"], kTol, c["name"]);
        ++checked;
    }
    EXPECT_EQ(checked, 2);
}

} // namespace
