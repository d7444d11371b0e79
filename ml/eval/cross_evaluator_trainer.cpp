#include "ml/eval/cross_evaluator_trainer.h"

#include "ml/core/error.h"
#include "ml/eval/cross_evaluator.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/metrics.h"
#include "ml/models/sentencepiece.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace mp {
namespace {

constexpr int kGroupSize = 32; // the protocol's R-precision groups
constexpr int kCropUnit = 4;   // crops as the protocol draws them for the T2M evaluator

void checkSplit(const EvalDataset &d, const char *what, std::size_t minimum)
{
    if (d.samples.size() < minimum)
        throw InputError(std::string("cross-evaluator training: the ") + what + " split has " +
                         std::to_string(d.samples.size()) + " motions, fewer than " +
                         std::to_string(minimum));
    for (const auto &s : d.samples)
        if (s.captions.empty() || !s.features.defined() || s.features.dim() != 2 ||
            s.features.size(1) != 263 || s.features.size(0) < kCropUnit)
            throw InputError(std::string("cross-evaluator training: ") + what + " motion '" +
                             s.name + "' needs (T>=4, 263) features and a caption");
}

nlohmann::json scoreJson(const CrossEvaluatorScore &s)
{
    return {{"R_precision_top_1", s.rPrecision[0]},
            {"R_precision_top_2", s.rPrecision[1]},
            {"R_precision_top_3", s.rPrecision[2]},
            {"Matching_score", s.matchingScore}};
}

} // namespace

CrossEvaluatorScore scoreCrossEvaluator(CrossEvaluatorImpl &model,
                                        const SentencePieceModel &tokenizer,
                                        const EvalDataset &dataset, int replications,
                                        std::uint64_t seed)
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    const auto n = static_cast<std::int64_t>(dataset.samples.size());
    CrossEvaluatorScore score;
    const int reps = std::max(1, replications);
    for (int rep = 0; rep < reps; ++rep) {
        MetricRng rng(seed + 7919ULL * static_cast<std::uint64_t>(rep));
        std::vector<std::vector<std::int64_t>> pieces;
        std::vector<at::Tensor> inputs;
        std::vector<std::int64_t> lengths;
        for (const auto &s : dataset.samples) {
            const auto crop = drawGroundTruthCrop(s, rng, kCropUnit, 196);
            pieces.push_back(crossCaptionPieces(tokenizer, s.captions[crop.caption].text,
                                                model.config().maxPieces));
            inputs.push_back(
                crossMotionInput(s.features.slice(0, crop.start, crop.start + crop.frames)));
            lengths.push_back(crop.frames);
        }
        const auto groups = makeGroups(n, kGroupSize, rng);
        std::vector<at::Tensor> text, motion;
        for (std::int64_t begin = 0; begin < n; begin += 64) {
            const auto end = std::min(n, begin + 64);
            const std::vector<std::vector<std::int64_t>> p(pieces.begin() + begin,
                                                           pieces.begin() + end);
            const auto [ids, idLengths] = crossPieceBatch(p);
            text.push_back(model.encodeText(ids, idLengths));
            const std::vector<at::Tensor> in(inputs.begin() + begin, inputs.begin() + end);
            const std::vector<std::int64_t> len(lengths.begin() + begin, lengths.begin() + end);
            motion.push_back(model.encodeMotion(crossMotionBatch(model, in, len),
                                                torch::tensor(len, torch::kLong)));
        }
        const auto result = matchingMetricsForGroups(torch::cat(text), torch::cat(motion), groups);
        for (int k = 0; k < 3; ++k)
            score.rPrecision[k] += result.rPrecision[k] / reps;
        score.matchingScore += result.matchingScore / reps;
    }
    model.train(wasTraining);
    return score;
}

CrossEvaluatorTrainReport trainCrossEvaluator(CrossEvaluatorImpl &model,
                                              const SentencePieceModel &tokenizer,
                                              const EvalDataset &train, const EvalDataset &test,
                                              const CrossEvaluatorTrainOptions &options,
                                              const ProgressFn &progress,
                                              const CrossEvaluatorEpochFn &onEpoch)
{
    if (options.batchSize < 2 || options.epochs < 0 || !(options.validationFraction > 0.0) ||
        options.validationFraction >= 0.5)
        throw InputError("cross-evaluator training: batch >= 2, epochs >= 0 and a validation "
                         "fraction in (0, 0.5) are needed");
    checkSplit(train, "training", 1);
    checkSplit(test, "test", kGroupSize);
    MetricRng rng(options.seed);
    torch::manual_seed(options.seed);

    // Its own split of the training motions.
    const auto n = static_cast<std::int64_t>(train.samples.size());
    const auto order = randomPermutation(n, rng);
    const auto held = static_cast<std::int64_t>(std::llround(options.validationFraction * n));
    EvalDataset fit, validation;
    for (std::int64_t k = 0; k < n; ++k)
        (k < held ? validation : fit).samples.push_back(train.samples[order[k]]);
    checkSplit(validation, "validation part of the training", kGroupSize);
    const auto nFit = static_cast<std::int64_t>(fit.samples.size());
    if (nFit < options.batchSize)
        throw InputError("cross-evaluator training: " + std::to_string(nFit) +
                         " motions to fit, fewer than one batch of " +
                         std::to_string(options.batchSize));

    // Input statistics of the fitting motions (each whole clip through recover_from_ric).
    {
        std::vector<at::Tensor> all;
        for (const auto &s : fit.samples)
            all.push_back(crossMotionInput(s.features));
        const auto frames = torch::cat(all).to(torch::kFloat64);
        torch::NoGradGuard noGrad;
        model.input_mean.copy_(frames.mean(0).to(torch::kFloat32));
        model.input_std.copy_(frames.std(0).clamp_min(1e-4).to(torch::kFloat32));
    }
    std::vector<std::vector<std::vector<std::int64_t>>> pieces;
    for (const auto &s : fit.samples) {
        pieces.emplace_back();
        for (const auto &c : s.captions)
            pieces.back().push_back(
                crossCaptionPieces(tokenizer, c.text, model.config().maxPieces));
    }

    CrossEvaluatorTrainReport report;
    report.fitMotions = nFit;
    report.validationMotions = held;
    report.initialTest =
        scoreCrossEvaluator(model, tokenizer, test, options.scoreReplications, options.seed);
    torch::optim::Adam optimizer(model.parameters(),
                                 torch::optim::AdamOptions(options.learningRate));
    const std::int64_t batches = nFit / options.batchSize;
    const std::int64_t totalSteps = batches * options.epochs;
    std::int64_t step = 0;
    double bestValidation = -1.0;
    std::map<std::string, at::Tensor> best;
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        model.train();
        const auto epochOrder = randomPermutation(nFit, rng);
        double lossSum = 0.0;
        for (std::int64_t b = 0; b < batches; ++b) {
            std::vector<std::vector<std::int64_t>> batchPieces;
            std::vector<at::Tensor> inputs;
            std::vector<std::int64_t> lengths;
            for (std::int64_t k = 0; k < options.batchSize; ++k) {
                const auto i = epochOrder[b * options.batchSize + k];
                const auto &s = fit.samples[i];
                const auto crop = drawGroundTruthCrop(s, rng, kCropUnit, options.maxMotionFrames);
                batchPieces.push_back(pieces[i][crop.caption]);
                inputs.push_back(
                    crossMotionInput(s.features.slice(0, crop.start, crop.start + crop.frames)));
                lengths.push_back(crop.frames);
            }
            const auto [ids, idLengths] = crossPieceBatch(batchPieces);
            const auto text = model.encodeText(ids, idLengths);
            const auto motion = model.encodeMotion(crossMotionBatch(model, inputs, lengths),
                                                   torch::tensor(lengths, torch::kLong));
            const auto loss = symmetricInfoNce(text, motion, model.temperatureScale());
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            lossSum += loss.item<double>();
            reportProgress(progress, ++step, totalSteps, "cross-evaluator");
        }
        CrossEvaluatorEpoch info;
        info.epoch = epoch;
        info.loss = batches > 0 ? lossSum / double(batches) : 0.0;
        info.temperature = 1.0 / model.temperatureScale().item<double>();
        info.validation = scoreCrossEvaluator(model, tokenizer, validation, 1, options.seed);
        if (info.validation.rPrecision[0] > bestValidation) {
            bestValidation = info.validation.rPrecision[0];
            report.bestEpoch = epoch;
            best.clear();
            for (const auto &[name, tensor] : crossEvaluatorStateDict(model))
                best[name] = tensor.detach().clone();
        }
        report.epochs.push_back(info);
        if (onEpoch)
            onEpoch(info);
    }
    if (!best.empty()) {
        torch::NoGradGuard noGrad;
        for (auto &[name, tensor] : crossEvaluatorStateDict(model))
            tensor.copy_(best.at(name));
    }
    model.eval();
    report.finalTest =
        scoreCrossEvaluator(model, tokenizer, test, options.scoreReplications, options.seed);
    return report;
}

CrossEvaluatorTrainReport trainCrossEvaluatorJob(const TrainCrossEvaluatorJob &job,
                                                 const ProgressFn &progress,
                                                 const CrossEvaluatorEpochFn &onEpoch)
{
    const SentencePieceModel tokenizer(job.tokenizerFile);
    const auto train = loadEvalSplit(job.datasetRoot, "train");
    const auto test = loadEvalSplit(job.datasetRoot, "test");
    CrossEvaluatorConfig config;
    config.vocabSize = tokenizer.size();
    config.dimEmbedding = job.dimEmbedding;
    config.dimText = job.dimHidden;
    config.dimMotion = job.dimHidden;
    torch::manual_seed(job.train.seed);
    CrossEvaluator model(config);
    const auto report =
        trainCrossEvaluator(*model, tokenizer, train, test, job.train, progress, onEpoch);

    nlohmann::json epochs = nlohmann::json::array();
    for (const auto &e : report.epochs)
        epochs.push_back({{"epoch", e.epoch},
                          {"loss", e.loss},
                          {"temperature", e.temperature},
                          {"validation", scoreJson(e.validation)}});
    const nlohmann::json summary = {{"dataset", job.datasetRoot.string()},
                                    {"fit_motions", report.fitMotions},
                                    {"validation_motions", report.validationMotions},
                                    {"test_motions", test.samples.size()},
                                    {"epochs", job.train.epochs},
                                    {"best_epoch", report.bestEpoch},
                                    {"batch_size", job.train.batchSize},
                                    {"learning_rate", job.train.learningRate},
                                    {"validation_fraction", job.train.validationFraction},
                                    {"seed", job.train.seed},
                                    {"test_before", scoreJson(report.initialTest)},
                                    {"test_after", scoreJson(report.finalTest)},
                                    {"history", epochs}};
    saveCrossEvaluator(job.outDir, *model, job.tokenizerFile, summary.dump());
    return report;
}

} // namespace mp
