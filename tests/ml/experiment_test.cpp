// Experiment sweeps (ml/run/experiment.h, experiment_report.h): the grid and variants expand to
// the runs, bad sweeps name the file and key, and the intervals and paired differences equal
// hand-computed numbers (Python: mean, 1.96 * pstdev / sqrt(n)).
#include "ml/core/error.h"
#include "ml/run/experiment.h"
#include "ml/run/experiment_report.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace {

const std::string kEval = R"("eval": {"dataset": "corpus", "replications": 3, "max_clips": 64})";

std::string sweepText(const std::string &middle)
{
    return R"({"base": {"method": "dpo", "epochs": 1, "data": {"pairs": "p.jsonl"}}, )" + middle +
           ", " + kEval + "}";
}

std::string sweepErrorOf(const std::string &json)
{
    try {
        mp::parseSweep(json, "s.json");
    } catch (const mp::InputError &e) {
        return e.what();
    }
    return "";
}

TEST(ExperimentSweep, GridTimesSeedsWithShortKeys)
{
    const auto sweep = mp::parseSweep(
        sweepText(R"("grid": {"loss": ["sigmoid", "ipo"], "beta": [0.1, 0.5]}, "seeds": [1, 2])"),
        "s.json");
    ASSERT_EQ(sweep.configurations.size(), 4u);
    EXPECT_EQ(sweep.configurations[0], "loss=sigmoid beta=0.1");
    EXPECT_EQ(sweep.configurations[3], "loss=ipo beta=0.5");
    ASSERT_EQ(sweep.runs.size(), 8u);
    EXPECT_EQ(sweep.runs[1].seed, 2);
    EXPECT_EQ(sweep.runs[1].config.seed, 2);
    EXPECT_EQ(sweep.runs[7].config.dpo.loss, mp::DpoLossType::Ipo);
    EXPECT_DOUBLE_EQ(sweep.runs[7].config.dpo.beta, 0.5);
    EXPECT_EQ(sweep.runs[0].config.dpo.loss, mp::DpoLossType::Sigmoid);
    EXPECT_EQ(sweep.runs[0].config.epochs, 1); // the base is kept
    EXPECT_EQ(sweep.runs[0].id, "c01_loss_sigmoid_beta_0.1_s1");
    EXPECT_EQ(sweep.eval.replications, 3);
    EXPECT_EQ(sweep.eval.maxClips, 64);
    EXPECT_TRUE(sweep.baseline);
}

TEST(ExperimentSweep, VariantsAppliedToEachGridPoint)
{
    const auto sweep = mp::parseSweep(sweepText(R"("grid": {"dpo.beta": [0.1, 0.2]},
                     "variants": [{"name": "plain"}, {"name": "rpo", "set": {"rpo_alpha": 10}}])"),
                                      "s.json");
    ASSERT_EQ(sweep.runs.size(), 4u); // the base's seed only
    EXPECT_EQ(sweep.runs[1].configuration, "dpo.beta=0.1 rpo");
    EXPECT_DOUBLE_EQ(sweep.runs[1].config.dpo.rpoAlpha, 10.0);
    EXPECT_DOUBLE_EQ(sweep.runs[0].config.dpo.rpoAlpha, 0.0);
    EXPECT_EQ(sweep.runs[0].config.seed, 2222);
}

TEST(ExperimentSweep, BadSweepsNameFileAndKey)
{
    EXPECT_NE(sweepErrorOf(sweepText(R"("grid": {"betta": [1]})")).find("s.json: key 'grid.betta'"),
              std::string::npos);
    EXPECT_NE(sweepErrorOf(sweepText(R"("grid": {"beta": []})")).find("key 'grid.beta'"),
              std::string::npos);
    // run.json's own validation, with the configuration named.
    const auto negative = sweepErrorOf(sweepText(R"("grid": {"beta": [-1]})"));
    EXPECT_NE(negative.find("configuration 'beta=-1'"), std::string::npos) << negative;
    EXPECT_NE(negative.find("dpo.beta"), std::string::npos) << negative;
    EXPECT_NE(sweepErrorOf(sweepText(R"("seeds": [1, 1])")).find("key 'seeds'"), std::string::npos);
    EXPECT_NE(sweepErrorOf(sweepText(R"("grid": {"seed": [1, 2]})")).find("\"seeds\""),
              std::string::npos);
    EXPECT_NE(sweepErrorOf(sweepText(R"("colour": 1)")).find("key 'colour'"), std::string::npos);
    EXPECT_NE(sweepErrorOf(R"({"base": {"data": {"pairs": "p"}}})").find("key 'eval'"),
              std::string::npos);
    EXPECT_NE(sweepErrorOf(R"({"base": {"data": {"pairs": "p"}}, "eval": {"dataset": "d", )"
                           R"("replications": 1}})")
                  .find("key 'eval.replications'"),
              std::string::npos);
    EXPECT_NE(sweepErrorOf(R"({"base": {}, "eval": {"dataset": "d"}})").find("data.pairs"),
              std::string::npos);
    EXPECT_NE(sweepErrorOf(R"({"base": {"method": "rm", "data": {"pairs": "p"}}, )" + kEval + "}")
                  .find("method rm"),
              std::string::npos);
    EXPECT_NE(sweepErrorOf("[1").find("s.json: not valid JSON"), std::string::npos);
}

TEST(ExperimentStats, IntervalAndPairedDifferenceByHand)
{
    const std::vector<double> baseline = {0.40, 0.42, 0.44};
    const std::vector<double> seed1 = {0.45, 0.46, 0.50};
    const std::vector<double> seed2 = {0.43, 0.47, 0.47};
    const auto two = mp::intervalOf({1.0, 3.0});
    EXPECT_NEAR(two.mean, 2.0, 1e-12);
    EXPECT_NEAR(two.halfInterval, 1.96 / std::sqrt(2.0), 1e-12); // pstdev 1
    std::vector<double> pooled = seed1;
    pooled.insert(pooled.end(), seed2.begin(), seed2.end());
    const auto value = mp::intervalOf(pooled);
    EXPECT_NEAR(value.mean, 0.4633333333, 1e-9);
    EXPECT_NEAR(value.halfInterval, 0.0170785549, 1e-9);
    EXPECT_EQ(value.n, 6);
    const auto difference = mp::pairedDifference({seed1, seed2}, baseline);
    EXPECT_NEAR(difference.mean, 0.0433333333, 1e-9);
    EXPECT_NEAR(difference.halfInterval, 0.0088461752, 1e-9);
    EXPECT_EQ(difference.n, 6);
    EXPECT_TRUE(difference.excludesZero());
    EXPECT_FALSE(mp::pairedDifference({{0.41, 0.41, 0.45}}, baseline).excludesZero());
    EXPECT_THROW(mp::pairedDifference({{0.4, 0.4}}, baseline), mp::InputError);
}

void writeMetrics(const std::filesystem::path &path, const std::vector<double> &r1,
                  const std::vector<double> &fid)
{
    std::filesystem::create_directories(path.parent_path());
    const nlohmann::json j = {
        {"R_precision_top_1", {{"mean", 0}, {"conf_interval", 0}, {"values", r1}}},
        {"FID", {{"mean", 0}, {"conf_interval", 0}, {"values", fid}}},
        {"gt_FID", {{"mean", 0.01}, {"conf_interval", 0}, {"values", {0.01, 0.01, 0.01}}}},
        {"meta", {{"replications", 3}}}};
    std::ofstream(path) << j.dump();
}

TEST(ExperimentReport, TablesFromDisk)
{
    mp::test::TempDir dir("experiment");
    const auto sweep =
        mp::parseSweep(sweepText(R"("grid": {"beta": [0.1, 0.5]}, "seeds": [1, 2])"), "s.json");
    const mp::ExperimentLayout layout{dir.path()};
    std::vector<mp::ExperimentRunStatus> status;
    for (const auto &run : sweep.runs)
        status.push_back({.id = run.id, .state = mp::ExperimentRunState::Pending, .message = {}});
    status[0].state = status[1].state = mp::ExperimentRunState::Evaluated;
    status[2].state = mp::ExperimentRunState::Failed;
    status[2].message = "the loss is NaN";
    mp::writeExperimentState(layout, sweep, status, mp::ExperimentRunState::Evaluated);
    writeMetrics(layout.baselineMetrics(), {0.40, 0.42, 0.44}, {16, 17, 18});
    writeMetrics(layout.runMetrics(sweep.runs[0]), {0.45, 0.46, 0.50}, {15, 16, 17});
    writeMetrics(layout.runMetrics(sweep.runs[1]), {0.43, 0.47, 0.47}, {16.5, 17, 18});

    const auto results = mp::writeExperimentReport(dir.path());
    ASSERT_EQ(results.metrics, (std::vector<std::string>{"R_precision_top_1", "FID"}));
    ASSERT_TRUE(results.baseline);
    ASSERT_EQ(results.configurations.size(), 2u);
    const auto &first = results.configurations[0].cells.at("R_precision_top_1");
    EXPECT_NEAR(first.value.mean, 0.4633333333, 1e-9);
    ASSERT_TRUE(first.difference);
    EXPECT_NEAR(first.difference->halfInterval, 0.0088461752, 1e-9);
    EXPECT_TRUE(results.configurations[1].cells.empty()); // nothing evaluated yet
    EXPECT_EQ(results.runs.size(), 2u);
    EXPECT_EQ(results.state.runs[2].message, "the loss is NaN");

    std::ifstream md(dir / "results.md");
    const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("| beta=0.1 | 2 | 0.463 ± 0.017 |"), std::string::npos) << text;
    EXPECT_NE(text.find("+0.043 ± 0.009 *"), std::string::npos) << text;
    EXPECT_NE(text.find("the loss is NaN"), std::string::npos) << text;
    EXPECT_NE(text.find("gt_FID 0.010"), std::string::npos) << text;
    std::ifstream csv(dir / "results.csv");
    const std::string table((std::istreambuf_iterator<char>(csv)),
                            std::istreambuf_iterator<char>());
    EXPECT_NE(table.find("\"pooled\",\"beta=0.1\",,R_precision_top_1,0.463333,0.017079,6,"
                         "0.043333,0.008846,6,yes"),
              std::string::npos)
        << table;
    EXPECT_NE(table.find("\"baseline\",\"baseline (untrained)\",,FID,17.000000"), std::string::npos)
        << table;

    // The state reads back; a foreign file is refused with its name.
    const auto state = mp::readExperimentState(layout);
    EXPECT_EQ(state.runs[0].state, mp::ExperimentRunState::Evaluated);
    EXPECT_EQ(state.sweep.sourceJson, sweep.sourceJson);
    std::ofstream(layout.stateFile()) << "{\"runs\": 3}";
    try {
        mp::readExperimentState(layout);
        FAIL() << "accepted a broken experiment.json";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("experiment.json"), std::string::npos);
    }
}

} // namespace
