// PPO's math against TRL 0.8.6's PPOTrainer on the same inputs (goldens from
// tests/reference/ppo_trl08.py): KL penalty kinds and per-token rewards, GAE with masks, masked
// whitening, the clipped losses and their stats, the step stats and their names, score scaling
// with RunningMoments, and the adaptive KL controller. Everything is float64 on both sides
// (1e-9 relative), except where TRL rounds through float32: RunningMoments (mean/var/std held in
// float32), the token-length stats (float32 tensors) and the score clip (done in float32): 1e-6.
#include "ml/train/ppo_math.h"
#include "ml/train/running_moments.h"

#include "reference_cases.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace mp::test;

class PpoReferenceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { s_golden = new Golden(readGolden("ppo", "trl08")); }
    static void TearDownTestSuite() { delete s_golden; }

    static const Golden &golden() { return *s_golden; }
    static at::Tensor in(const std::string &key) { return golden().tensor("inputs/" + key); }
    static at::Tensor mask() { return in("mask").to(torch::kDouble); }

    template <typename F> static void forEachCase(const std::string &kind, F &&f)
    {
        int count = 0;
        for (const nlohmann::json &c : golden().json["cases"]) {
            if (c["kind"] == kind) {
                f(c);
                ++count;
            }
        }
        EXPECT_GT(count, 0) << "no golden case of kind " << kind;
    }

private:
    static inline Golden *s_golden = nullptr;
};

TEST_F(PpoReferenceTest, RewardsWithEachKlPenaltyMatchComputeRewards)
{
    DiffTable table("PPO rewards vs TRL 0.8.6 compute_rewards/_kl_penalty");
    forEachCase("compute_rewards", [&](const nlohmann::json &c) {
        const std::string penalty = c["kl_penalty"];
        const bool full = penalty == "full";
        const mp::PerTokenRewards r =
            mp::computeRewards(in("scores"), in(full ? "full_logprobs" : "logprobs"),
                               in(full ? "full_ref_logprobs" : "ref_logprobs"), in("mask"),
                               c["kl_coef"], mp::parseKlPenalty(penalty));
        table.expectTensorNear("kls (" + penalty + ")", r.kls, golden().tensor(c["kls"]),
                               kFloat64Tol, c["name"]);
        table.expectTensorNear("non-score rewards", r.nonScoreRewards,
                               golden().tensor(c["non_score_rewards"]), kFloat64Tol, c["name"]);
        table.expectTensorNear("rewards", r.rewards, golden().tensor(c["rewards"]), kFloat64Tol,
                               c["name"]);
    });
}

TEST_F(PpoReferenceTest, GaeAndWhiteningMatchComputeAdvantages)
{
    DiffTable table("PPO GAE vs TRL 0.8.6 compute_advantages / core");
    const at::Tensor rewards = golden().tensor("rewards/kl/coef0.2/rewards");
    forEachCase("compute_advantages", [&](const nlohmann::json &c) {
        const mp::Advantages a = mp::computeAdvantages(
            in("values"), rewards, mask(),
            {.gamma = c["gamma"], .lam = c["lam"], .whitenRewards = c["whiten_rewards"]});
        table.expectTensorNear("masked values", a.values, golden().tensor(c["values"]), kFloat64Tol,
                               c["name"]);
        table.expectTensorNear("whitened advantages", a.advantages,
                               golden().tensor(c["advantages"]), kFloat64Tol, c["name"]);
        table.expectTensorNear("returns", a.returns, golden().tensor(c["returns"]), kFloat64Tol,
                               c["name"]);
    });
    forEachCase("masked_whiten", [&](const nlohmann::json &c) {
        table.expectTensorNear("masked_whiten",
                               mp::maskedWhiten(in("values"), mask(), c["shift_mean"]),
                               golden().tensor(c["whitened"]), kFloat64Tol, c["name"]);
        table.expectNear("masked_mean", mp::maskedMean(in("values"), mask()).item<double>(),
                         c["masked_mean"], kFloat64Tol, c["name"]);
        table.expectTensorNear("masked_mean (axis 1)", mp::maskedMean(in("values"), mask(), 1),
                               golden().tensor(c["masked_mean_axis1"]), kFloat64Tol, c["name"]);
        table.expectNear("masked_var (unbiased)",
                         mp::maskedVar(in("values"), mask()).item<double>(), c["masked_var"],
                         kFloat64Tol, c["name"]);
    });
}

mp::PpoLossOptions lossOptions(const nlohmann::json &config)
{
    return {.cliprange = config["cliprange"],
            .cliprangeValue = config["cliprange_value"],
            .vfCoef = config["vf_coef"],
            .ratioThreshold = config["ratio_threshold"]};
}

// Every scalar of TRL's loss() stats, under TRL's name, and the two distributions.
TEST_F(PpoReferenceTest, ClippedLossesAndStatsMatchLoss)
{
    DiffTable table("PPO loss vs TRL 0.8.6 PPOTrainer.loss");
    forEachCase("loss", [&](const nlohmann::json &c) {
        const std::string source = c["inputs"];
        const mp::PpoLossOptions options = lossOptions(c["config"]);
        const mp::PpoLossResult r = mp::ppoLoss(in("logprobs"), golden().tensor(source + "/values"),
                                                in("new_logits"), in("vpreds"), in("new_logprobs"),
                                                mask(), golden().tensor(source + "/advantages"),
                                                golden().tensor(source + "/returns"), options);
        table.expectNear("pg_loss", r.pgLoss.item<double>(), c["pg_loss"], kFloat64Tol, c["name"]);
        table.expectNear("vf_coef * vf_loss", options.vfCoef * r.vfLoss.item<double>(),
                         c["vf_loss_scaled"], kFloat64Tol, c["name"]);
        EXPECT_EQ(r.skipped, c["name"] == "loss/ratio_threshold") << c["name"];
        for (const auto &[key, value] : c["stats"].items()) {
            const auto it = r.stats.scalars.find(key);
            if (it == r.stats.scalars.end()) {
                ADD_FAILURE() << c["name"] << ": no stat " << key;
                continue;
            }
            table.expectNear(key, it->second, value.get<double>(), kFloat64Tol, c["name"]);
        }
        table.expectTensorNear("policy/advantages (dist)",
                               r.stats.distributions.at("policy/advantages"),
                               golden().tensor(c["advantages_dist"]), kFloat64Tol, c["name"]);
        table.expectTensorNear("policy/ratio (dist)", r.stats.distributions.at("policy/ratio"),
                               golden().tensor(c["ratio_dist"]), kFloat64Tol, c["name"]);
    });
}

// Names the project logs that record_step_stats does not make: step() adds ppo/learning_rate;
// policy/ratio_mean is the project's own (the value the ratio threshold is checked against).
const std::set<std::string> kProjectOnlyStats = {"ppo/learning_rate", "ppo/policy/ratio_mean"};

TEST_F(PpoReferenceTest, StepStatsMatchRecordStepStatsNamesAndValues)
{
    DiffTable table("PPO step stats vs TRL 0.8.6 record_step_stats");
    forEachCase("record_step_stats", [&](const nlohmann::json &c) {
        const std::string source = c["inputs"];
        const std::string rewards = c["rewards"];
        mp::PpoStatsAccumulator accumulator;
        for (const nlohmann::json &rows : c["minibatch_rows"]) {
            const std::int64_t begin = rows[0], end = rows[1];
            const auto part = [&](const at::Tensor &t) { return t.slice(0, begin, end); };
            accumulator.add(
                mp::ppoLoss(part(in("logprobs")), part(golden().tensor(source + "/values")),
                            part(in("new_logits")), part(in("vpreds")), part(in("new_logprobs")),
                            part(mask()), part(golden().tensor(source + "/advantages")),
                            part(golden().tensor(source + "/returns")))
                    .stats);
        }
        mp::PpoStepInputs inputs;
        inputs.scores = in("scores");
        inputs.logprobs = in("logprobs");
        inputs.refLogprobs = in("ref_logprobs");
        inputs.masks = mask();
        inputs.kls = golden().tensor(rewards + "/kls");
        inputs.nonScoreRewards = golden().tensor(rewards + "/non_score_rewards");
        inputs.queryLengths = torch::tensor(c["query_lengths"].get<std::vector<double>>());
        inputs.responseLengths = torch::tensor(c["response_lengths"].get<std::vector<double>>());
        inputs.klCoef = c["kl_coef"];
        const mp::PpoStepStats step = mp::ppoStepStats(inputs, accumulator.mean());

        for (const auto &[key, value] : c["scalars"].items()) {
            const auto it = step.stats.scalars.find(key);
            if (it == step.stats.scalars.end()) {
                ADD_FAILURE() << "the project does not log TRL's stat " << key;
                continue;
            }
            // TRL counts token lengths in float32 tensors.
            const double tol = key.rfind("tokens/", 0) == 0 ? kFloat32Tol : kFloat64Tol;
            table.expectNear(key, it->second, value.get<double>(), tol, c["name"]);
        }
        for (const auto &[key, value] : c["distributions"].items()) {
            const auto it = step.stats.distributions.find(key);
            if (it == step.stats.distributions.end()) {
                ADD_FAILURE() << "the project does not log TRL's distribution " << key;
                continue;
            }
            table.expectTensorNear(key, it->second, golden().tensor(value), kFloat64Tol, c["name"]);
        }
        for (const auto &[key, value] : step.stats.scalars)
            EXPECT_TRUE(c["scalars"].contains(key) || kProjectOnlyStats.count(key))
                << "the project logs " << key << ", which TRL does not";
        for (const auto &[key, value] : step.stats.distributions)
            EXPECT_TRUE(c["distributions"].contains(key))
                << "the project logs the distribution " << key << ", which TRL does not";
    });
}

TEST_F(PpoReferenceTest, ScoreScalingMatchesRunningMomentsSequence)
{
    DiffTable table("PPO score transforms vs TRL 0.8.6 step() + RunningMoments");
    std::map<std::string, mp::RunningMoments> sequences;
    forEachCase("score_transform", [&](const nlohmann::json &c) {
        std::optional<double> clip;
        if (!c["score_clip"].is_null())
            clip = c["score_clip"].get<double>();
        const std::string sequence =
            c["name"].get<std::string>().substr(0, c["name"].get<std::string>().rfind('/'));
        mp::RunningMoments &running = sequences[sequence];
        const at::Tensor scores =
            mp::transformScores(golden().tensor(c["raw"]), running,
                                {.useScaling = true, .useNorm = c["use_norm"], .clip = clip});
        table.expectTensorNear("scaled scores", scores, golden().tensor(c["scores"]), kFloat32Tol,
                               c["name"]);
        table.expectNear("running mean", running.mean(), c["running_mean"], kFloat32Tol, c["name"]);
        table.expectNear("running var", running.var(), c["running_var"], kFloat32Tol, c["name"]);
        table.expectNear("running std", running.std(), c["running_std"], kFloat32Tol, c["name"]);
        table.expectNear("running count", running.count(), c["running_count"], kFloat64Tol,
                         c["name"]);
    });
}

TEST_F(PpoReferenceTest, AdaptiveKlControllerMatchesUpdateSequence)
{
    DiffTable table("adaptive KL vs TRL 0.8.6 AdaptiveKLController");
    forEachCase("adaptive_kl", [&](const nlohmann::json &c) {
        mp::KlController controller =
            mp::KlController::adaptive(c["init"], c["target"], c["horizon"]);
        for (size_t i = 0; i < c["updates"].size(); ++i) {
            controller.update(c["updates"][i][0], c["updates"][i][1].get<std::int64_t>());
            table.expectNear("kl_coef", controller.value(), c["values"][i], kFloat64Tol,
                             "update " + std::to_string(i));
        }
    });
}

} // namespace
