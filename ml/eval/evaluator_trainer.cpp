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
    const auto &config = evaluator.config();
    const auto device = options.device;
    evaluator.to(device);
    torch::manual_seed(options.seed);
    MetricRng rng(options.seed);
    EvaluatorTrainReport report;
    const bool scoring = test.samples.size() >= 32;
    if (scoring)
        report.initialTest =
            scoreEvaluator(evaluator, vocabulary, test, options.testReplications, options.seed);

    // Normalised training motions and encoded captions, once.
    std::vector<at::Tensor> motions;
    std::vector<std::vector<EncodedText>> texts;
    for (const auto &s : train.samples) {
        motions.push_back(normalised(train, s.features.to(torch::kCPU, torch::kFloat32)));
        std::vector<EncodedText> encoded;
        for (const auto &c : s.captions)
            encoded.push_back(encodeText(c.tokens.empty() ? tagCaption(c.text) : c.tokens,
                                         vocabulary, config.vipLists));
        texts.push_back(std::move(encoded));
    }
    const std::int64_t batchesPerEpoch = n / options.batchSize;
    const std::int64_t totalSteps =
        std::int64_t(options.movementPretrainEpochs + options.epochs) * batchesPerEpoch;
    std::int64_t step = 0;

    // Stage 1: movement encoder pretraining on 24-frame windows.
    if (options.movementPretrainEpochs > 0) {
        MovementDecoder decoder(config.dimMovementLatent, config.dimMovementHidden, kFeatureDim);
        decoder->to(device);
        std::vector<at::Tensor> params = evaluator.movement_encoder->parameters();
        for (auto &p : decoder->parameters())
            params.push_back(p);
        torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.learningRate));
        evaluator.movement_encoder->train();
        for (int epoch = 1; epoch <= options.movementPretrainEpochs; ++epoch) {
            double lossSum = 0.0;
            const auto order = randomPermutation(n, rng);
            for (std::int64_t b = 0; b < batchesPerEpoch; ++b) {
                std::vector<at::Tensor> windows;
                for (std::int64_t k = 0; k < options.batchSize; ++k) {
                    const auto &m = motions[order[b * options.batchSize + k]];
                    const auto start = uniformBelow(rng, m.size(0) - kMovementWindow + 1);
                    windows.push_back(m.slice(0, start, start + kMovementWindow));
                }
                const auto batch = torch::stack(windows).to(device);
                const auto latents =
                    evaluator.movement_encoder(batch.slice(2, 0, config.dimMotionInput));
                const auto recon = decoder(latents);
                const auto loss =
                    torch::l1_loss(recon, batch) + kSparsityWeight * latents.abs().mean() +
                    kSmoothWeight * torch::l1_loss(latents.slice(1, 1), latents.slice(1, 0, -1));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<double>();
                reportProgress(progress, ++step, totalSteps, "movement encoder");
            }
            EvaluatorEpoch info{
                .stage = "movement", .epoch = epoch, .loss = lossSum / double(batchesPerEpoch)};
            report.epochs.push_back(info);
            if (onEpoch)
                onEpoch(info);
        }
    }

    // Stage 2: text-motion matching with the contrastive loss.
    const bool frozenMovement = options.movementPretrainEpochs > 0;
    std::vector<at::Tensor> params;
    for (auto &p : evaluator.text_encoder->parameters())
        params.push_back(p);
    for (auto &p : evaluator.motion_encoder->parameters())
        params.push_back(p);
    if (!frozenMovement)
        for (auto &p : evaluator.movement_encoder->parameters())
            params.push_back(p);
    if (config.learnedWordVectors)
        params.push_back(evaluator.word_emb->weight);
    torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.learningRate));
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        evaluator.train();
        if (frozenMovement)
            evaluator.movement_encoder->eval();
        double lossSum = 0.0, posSum = 0.0, negSum = 0.0;
        const auto order = randomPermutation(n, rng);
        for (std::int64_t b = 0; b < batchesPerEpoch; ++b) {
            std::vector<EncodedText> batchTexts;
            std::vector<at::Tensor> crops;
            std::vector<std::int64_t> lengths;
            for (std::int64_t k = 0; k < options.batchSize; ++k) {
                const auto i = order[b * options.batchSize + k];
                const auto crop = drawGroundTruthCrop(train.samples[i], rng, config.unitLength,
                                                      options.maxMotionFrames);
                batchTexts.push_back(texts[i][crop.caption]);
                crops.push_back(motions[i].slice(0, crop.start, crop.start + crop.frames));
                lengths.push_back(crop.frames);
            }
            const auto frames = *std::max_element(lengths.begin(), lengths.end());
            auto buffer = torch::zeros({options.batchSize, frames, kFeatureDim});
            for (std::int64_t k = 0; k < options.batchSize; ++k)
                buffer[k].slice(0, 0, lengths[k]).copy_(crops[k]);
            buffer = buffer.to(device);
            auto movements = evaluator.encodeMovement(buffer);
            if (frozenMovement)
                movements = movements.detach();
            const auto units =
                torch::div(torch::tensor(lengths, torch::kLong), config.unitLength, "floor");
            const auto motionEmb = evaluator.motion_encoder(movements, units, config.packMotion);
            const auto textEmb = evaluator.encodeText(makeTextBatch(batchTexts));
            const auto shift = 1 + uniformBelow(rng, options.batchSize - 1);
            const auto shuffled = torch::roll(motionEmb, -shift, 0);
            const auto positive = torch::pairwise_distance(textEmb, motionEmb).pow(2).mean();
            const auto negative = (options.margin - torch::pairwise_distance(textEmb, shuffled))
                                      .clamp_min(0.0)
                                      .pow(2)
                                      .mean();
            const auto loss = positive + negative;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            lossSum += loss.item<double>();
            posSum += positive.item<double>();
            negSum += negative.item<double>();
            reportProgress(progress, ++step, totalSteps, "text-motion matching");
        }
        EvaluatorEpoch info{.stage = "matching",
                            .epoch = epoch,
                            .loss = lossSum / double(batchesPerEpoch),
                            .positiveLoss = posSum / double(batchesPerEpoch),
                            .negativeLoss = negSum / double(batchesPerEpoch)};
        const bool last = epoch == options.epochs;
        if (scoring &&
            (last || (options.evaluateEvery > 0 && epoch % options.evaluateEvery == 0))) {
            info.scored = true;
            info.test =
                scoreEvaluator(evaluator, vocabulary, test, options.testReplications, options.seed);
        }
        if (!options.checkpointDir.empty())
            writeCheckpoint(options.checkpointDir, evaluator, vocabulary, train, optimizer, info);
        report.epochs.push_back(info);
        if (onEpoch)
            onEpoch(info);
        if (last && info.scored)
            report.finalTest = info.test;
    }
    evaluator.eval();
    if (scoring && options.epochs == 0)
        report.finalTest = report.initialTest;
    return report;
}

} // namespace mp
