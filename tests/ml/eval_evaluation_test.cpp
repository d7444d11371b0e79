// The evaluation procedure end to end on a tiny random evaluator and synthetic motions: metric
// keys, replication counts, determinism with a seed, MultiModality of a deterministic generator,
// preference accuracy and the JSON / table outputs.

#include "ml/core/error.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace {

struct Fixture {
    mp::TextMotionEvaluator evaluator{nullptr};
    mp::WordVocabulary vocabulary;
    mp::EvalDataset dataset;
};

Fixture makeFixture(int numSamples = 70)
{
    torch::manual_seed(11);
    Fixture f;
    const std::vector<std::string> verbs = {"walk", "run", "jump", "kick", "wave", "squat"};
    std::vector<std::vector<mp::TaggedWord>> tagged;
    for (int i = 0; i < numSamples; ++i) {
        const auto frames = 40 + (i * 7) % 41;
        mp::EvalSample s;
        s.name = "m" + std::to_string(i);
        s.features = torch::randn({frames, 263}) * 0.5 + double(i % 6);
        const auto text = "a person " + verbs[i % 6] + "s " + (i % 2 ? "slowly" : "quickly");
        s.captions.push_back({text, {}});
        s.captions.push_back({"someone " + verbs[i % 6] + "s", {}});
        tagged.push_back(mp::tagCaption(text));
        f.dataset.samples.push_back(std::move(s));
    }
    f.dataset.mean = torch::zeros({263});
    f.dataset.std = torch::ones({263});
    f.vocabulary = mp::WordVocabulary::fromCaptions(tagged);
    mp::EvaluatorConfig c;
    c.vocabSize = f.vocabulary.size();
    c.dimWord = 16;
    c.dimTextHidden = 16;
    c.dimCoemb = 8;
    c.dimMovementHidden = 16;
    c.dimMovementLatent = 16;
    c.dimMotionHidden = 16;
    f.evaluator = mp::TextMotionEvaluator(c);
    return f;
}

// Returns each request's own test motion: a "perfect" deterministic model.
mp::MotionGeneratorFn copyGenerator(const mp::EvalDataset &dataset)
{
    return [&dataset](const std::vector<mp::GenerationRequest> &requests) {
        std::vector<at::Tensor> out;
        for (const auto &r : requests)
            out.push_back(dataset.samples[r.sampleIndex].features);
        return out;
    };
}

// Noise seeded by the request seed: the same request always gives the same motion.
std::vector<at::Tensor> noiseGenerator(const std::vector<mp::GenerationRequest> &requests)
{
    std::vector<at::Tensor> out;
    for (const auto &r : requests) {
        auto gen = at::make_generator<at::CPUGeneratorImpl>(r.seed);
        out.push_back(torch::randn({r.targetFrames, 263}, gen) * r.temperature);
    }
    return out;
}

mp::EvaluationOptions smallOptions()
{
    mp::EvaluationOptions o;
    o.replications = 3;
    o.mmNumTexts = 5;
    o.mmRepeats = 6;
    o.mmPairs = 3;
    o.diversityPairs = 50;
    return o;
}

TEST(EvalEvaluation, ReportsEveryMetricPerReplication)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.footSkating = [](const at::Tensor &features) {
        return features.size(0) > 0 ? 0.25 : 0.0;
    };
    options.preferencePairs = 4;
    options.preferenceScore = [](int64_t i) {
        return std::pair<double, double>{double(i), i == 2 ? 5.0 : 0.5};
    };
    int64_t lastDone = -1, lastTotal = 0;
    const auto result = mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, noiseGenerator,
                                          options, [&](int64_t done, int64_t total, auto) {
                                              lastDone = done;
                                              lastTotal = total;
                                              return true;
                                          });
    for (const char *key :
         {"R_precision_top_1", "R_precision_top_2", "R_precision_top_3", "Matching_score", "FID",
          "Diversity", "MultiModality", "gt_R_precision_top_1", "gt_R_precision_top_3",
          "gt_Matching_score", "gt_FID", "gt_Diversity", "Foot_skating_ratio",
          "gt_Foot_skating_ratio"}) {
        ASSERT_TRUE(result.metrics.count(key)) << key;
        EXPECT_EQ(result.metrics.at(key).values.size(), 3u) << key;
    }
    // i = 1, 3 win; i = 0 (0 vs 0.5) and i = 2 (2 vs 5) lose.
    EXPECT_DOUBLE_EQ(result.metrics.at("Preference_accuracy").mean, 0.5);
    EXPECT_DOUBLE_EQ(result.metrics.at("Foot_skating_ratio").mean, 0.25);
    const auto &top1 = result.metrics.at("R_precision_top_1");
    for (double v : top1.values)
        EXPECT_TRUE(v >= 0.0 && v <= 1.0);
    EXPECT_LE(top1.mean, result.metrics.at("R_precision_top_3").mean);
    EXPECT_GT(result.metrics.at("FID").mean, 0.0);
    EXPECT_GT(result.metrics.at("MultiModality").mean, 0.0);
    EXPECT_EQ(lastDone, lastTotal);
    EXPECT_GT(result.secondsByStage.count("generation"), 0u);
}

TEST(EvalEvaluation, DeterministicForASeed)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.replications = 2;
    const auto a =
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, noiseGenerator, options);
    const auto b =
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, noiseGenerator, options);
    for (const auto &[name, stats] : a.metrics)
        EXPECT_EQ(stats.values, b.metrics.at(name).values) << name;
    options.seed = 99;
    const auto c =
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, noiseGenerator, options);
    EXPECT_NE(a.metrics.at("FID").values, c.metrics.at("FID").values);
}

// Generation batches on several threads: the same batches, so the same metrics as one thread.
TEST(EvalEvaluation, GenerationThreadsGiveTheSameMetrics)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.replications = 2;
    options.generationBatchSize = 7; // many batches per stage
    std::atomic<int> calls{0};
    const mp::MotionGeneratorFn counting = [&](const std::vector<mp::GenerationRequest> &r) {
        ++calls;
        return noiseGenerator(r);
    };
    const auto one = mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, counting, options);
    const int callsOne = calls.exchange(0);
    options.generationThreads = 3;
    int64_t lastDone = -1, lastTotal = 0;
    const auto three = mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, counting, options,
                                         [&](int64_t done, int64_t total, auto) {
                                             lastDone = done;
                                             lastTotal = total;
                                             return true;
                                         });
    EXPECT_EQ(calls.load(), callsOne);
    EXPECT_GT(callsOne, 10);
    for (const auto &[name, stats] : one.metrics)
        EXPECT_EQ(stats.values, three.metrics.at(name).values) << name;
    EXPECT_EQ(lastDone, lastTotal);
}

// A generator's error on a worker thread, and a cancellation while workers run, reach the caller.
TEST(EvalEvaluation, GenerationThreadErrorsAndCancellationReachTheCaller)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.generationBatchSize = 5;
    options.generationThreads = 2;
    std::atomic<int> calls{0};
    const mp::MotionGeneratorFn failing = [&](const std::vector<mp::GenerationRequest> &r) {
        if (++calls == 4)
            throw std::runtime_error("generator failed on call 4");
        return noiseGenerator(r);
    };
    try {
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, failing, options);
        ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error &e) {
        EXPECT_STREQ(e.what(), "generator failed on call 4");
    }
    int reports = 0;
    EXPECT_THROW(mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, noiseGenerator, options,
                                   [&](int64_t, int64_t, auto) { return ++reports < 3; }),
                 mp::Cancelled);
}

TEST(EvalEvaluation, DeterministicGeneratorHasZeroMultimodality)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.replications = 1;
    const auto result =
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, copyGenerator(f.dataset), options);
    EXPECT_NEAR(result.metrics.at("MultiModality").mean, 0.0, 1e-6);
}

TEST(EvalEvaluation, MotionGptModeUsesEverySample)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.replications = 1;
    options.mmNumTexts = 0;
    options.grouping = mp::GroupingMode::MotionGptChunks;
    f.evaluator->setPackMotion(false);
    int64_t generated = 0;
    const auto counting = [&](const std::vector<mp::GenerationRequest> &requests) {
        generated += static_cast<int64_t>(requests.size());
        return noiseGenerator(requests);
    };
    const auto result = mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, counting, options);
    EXPECT_EQ(generated, 70); // Guo mode would generate the 64 in complete groups
    EXPECT_FALSE(result.metrics.count("MultiModality"));
    options.grouping = mp::GroupingMode::GuoBatches;
    generated = 0;
    mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, counting, options);
    EXPECT_EQ(generated, 64);
}

TEST(EvalEvaluation, WritesJsonAndTableRow)
{
    auto f = makeFixture();
    auto options = smallOptions();
    options.replications = 2;
    const auto result =
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, copyGenerator(f.dataset), options);
    const auto path = std::filesystem::temp_directory_path() /
                      ("mp_eval_metrics_" + std::to_string(::getpid()) + ".json");
    mp::writeMetricsJson(path, result);
    std::ifstream in(path);
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j.at("FID").at("values").size(), 2u);
    EXPECT_NEAR(j.at("R_precision_top_1").at("mean").get<double>(),
                result.metrics.at("R_precision_top_1").mean, 1e-12);
    EXPECT_TRUE(j.at("gt_Diversity").contains("conf_interval"));
    EXPECT_EQ(j.at("meta").at("replications").get<int>(), 2);
    std::filesystem::remove(path);
    const auto row = mp::paperTableRow(result);
    EXPECT_NE(row.find("R@1 "), std::string::npos) << row;
    EXPECT_NE(row.find("MModality "), std::string::npos) << row;
    EXPECT_NE(mp::paperTableRow(result, true).find("FID "), std::string::npos);
}

TEST(EvalEvaluation, FootSkatingOfStillFeaturesIsZero)
{
    // A motionless body: zero velocities, feet on the floor; nothing slides.
    auto features = torch::zeros({30, 263});
    features.select(1, 3).fill_(0.9);
    EXPECT_DOUBLE_EQ(mp::footSkatingOfFeatures(features), 0.0);
    // The root sliding sideways at 5 cm per frame with the feet low: every step skates.
    auto sliding = features.clone();
    sliding.select(1, 3).fill_(0.0);
    sliding.select(1, 1).fill_(0.05);
    EXPECT_GT(mp::footSkatingOfFeatures(sliding), 0.5);
    EXPECT_DOUBLE_EQ(mp::footSkatingOfFeatures(torch::zeros({1, 263})), 0.0);
}

TEST(EvalEvaluation, RejectsTooSmallSplit)
{
    auto f = makeFixture(20);
    EXPECT_THROW(
        mp::evaluateModel(*f.evaluator, f.vocabulary, f.dataset, noiseGenerator, smallOptions()),
        mp::InputError);
}

} // namespace
