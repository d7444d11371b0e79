#include "ml/eval/evaluator_trainer.h"

#include "ml/core/error.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"
#include "ml/eval/metrics.h"
#include "ml/eval/text_preprocess.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace mp {
namespace {

// T2M Decomp: windows of 24 frames, sparsity and smoothness weights 0.001.
constexpr std::int64_t kMovementWindow = 24;
constexpr double kSparsityWeight = 1e-3;
constexpr double kSmoothWeight = 1e-3;

// The Decomp stage's decoder: transposed convs back to the full 263 features (x4 in time).
class MovementDecoderImpl : public torch::nn::Module {
public:
    MovementDecoderImpl(std::int64_t latent, std::int64_t hidden, std::int64_t output)
    {
        auto up = [](std::int64_t in, std::int64_t out) {
            return torch::nn::ConvTranspose1d(
                torch::nn::ConvTranspose1dOptions(in, out, 4).stride(2).padding(1));
        };
        main = register_module(
            "main", torch::nn::Sequential(
                        up(latent, hidden),
                        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
                        up(hidden, output)));
        out_net = register_module("out_net", torch::nn::Linear(output, output));
    }
    at::Tensor forward(const at::Tensor &latents)
    {
        return out_net(main->forward(latents.permute({0, 2, 1})).permute({0, 2, 1}));
    }
    torch::nn::Sequential main{nullptr};
    torch::nn::Linear out_net{nullptr};
};
TORCH_MODULE(MovementDecoder);

at::Tensor normalised(const EvalDataset &d, const at::Tensor &x)
{
    return (x - d.mean.to(torch::kFloat32).view({kFeatureDim})) /
           d.std.to(torch::kFloat32).view({kFeatureDim});
}

void checkSplit(const EvalDataset &d, const char *what)
{
    if (!d.samples.empty() && (!d.mean.defined() || !d.std.defined() ||
                               d.mean.numel() != kFeatureDim || d.std.numel() != kFeatureDim))
        throw InputError(std::string("evaluator training: the ") + what +
                         " split has no 263-value mean/std");
    for (const auto &s : d.samples)
        if (s.captions.empty() || !s.features.defined() || s.features.dim() != 2 ||
            s.features.size(1) != kFeatureDim || s.features.size(0) < kMovementWindow)
            throw InputError(std::string("evaluator training: ") + what + " motion '" + s.name +
                             "' needs (T>=24, 263) features and a caption");
}

void writeCheckpoint(const std::filesystem::path &dir, TextMotionEvaluatorImpl &evaluator,
                     const WordVocabulary &vocabulary, const EvalDataset &train,
                     torch::optim::Optimizer &optimizer, const EvaluatorEpoch &epoch)
{
    const auto latest = dir / "latest";
    saveEvaluator(latest, evaluator, vocabulary, train.mean, train.std);
    torch::save(optimizer, (latest / "optimizer.pt").string());
    std::ofstream out(latest / "trainer_state.json", std::ios::trunc);
    out << nlohmann::json{{"stage", epoch.stage}, {"epoch", epoch.epoch}, {"loss", epoch.loss}}
               .dump(2)
        << "\n";
}

} // namespace

EvaluatorScore scoreEvaluator(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                              const EvalDataset &dataset, int replications, std::uint64_t seed)
{
    // The ground-truth half of the evaluation; the "generator" hands back the real motion.
    EvaluationOptions options;
    options.replications = std::max(1, replications);
    options.seed = seed;
    options.mmNumTexts = 0;
    const auto copyGenerator = [&dataset](const std::vector<GenerationRequest> &requests) {
        std::vector<at::Tensor> out;
        for (const auto &r : requests)
            out.push_back(dataset.samples[r.sampleIndex].features);
        return out;
    };
    const auto result = evaluateModel(evaluator, vocabulary, dataset, copyGenerator, options);
    EvaluatorScore score;
    for (int k = 0; k < 3; ++k)
        score.rPrecision[k] = result.metrics.at("gt_R_precision_top_" + std::to_string(k + 1)).mean;
    score.matchingScore = result.metrics.at("gt_Matching_score").mean;
    return score;
}

namespace {

struct MatchingLosses {
    at::Tensor total;
    at::Tensor positive;
    at::Tensor negative;
};

// The two stages of Guo et al.'s evaluator training over one training split: the movement
// encoder pretrained as an autoencoder on short windows, then text-motion matching with the
// contrastive loss. Both draw from one RNG stream in a fixed order (epoch permutation, then
// per sample its crop, then the batch's negative shift).
class EvaluatorTraining {
public:
    EvaluatorTraining(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                      const EvalDataset &train, const EvaluatorTrainOptions &options,
                      const ProgressFn &progress)
        : m_evaluator(evaluator), m_train(train), m_options(options), m_progress(progress),
          m_config(evaluator.config()), m_rng(options.seed),
          m_n(static_cast<std::int64_t>(train.samples.size())),
          m_batchesPerEpoch(m_n / options.batchSize),
          m_totalSteps(std::int64_t(options.movementPretrainEpochs + options.epochs) *
                       m_batchesPerEpoch)
    {
        // Normalised training motions and encoded captions, once.
        for (const auto &s : train.samples) {
            m_motions.push_back(normalised(train, s.features.to(torch::kCPU, torch::kFloat32)));
            std::vector<EncodedText> encoded;
            for (const auto &c : s.captions)
                encoded.push_back(encodeText(c.tokens.empty() ? tagCaption(c.text) : c.tokens,
                                             vocabulary, m_config.vipLists));
            m_texts.push_back(std::move(encoded));
        }
    }

    // Stage 1: movement encoder pretraining on 24-frame windows.
    void pretrainMovementEncoder(EvaluatorTrainReport &report, const EvaluatorEpochFn &onEpoch)
    {
        const auto device = m_options.device;
        MovementDecoder decoder(m_config.dimMovementLatent, m_config.dimMovementHidden,
                                kFeatureDim);
        decoder->to(device);
        std::vector<at::Tensor> params = m_evaluator.movement_encoder->parameters();
        for (auto &p : decoder->parameters())
            params.push_back(p);
        torch::optim::Adam optimizer(params, torch::optim::AdamOptions(m_options.learningRate));
        m_evaluator.movement_encoder->train();
        for (int epoch = 1; epoch <= m_options.movementPretrainEpochs; ++epoch) {
            double lossSum = 0.0;
            const auto order = randomPermutation(m_n, m_rng);
            for (std::int64_t b = 0; b < m_batchesPerEpoch; ++b) {
                std::vector<at::Tensor> windows;
                for (std::int64_t k = 0; k < m_options.batchSize; ++k) {
                    const auto &m = m_motions[order[b * m_options.batchSize + k]];
                    const auto start = uniformBelow(m_rng, m.size(0) - kMovementWindow + 1);
                    windows.push_back(m.slice(0, start, start + kMovementWindow));
                }
                const auto batch = torch::stack(windows).to(device);
                const auto latents =
                    m_evaluator.movement_encoder(batch.slice(2, 0, m_config.dimMotionInput));
                const auto recon = decoder(latents);
                const auto loss =
                    torch::l1_loss(recon, batch) + kSparsityWeight * latents.abs().mean() +
                    kSmoothWeight * torch::l1_loss(latents.slice(1, 1), latents.slice(1, 0, -1));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<double>();
                reportProgress(m_progress, ++m_step, m_totalSteps, "movement encoder");
            }
            EvaluatorEpoch info{
                .stage = "movement", .epoch = epoch, .loss = lossSum / double(m_batchesPerEpoch)};
            report.epochs.push_back(info);
            if (onEpoch)
                onEpoch(info);
        }
    }

    // Stage 2's trained tensors: text and motion encoders, the movement encoder unless it was
    // pretrained (then frozen), and learned word vectors.
    std::vector<at::Tensor> matchingParameters(bool frozenMovement) const
    {
        std::vector<at::Tensor> params;
        for (auto &p : m_evaluator.text_encoder->parameters())
            params.push_back(p);
        for (auto &p : m_evaluator.motion_encoder->parameters())
            params.push_back(p);
        if (!frozenMovement)
            for (auto &p : m_evaluator.movement_encoder->parameters())
                params.push_back(p);
        if (m_config.learnedWordVectors)
            params.push_back(m_evaluator.word_emb->weight);
        return params;
    }

    // One batch of the matching stage: a caption and crop per sample, positives against the
    // batch's motions shifted by a random offset as negatives.
    MatchingLosses matchingLosses(const std::vector<std::int64_t> &order, std::int64_t b,
                                  bool frozenMovement)
    {
        std::vector<EncodedText> batchTexts;
        std::vector<at::Tensor> crops;
        std::vector<std::int64_t> lengths;
        for (std::int64_t k = 0; k < m_options.batchSize; ++k) {
            const auto i = order[b * m_options.batchSize + k];
            const auto crop = drawGroundTruthCrop(m_train.samples[i], m_rng, m_config.unitLength,
                                                  m_options.maxMotionFrames);
            batchTexts.push_back(m_texts[i][crop.caption]);
            crops.push_back(m_motions[i].slice(0, crop.start, crop.start + crop.frames));
            lengths.push_back(crop.frames);
        }
        const auto frames = *std::max_element(lengths.begin(), lengths.end());
        auto buffer = torch::zeros({m_options.batchSize, frames, kFeatureDim});
        for (std::int64_t k = 0; k < m_options.batchSize; ++k)
            buffer[k].slice(0, 0, lengths[k]).copy_(crops[k]);
        buffer = buffer.to(m_options.device);
        auto movements = m_evaluator.encodeMovement(buffer);
        if (frozenMovement)
            movements = movements.detach();
        const auto units =
            torch::div(torch::tensor(lengths, torch::kLong), m_config.unitLength, "floor");
        const auto motionEmb = m_evaluator.motion_encoder(movements, units, m_config.packMotion);
        const auto textEmb = m_evaluator.encodeText(makeTextBatch(batchTexts));
        const auto shift = 1 + uniformBelow(m_rng, m_options.batchSize - 1);
        const auto shuffled = torch::roll(motionEmb, -shift, 0);
        const auto positive = torch::pairwise_distance(textEmb, motionEmb).pow(2).mean();
        const auto negative = (m_options.margin - torch::pairwise_distance(textEmb, shuffled))
                                  .clamp_min(0.0)
                                  .pow(2)
                                  .mean();
        return {positive + negative, positive, negative};
    }

    // Stage 2: text-motion matching, scored on the test split as the options say.
    void trainMatching(const WordVocabulary &vocabulary, const EvalDataset &test, bool scoring,
                       EvaluatorTrainReport &report, const EvaluatorEpochFn &onEpoch)
    {
        const bool frozenMovement = m_options.movementPretrainEpochs > 0;
        torch::optim::Adam optimizer(matchingParameters(frozenMovement),
                                     torch::optim::AdamOptions(m_options.learningRate));
        for (int epoch = 1; epoch <= m_options.epochs; ++epoch) {
            m_evaluator.train();
            if (frozenMovement)
                m_evaluator.movement_encoder->eval();
            double lossSum = 0.0, posSum = 0.0, negSum = 0.0;
            const auto order = randomPermutation(m_n, m_rng);
            for (std::int64_t b = 0; b < m_batchesPerEpoch; ++b) {
                const auto losses = matchingLosses(order, b, frozenMovement);
                optimizer.zero_grad();
                losses.total.backward();
                optimizer.step();
                lossSum += losses.total.item<double>();
                posSum += losses.positive.item<double>();
                negSum += losses.negative.item<double>();
                reportProgress(m_progress, ++m_step, m_totalSteps, "text-motion matching");
            }
            const double batches = double(m_batchesPerEpoch);
            EvaluatorEpoch info{.stage = "matching",
                                .epoch = epoch,
                                .loss = lossSum / batches,
                                .positiveLoss = posSum / batches,
                                .negativeLoss = negSum / batches};
            const bool last = epoch == m_options.epochs;
            if (scoring &&
                (last || (m_options.evaluateEvery > 0 && epoch % m_options.evaluateEvery == 0))) {
                info.scored = true;
                info.test = scoreEvaluator(m_evaluator, vocabulary, test,
                                           m_options.testReplications, m_options.seed);
            }
            if (!m_options.checkpointDir.empty())
                writeCheckpoint(m_options.checkpointDir, m_evaluator, vocabulary, m_train,
                                optimizer, info);
            report.epochs.push_back(info);
            if (onEpoch)
                onEpoch(info);
            if (last && info.scored)
                report.finalTest = info.test;
        }
    }

private:
    TextMotionEvaluatorImpl &m_evaluator;
    const EvalDataset &m_train;
    const EvaluatorTrainOptions &m_options;
    const ProgressFn &m_progress;
    const EvaluatorConfig &m_config;
    MetricRng m_rng;
    const std::int64_t m_n;
    const std::int64_t m_batchesPerEpoch;
    const std::int64_t m_totalSteps;
    std::int64_t m_step = 0;
    std::vector<at::Tensor> m_motions;
    std::vector<std::vector<EncodedText>> m_texts;
};

} // namespace

EvaluatorTrainReport trainEvaluator(TextMotionEvaluatorImpl &evaluator,
                                    const WordVocabulary &vocabulary, const EvalDataset &train,
                                    const EvalDataset &test, const EvaluatorTrainOptions &options,
                                    const ProgressFn &progress, const EvaluatorEpochFn &onEpoch)
{
    checkSplit(train, "training");
    checkSplit(test, "test");
    const auto n = static_cast<std::int64_t>(train.samples.size());
    if (n < options.batchSize || options.batchSize < 2)
        throw InputError("evaluator training: " + std::to_string(n) +
                         " training motions, fewer than one batch of " +
                         std::to_string(options.batchSize));
    evaluator.to(options.device);
    torch::manual_seed(options.seed);
    EvaluatorTrainReport report;
    const bool scoring = test.samples.size() >= 32;
    if (scoring)
        report.initialTest =
            scoreEvaluator(evaluator, vocabulary, test, options.testReplications, options.seed);
    EvaluatorTraining training(evaluator, vocabulary, train, options, progress);
    if (options.movementPretrainEpochs > 0)
        training.pretrainMovementEncoder(report, onEpoch);
    training.trainMatching(vocabulary, test, scoring, report, onEpoch);
    evaluator.eval();
    if (scoring && options.epochs == 0)
        report.finalTest = report.initialTest;
    return report;
}

} // namespace mp
