// run.json parsing: defaults per method, validation errors naming file and key, full round trip.
#include "ml/core/error.h"
#include "ml/run/run_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

std::string configErrorOf(const std::string &json)
{
    try {
        mp::parseRunConfig(json);
    } catch (const mp::InputError &e) {
        return e.what();
    }
    return "";
}

TEST(RunConfig, EmptyObjectGivesPaperDpoDefaults)
{
    const auto c = mp::parseRunConfig("{}");
    EXPECT_EQ(c.method, mp::TrainMethod::Dpo);
    EXPECT_EQ(c.dpo.loss, mp::DpoLossType::Ipo);
    EXPECT_EQ(c.dpo.beta, 0.1);
    EXPECT_EQ(c.dpo.rpoAlpha, 0.0); // plain DPO unless asked
    EXPECT_EQ(c.optimizer.kind, mp::OptimizerKind::AdamW);
    EXPECT_EQ(c.optimizer.lr, 1e-3);
    EXPECT_EQ(c.optimizer.weightDecay, 0.0);
    EXPECT_EQ(c.schedule, mp::ScheduleKind::Cosine);
    EXPECT_EQ(c.warmupSteps, 150);
    EXPECT_EQ(c.batchSize, 64);
    EXPECT_EQ(c.epochs, 20);
    EXPECT_EQ(c.seed, 2222);
    EXPECT_EQ(c.lora.r, 8);
    EXPECT_EQ(c.lora.alpha, 16);
    EXPECT_EQ(c.lora.targets, (std::vector<std::string>{"q", "v"}));
    EXPECT_EQ(c.data.degrees.size(), 4u);
    EXPECT_EQ(c.maxGradNorm, 1.0);
    // PPO block: the paper's ppo_train.sh on top of TRL's PPOConfig.
    EXPECT_EQ(c.ppo.learningRate, 1e-5);
    EXPECT_EQ(c.ppo.initKlCoef, 0.2);
    EXPECT_TRUE(c.ppo.adapKlCtrl);
    EXPECT_EQ(c.ppo.target, 6);
    EXPECT_EQ(c.ppo.horizon, 10000);
    EXPECT_EQ(c.ppo.lam, 0.95);
    EXPECT_EQ(c.ppo.vfCoef, 0.1);
    EXPECT_EQ(c.ppo.ratioThreshold, 10);
    EXPECT_EQ(c.ppo.ppoEpochs, 4);
    EXPECT_FALSE(c.ppo.maxGradNorm.has_value());
    EXPECT_TRUE(c.ppo.useScoreScaling && c.ppo.useScoreNorm);
}

TEST(RunConfig, RewardModelPreset)
{
    const auto c = mp::parseRunConfig(R"({"method":"rm"})");
    EXPECT_EQ(c.optimizer.lr, 2e-4);
    EXPECT_EQ(c.schedule, mp::ScheduleKind::Linear);
    EXPECT_EQ(c.warmupSteps, 0);
    EXPECT_EQ(c.batchSize, 32);
    EXPECT_EQ(c.seed, 42);
    EXPECT_EQ(c.rm.margin, mp::MarginScale::Big);
    EXPECT_EQ(c.rm.neftuneAlpha, 0.1);
    EXPECT_EQ(c.eval.bestMetric, "eval_accuracy");
}

TEST(RunConfig, ExplicitValues)
{
    const auto c = mp::parseRunConfig(R"({
        "method": "dpo", "seed": 7, "batch_size": 16, "max_grad_norm": null,
        "optimizer": {"type": "adam", "lr": 5e-4},
        "schedule": {"type": "linear", "warmup_steps": 0},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "targets": ["q", "k", "v", "o"]},
        "dpo": {"loss": "sigmoid", "beta": 0.5, "label_smoothing_mode": "per_degree",
                "rpo_alpha": 0.25},
        "data": {"pairs": "pairs.jsonl", "degrees": ["much_better", "Better"], "percent": 0.5,
                 "train_ids": "train.txt", "eval_ids": "eval.txt"},
        "ppo": {"score_clip": 3, "kl_penalty": "k3", "batch_size": 16, "mini_batch_size": 4}
    })");
    EXPECT_EQ(c.seed, 7);
    EXPECT_FALSE(c.maxGradNorm.has_value());
    EXPECT_EQ(c.optimizer.kind, mp::OptimizerKind::Adam);
    EXPECT_EQ(c.lora.targets.size(), 4u);
    EXPECT_EQ(c.dpo.loss, mp::DpoLossType::Sigmoid);
    EXPECT_EQ(c.dpo.labelSmoothingMode, mp::LabelSmoothingMode::PerDegree);
    EXPECT_EQ(c.dpo.rpoAlpha, 0.25);
    EXPECT_EQ(c.data.degrees, (std::vector<mp::PreferenceDegree>{mp::PreferenceDegree::MuchBetter,
                                                                 mp::PreferenceDegree::Better}));
    EXPECT_EQ(c.ppo.scoreClip, 3.0);
    EXPECT_EQ(c.ppo.klPenalty, mp::KlPenalty::K3);
}

TEST(RunConfig, RoundTripReproducesEveryKey)
{
    const auto c = mp::parseRunConfig(R"({"method":"rlhf","ppo":{"score_clip":2.5},
        "dpo":{"loss":"kto_pair"},"data":{"degrees":["unsure"]},"eval":{"best_mode":"min"}})");
    const std::string json = mp::runConfigToJson(c);
    const auto again = mp::parseRunConfig(json);
    EXPECT_EQ(again, c);
    EXPECT_EQ(mp::runConfigToJson(again), json);
    // Every default is written out.
    EXPECT_NE(json.find("\"cliprange_value\""), std::string::npos);
    EXPECT_NE(json.find("\"label_smoothing_mode\": \"none\""), std::string::npos);
    EXPECT_NE(json.find("\"max_grad_norm\": null"), std::string::npos);
    for (auto method : {mp::TrainMethod::Dpo, mp::TrainMethod::Rm, mp::TrainMethod::Rlhf}) {
        const auto defaults = mp::defaultRunConfig(method);
        EXPECT_EQ(mp::parseRunConfig(mp::runConfigToJson(defaults)), defaults);
    }
}

TEST(RunConfig, PpoCriticChoices)
{
    EXPECT_EQ(mp::parseRunConfig("{}").ppo.critic, mp::PpoCritic::Separate);
    const auto head =
        mp::parseRunConfig(R"({"ppo": {"critic": "value_head", "value_head_dropout": 0}})");
    EXPECT_EQ(head.ppo.critic, mp::PpoCritic::ValueHead);
    EXPECT_EQ(head.ppo.valueHeadDropout, 0.0);
    EXPECT_EQ(mp::parseRunConfig(mp::runConfigToJson(head)), head);
    // Configs written before "critic" existed.
    EXPECT_EQ(mp::parseRunConfig(R"({"ppo": {"separate_critic": false}})").ppo.critic,
              mp::PpoCritic::None);
    EXPECT_EQ(mp::parseRunConfig(R"({"ppo": {"separate_critic": true}})").ppo.critic,
              mp::PpoCritic::Separate);
    EXPECT_NE(configErrorOf(R"({"ppo": {"critic": "shared"}})")
                  .find("key 'ppo.critic': unknown PPO critic 'shared' (expected one of separate, "
                        "value_head, none)"),
              std::string::npos);
    EXPECT_NE(
        configErrorOf(R"({"ppo": {"value_head_dropout": 1}})").find("key 'ppo.value_head_dropout'"),
        std::string::npos);
}

TEST(RunConfig, ErrorsNameFileAndKey)
{
    EXPECT_EQ(configErrorOf(R"({"lr": 1})"), "run.json: unknown key 'lr'");
    EXPECT_EQ(configErrorOf(R"({"dpo": {"betta": 1}})"), "run.json: unknown key 'dpo.betta'");
    EXPECT_EQ(configErrorOf(R"({"dpo": {"beta": -1}})"),
              "run.json: key 'dpo.beta': must be > 0, got -1");
    EXPECT_EQ(configErrorOf(R"({"batch_size": 0})"),
              "run.json: key 'batch_size': must be at least 1, got 0");
    EXPECT_EQ(configErrorOf(R"({"batch_size": 2.5})"),
              "run.json: key 'batch_size': expected an integer, got 2.5");
    EXPECT_NE(
        configErrorOf(R"({"method": "sft"})").find("run.json: key 'method': unknown value 'sft'"),
        std::string::npos);
    EXPECT_NE(
        configErrorOf(R"({"dpo": {"loss": "kto"}})").find("run.json: key 'dpo.loss': unknown DPO"),
        std::string::npos);
    EXPECT_NE(configErrorOf(R"({"dpo": {"loss": "ipo", "label_smoothing_mode": "per_degree"}})")
                  .find("key 'dpo.label_smoothing_mode'"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"dpo": {"label_smoothing": 0.5}})").find("in [0, 0.5)"),
              std::string::npos);
    EXPECT_EQ(configErrorOf(R"({"dpo": {"rpo_alpha": -1}})"),
              "run.json: key 'dpo.rpo_alpha': must be >= 0, got -1");
    EXPECT_NE(configErrorOf(R"({"data": {"degrees": ["better", "better"]}})").find("listed twice"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"data": {"degrees": []}})").find("at least one"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"data": {"train_ids": "a.txt"}})").find("key 'data.eval_ids'"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"ppo": {"batch_size": 10, "mini_batch_size": 4}})")
                  .find("key 'ppo.batch_size': must be divisible"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"method": "ppo"})").find("ppo.reward_model"), std::string::npos);
    EXPECT_NE(configErrorOf(R"({"lora": []})").find("key 'lora' must be a JSON object"),
              std::string::npos);
    EXPECT_NE(configErrorOf("{").find("run.json: not valid JSON"), std::string::npos);
    EXPECT_NE(configErrorOf(R"({"lora": {"targets": ["q", 1]}})").find("list of strings"),
              std::string::npos);
}

TEST(RunConfig, MotionMetricsKeys)
{
    // Old configs (no motion keys) keep their meaning; the new keys have defaults.
    const auto old =
        mp::parseRunConfig(R"({"eval": {"motion_metrics": false, "replications": 4}})");
    EXPECT_FALSE(old.eval.motionMetrics);
    EXPECT_EQ(old.eval.replications, 4);
    EXPECT_EQ(old.eval.motionSplit, "val");
    EXPECT_EQ(old.eval.motionMaxClips, 320);
    EXPECT_EQ(old.eval.motionMmTexts, 0);

    const auto c = mp::parseRunConfig(R"({"eval": {"motion_metrics": true, "motion_every_epochs": 2,
        "motion_dataset": "/data/corpus", "motion_split": "test320", "motion_max_clips": 64,
        "motion_temperature": 0.8, "motion_evaluator": "/models/evaluator", "motion_mm_texts": 5,
        "best_metric": "motion/FID", "best_mode": "min"}})");
    EXPECT_TRUE(c.eval.motionMetrics);
    EXPECT_EQ(c.eval.motionEveryEpochs, 2);
    EXPECT_EQ(c.eval.motionDataset, "/data/corpus");
    EXPECT_EQ(c.eval.motionSplit, "test320");
    EXPECT_EQ(c.eval.motionMaxClips, 64);
    EXPECT_EQ(c.eval.motionTemperature, 0.8);
    EXPECT_EQ(c.eval.motionEvaluator, "/models/evaluator");
    EXPECT_EQ(c.eval.motionMmTexts, 5);
    EXPECT_EQ(c.eval.bestMetric, "motion/FID");
    EXPECT_EQ(mp::parseRunConfig(mp::runConfigToJson(c)), c);

    EXPECT_EQ(configErrorOf(R"({"eval": {"motion_metrics": true}})"),
              "run.json: key 'eval.motion_dataset': is required when eval.motion_metrics is true "
              "(a HumanML3D-layout directory, e.g. the corpus)");
    EXPECT_NE(configErrorOf(R"({"eval": {"motion_max_clips": 100}})")
                  .find("key 'eval.motion_max_clips': must be a multiple of 32"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"eval": {"best_metric": "motion/FID"}})")
                  .find("'motion/FID' needs eval.motion_metrics true"),
              std::string::npos);
    EXPECT_NE(configErrorOf(R"({"eval": {"motion_metrics": true, "motion_dataset": "d",
                                    "best_metric": "motion/R1"}})")
                  .find("unknown HumanML3D metric 'motion/R1' (expected one of "
                        "motion/R_precision_top_1"),
              std::string::npos);
    EXPECT_NE(configErrorOf(
                  R"({"method": "rm", "eval": {"motion_metrics": true, "motion_dataset": "d"}})")
                  .find("method 'rm' trains a reward model"),
              std::string::npos);
}

TEST(RunConfig, SaveAndLoadFile)
{
    const auto dir = std::filesystem::temp_directory_path() / "mp_run_config_test";
    std::filesystem::create_directories(dir);
    auto c = mp::defaultRunConfig(mp::TrainMethod::Dpo);
    c.data.pairs = "/data/pairs.jsonl";
    mp::saveRunConfig(c, dir / "config.json");
    EXPECT_EQ(mp::loadRunConfig(dir / "config.json"), c);
    {
        std::ofstream bad(dir / "bad.json");
        bad << R"({"epochs": "many"})";
    }
    try {
        mp::loadRunConfig(dir / "bad.json");
        FAIL() << "expected an InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("bad.json: key 'epochs'"), std::string::npos);
    }
    EXPECT_THROW(mp::loadRunConfig(dir / "missing.json"), mp::InputError);
    std::filesystem::remove_all(dir);
}

} // namespace
