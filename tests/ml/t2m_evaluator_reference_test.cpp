// The T2M evaluator and the HumanML3D metrics against the originals' outputs
// (tests/reference/t2m_evaluator.py runs EricGuo5513/text-to-motion and MotionGPT's
// tm2t_evaluator): T2M's metric functions on fixed embeddings with the indices Python drew,
// and a tiny finest.tar + GloVe + mean/std imported here end to end, whose text preprocessing,
// text and motion embeddings must equal T2M's EvaluatorModelWrapper's.

#include "ml/core/error.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/normalizer.h"
#include "ml/data/npy.h"
#include "ml/data/safetensors.h"
#include "ml/eval/clip_embeddings.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/evaluator.h"
#include "ml/eval/metrics.h"
#include "ml/eval/t2m_import.h"
#include "tests/ml/temp_dir.h"

#include "golden_files.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

namespace {

std::filesystem::path t2mGoldenDir()
{
    return mp::test::goldenDir("t2m_evaluator");
}

std::vector<std::int64_t> indices(const at::Tensor &t)
{
    const auto c = t.to(torch::kLong).contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

class T2mMetricsReference : public ::testing::Test {
protected:
    void SetUp() override
    {
        tensors = mp::readSafetensors(t2mGoldenDir() / "metrics.safetensors");
        values = mp::test::readJsonFile(t2mGoldenDir() / "metrics.json");
    }
    const at::Tensor &at(const std::string &name) { return tensors.at(name); }

    mp::TensorMap tensors;
    nlohmann::json values;
};

TEST_F(T2mMetricsReference, DistanceMatrixAndStatistics)
{
    const auto d =
        mp::euclideanDistanceMatrix(at("text").slice(0, 0, 32), at("gen_motion").slice(0, 0, 32));
    EXPECT_LT(maxAbsDiff(d, at("distances_first32")), 1e-12);
    const auto stats = mp::gaussianStats(at("gt_motion"));
    EXPECT_LT(maxAbsDiff(stats.mean, at("gt_mu")), 1e-12);
    EXPECT_LT(maxAbsDiff(stats.cov, at("gt_cov")), 1e-12);
    std::printf("max |diff| distances %.3g, mean %.3g, cov %.3g\n",
                maxAbsDiff(d, at("distances_first32")), maxAbsDiff(stats.mean, at("gt_mu")),
                maxAbsDiff(stats.cov, at("gt_cov")));
}

TEST_F(T2mMetricsReference, RPrecisionAndMatchingScoreOverPythonsBatches)
{
    std::vector<std::vector<std::int64_t>> groups;
    const auto g = at("groups");
    for (std::int64_t i = 0; i < g.size(0); ++i)
        groups.push_back(indices(g[i]));
    const auto result = mp::matchingMetricsForGroups(at("text"), at("gen_motion"), groups);
    EXPECT_EQ(result.numEvaluated, values["num_evaluated"].get<std::int64_t>());
    for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(result.rPrecision[k], values["R_precision"][k].get<double>(), 1e-12) << k;
    EXPECT_NEAR(result.matchingScore, values["Matching_score"].get<double>(), 1e-9);
    std::printf("|diff| matching score %.3g\n",
                std::abs(result.matchingScore - values["Matching_score"].get<double>()));
}

TEST_F(T2mMetricsReference, FidDiversityMultiModality)
{
    const double fid = mp::fid(at("gt_motion"), at("gen_motion"));
    const double diversity = mp::diversityOfPairs(at("gen_motion"), indices(at("diversity_first")),
                                                  indices(at("diversity_second")));
    const double multimodality =
        mp::multimodalityOfPairs(at("mm"), indices(at("mm_first")), indices(at("mm_second")));
    EXPECT_NEAR(fid, values["FID"].get<double>(), 1e-6);
    EXPECT_NEAR(diversity, values["Diversity"].get<double>(), 1e-9);
    EXPECT_NEAR(multimodality, values["MultiModality"].get<double>(), 1e-9);
    std::printf("|diff| FID %.3g, Diversity %.3g, MultiModality %.3g\n",
                std::abs(fid - values["FID"].get<double>()),
                std::abs(diversity - values["Diversity"].get<double>()),
                std::abs(multimodality - values["MultiModality"].get<double>()));
    EXPECT_THROW(mp::diversityOfPairs(at("gen_motion"), {0, 1}, {0}), std::invalid_argument);
    EXPECT_THROW(mp::multimodalityOfPairs(at("mm"), {0}, {30}), std::invalid_argument);
}

// The tiny finest.tar imported once per test, with T2M's item for each whole clip.
class T2mEvaluatorReference : public ::testing::Test {
protected:
    void SetUp() override
    {
        const auto golden = t2mGoldenDir();
        mp::T2mEvaluatorImport options{.checkpoint = golden / "checkpoint/finest.tar",
                                       .gloveDir = golden / "glove",
                                       .metaDir = golden / "meta",
                                       .out = dir / "evaluator"};
        summary = mp::importT2mEvaluator(options);
        loaded = mp::loadEvaluator(options.out);
        loaded.model->eval();
        expected = mp::readSafetensors(golden / "embeddings.safetensors");
        rows = mp::test::readJsonFile(golden / "embeddings.json");
        mp::HumanMl3dOptions datasetOptions;
        datasetOptions.split = "test";
        dataset = mp::evalDatasetFromHumanMl3d(
            mp::HumanMl3dDataset::open(golden / "humanml3d", datasetOptions),
            mp::Normalizer(loaded.mean, loaded.std));
    }

    // The dataset sample of golden row i.
    const mp::EvalSample &sampleOfRow(std::size_t i)
    {
        const auto name = rows["names"][i].get<std::string>();
        for (const auto &s : dataset.samples)
            if (s.name == name)
                return s;
        throw std::runtime_error("no clip " + name);
    }

    mp::test::TempDir dir{"mp_t2m_ref"};
    mp::T2mImportSummary summary;
    mp::LoadedEvaluator loaded;
    mp::TensorMap expected;
    nlohmann::json rows;
    mp::EvalDataset dataset;
};

TEST_F(T2mEvaluatorReference, ImportReadsDimensionsEpochAndStatistics)
{
    const auto &c = loaded.model->config();
    EXPECT_EQ(c.dimWord, 8);
    EXPECT_EQ(c.dimTextHidden, 16);
    EXPECT_EQ(c.dimCoemb, 8);
    EXPECT_EQ(c.dimMovementHidden, 8);
    EXPECT_EQ(c.dimMovementLatent, 12);
    EXPECT_EQ(c.dimMotionHidden, 20);
    EXPECT_EQ(c.vipLists, mp::VipLists::T2m);
    EXPECT_TRUE(c.packMotion);
    EXPECT_FALSE(c.learnedWordVectors);
    EXPECT_EQ(summary.epoch, 11);
    // The evaluator's statistics (meta/), not the dataset's zero mean and unit std.
    const auto mean = mp::npy::read(t2mGoldenDir() / "meta/mean.npy");
    EXPECT_LT(maxAbsDiff(loaded.mean, mean), 1e-7);
    EXPECT_GT(loaded.std.abs().sub(1.0).abs().max().item<double>(), 0.1);
}

TEST_F(T2mEvaluatorReference, TextPreprocessingEqualsWordVectorizerTokenForToken)
{
    const auto wordEmbs = expected.at("word_embs");
    const auto posOneHot = expected.at("pos_ohot");
    const auto sentLen = expected.at("sent_len");
    ASSERT_EQ(wordEmbs.size(0), static_cast<std::int64_t>(rows["names"].size()));
    for (std::size_t i = 0; i < rows["names"].size(); ++i) {
        const auto &caption = sampleOfRow(i).captions.front();
        EXPECT_EQ(caption.text, rows["captions"][i].get<std::string>());
        const auto encoded =
            mp::encodeText(caption.tokens, loaded.vocabulary, loaded.model->config().vipLists);
        const auto row = static_cast<std::int64_t>(i);
        EXPECT_EQ(encoded.length, sentLen[row].item<std::int64_t>()) << caption.text;
        // The imported GloVe vectors live in the evaluator's word_emb table.
        const auto vectors = loaded.model->word_emb->weight.detach().index_select(
            0, torch::tensor(encoded.wordIds, torch::kLong));
        EXPECT_EQ(maxAbsDiff(vectors, wordEmbs[row]), 0.0) << caption.text;
        const auto oneHot =
            torch::one_hot(torch::tensor(encoded.posIds, torch::kLong), mp::kEvalPosClasses);
        EXPECT_EQ(maxAbsDiff(oneHot, posOneHot[row]), 0.0) << caption.text;
    }
}

TEST_F(T2mEvaluatorReference, ProjectVipListsWouldChangeThePosOfT2mCaptions)
{
    // "hip", "around", "circle", "sideways", "step" and "wave" are VIP words only in the
    // project's lists; T2M keeps their tags, which the checkpoint was trained with.
    bool anyDifferent = false;
    for (std::size_t i = 0; i < rows["names"].size(); ++i) {
        const auto &tokens = sampleOfRow(i).captions.front().tokens;
        const auto t2m = mp::encodeText(tokens, loaded.vocabulary, mp::VipLists::T2m);
        const auto project = mp::encodeText(tokens, loaded.vocabulary, mp::VipLists::Project);
        anyDifferent = anyDifferent || t2m.posIds != project.posIds;
    }
    EXPECT_TRUE(anyDifferent);
    EXPECT_EQ(mp::evalVipClass("hip", mp::VipLists::T2m), "");
    EXPECT_EQ(mp::evalVipClass("hip", mp::VipLists::Project), "Body_VIP");
    EXPECT_EQ(mp::evalVipClass("curve", mp::VipLists::T2m), "Loc_VIP");
}

TEST_F(T2mEvaluatorReference, EmbedClipsEqualsT2mCoEmbeddings)
{
    const auto clips = mp::embedClips(*loaded.model, loaded.vocabulary, dataset);
    const auto mean = loaded.mean.to(torch::kFloat32);
    const auto std = loaded.std.to(torch::kFloat32);
    double textDiff = 0.0;
    double motionDiff = 0.0;
    for (std::size_t i = 0; i < rows["names"].size(); ++i) {
        const auto name = rows["names"][i].get<std::string>();
        const auto it = std::find(clips.ids.begin(), clips.ids.end(), name);
        ASSERT_NE(it, clips.ids.end()) << name;
        const auto k = static_cast<std::int64_t>(it - clips.ids.begin());
        const auto row = static_cast<std::int64_t>(i);
        const auto frames = clips.frames[k].item<std::int64_t>();
        EXPECT_EQ(frames, expected.at("m_len")[row].item<std::int64_t>()) << name;
        // The same frames, normalised with the evaluator's statistics.
        const auto motion = (sampleOfRow(i).features.slice(0, 0, frames) - mean) / std;
        const double absSum = expected.at("motion_abs_sum")[row].item<double>();
        EXPECT_NEAR(motion.to(torch::kFloat64).abs().sum().item<double>(), absSum, 1e-6 * absSum);
        EXPECT_NEAR(motion.to(torch::kFloat64).sum().item<double>(),
                    expected.at("motion_sum")[row].item<double>(), 1e-6 * absSum);
        textDiff =
            std::max(textDiff, maxAbsDiff(clips.text[k], expected.at("text_embedding")[row]));
        motionDiff =
            std::max(motionDiff, maxAbsDiff(clips.motion[k], expected.at("motion_embedding")[row]));
    }
    EXPECT_LT(textDiff, 1e-4);
    EXPECT_LT(motionDiff, 1e-4);
    std::printf("T2M co-embeddings: text max |diff| %.3g, motion max |diff| %.3g\n", textDiff,
                motionDiff);
}

TEST_F(T2mEvaluatorReference, UnpackedMotionGruEqualsMotionGptsCopy)
{
    // MotionGPT's tm2t_evaluator on the same 196-frame buffers: the GRU also reads the padding.
    const auto mean = loaded.mean.to(torch::kFloat32);
    const auto std = loaded.std.to(torch::kFloat32);
    const auto n = static_cast<std::int64_t>(rows["names"].size());
    auto buffer = torch::zeros({n, 196, 263});
    auto lengths = torch::empty({n}, torch::kLong);
    for (std::int64_t i = 0; i < n; ++i) {
        const auto frames = expected.at("m_len")[i].item<std::int64_t>();
        buffer[i]
            .slice(0, 0, frames)
            .copy_((sampleOfRow(static_cast<std::size_t>(i)).features.slice(0, 0, frames) - mean) /
                   std);
        lengths[i] = frames;
    }
    torch::NoGradGuard noGrad;
    const auto packed = loaded.model->encodeMotion(buffer, lengths);
    EXPECT_LT(maxAbsDiff(packed, expected.at("motion_embedding")), 1e-4);
    loaded.model->setPackMotion(false);
    const auto unpacked = loaded.model->encodeMotion(buffer, lengths);
    const double diff = maxAbsDiff(unpacked, expected.at("motiongpt_unpacked_motion_embedding"));
    EXPECT_LT(diff, 1e-4);
    // Not packing changes the embedding of every clip shorter than the buffer.
    const double gap = maxAbsDiff(unpacked, packed);
    EXPECT_GT(gap, 1e-2);
    std::printf("MotionGPT unpacked: max |diff| %.3g; packed vs unpacked: %.3g\n", diff, gap);
}

TEST(T2mEvaluatorImport, RealDimensionsAreInferredFromShapes)
{
    // The release's shapes (word 300, text hidden 512, movement 512/512, motion hidden 1024,
    // coemb 512), without their values.
    const std::map<std::string, at::Tensor> shapes = {
        {"text_encoder.pos_emb.weight", torch::empty({300, 15})},
        {"text_encoder.input_emb.weight", torch::empty({512, 300})},
        {"text_encoder.output_net.3.weight", torch::empty({512, 512})},
        {"movement_encoder.main.0.weight", torch::empty({512, 259, 4})},
        {"movement_encoder.main.3.weight", torch::empty({512, 512, 4})},
        {"motion_encoder.input_emb.weight", torch::empty({1024, 512})},
        {"motion_encoder.output_net.3.weight", torch::empty({512, 1024})}};
    const auto config = mp::t2mConfigFromShapes(shapes, 5000, "finest.tar");
    EXPECT_EQ(config.dimWord, 300);
    EXPECT_EQ(config.dimTextHidden, 512);
    EXPECT_EQ(config.dimCoemb, 512);
    EXPECT_EQ(config.dimMovementHidden, 512);
    EXPECT_EQ(config.dimMovementLatent, 512);
    EXPECT_EQ(config.dimMotionHidden, 1024);
    // The networks built from it have T2M's tensor shapes.
    mp::TextMotionEvaluatorImpl evaluator(config);
    const auto state = mp::evaluatorStateDict(evaluator);
    EXPECT_EQ(state.at("motion_encoder.gru.weight_hh_l0").sizes(), (at::IntArrayRef{3072, 1024}));
    EXPECT_EQ(state.at("motion_encoder.hidden").sizes(), (at::IntArrayRef{2, 1, 1024}));
    EXPECT_EQ(state.at("text_encoder.gru.weight_ih_l0_reverse").sizes(),
              (at::IntArrayRef{1536, 512}));

    auto wrong = shapes;
    wrong["motion_encoder.input_emb.weight"] = torch::empty({1024, 500});
    EXPECT_THROW(mp::t2mConfigFromShapes(wrong, 5000, "finest.tar"), mp::InputError);
    wrong = shapes;
    wrong.erase("text_encoder.pos_emb.weight");
    EXPECT_THROW(mp::t2mConfigFromShapes(wrong, 5000, "finest.tar"), mp::InputError);
}

TEST(T2mEvaluatorImport, BadInputsNameTheFile)
{
    mp::test::TempDir dir("mp_t2m_bad");
    const auto golden = t2mGoldenDir();
    std::filesystem::copy(golden / "glove", dir / "glove");
    // Word vectors of another width than the checkpoint's text encoder takes.
    mp::npy::write(dir / "glove/our_vab_data.npy", torch::zeros({33, 5}));
    mp::T2mEvaluatorImport options{.checkpoint = golden / "checkpoint/finest.tar",
                                   .gloveDir = dir / "glove",
                                   .metaDir = golden / "meta",
                                   .out = dir / "out"};
    try {
        mp::importT2mEvaluator(options);
        FAIL() << "expected an InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("our_vab_data.npy"), std::string::npos) << e.what();
    }
    // Fewer rows than the index table points at.
    mp::npy::write(dir / "glove/our_vab_data.npy", torch::zeros({3, 8}));
    EXPECT_THROW(mp::readT2mGlove(dir / "glove"), mp::InputError);
    options.gloveDir = golden / "glove";
    options.metaDir = dir / "no_meta";
    EXPECT_THROW(mp::importT2mEvaluator(options), mp::InputError);
    options.metaDir = golden / "meta";
    options.checkpoint = golden / "glove/our_vab_words.pkl";
    EXPECT_THROW(mp::importT2mEvaluator(options), mp::InputError);
}

} // namespace
