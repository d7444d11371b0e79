#include "ml/eval/eval_jobs.h"

#include "ml/core/error.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/evaluator.h"

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace mp {
namespace {

nlohmann::json scoreJson(const EvaluatorScore &score)
{
    return {{"R_precision_top_1", score.rPrecision[0]},
            {"R_precision_top_2", score.rPrecision[1]},
            {"R_precision_top_3", score.rPrecision[2]},
            {"Matching_score", score.matchingScore}};
}

} // namespace

EvaluatorTrainReport trainEvaluatorJob(const TrainEvaluatorJob &job, const ProgressFn &progress,
                                       const EvaluatorEpochFn &onEpoch)
{
    if (job.size != "small" && job.size != "t2m")
        throw InputError("evaluator size must be small or t2m, got '" + job.size + "'");
    const auto train = loadEvalSplit(job.datasetRoot, "train");
    const auto test = loadEvalSplit(job.datasetRoot, "test");

    WordVocabulary vocabulary;
    const bool glove = !job.gloveText.empty();
    if (glove)
        vocabulary = WordVocabulary::fromGloveText(job.gloveText);
    else
        vocabulary = WordVocabulary::fromCaptions(taggedCaptions(train));
    auto config = job.size == "t2m" ? EvaluatorConfig::t2m(vocabulary.size())
                                    : EvaluatorConfig::small(vocabulary.size());
    config.packMotion = job.packMotion;
    config.learnedWordVectors = !glove;
    if (glove)
        config.dimWord = vocabulary.vectors().size(1);
    torch::manual_seed(job.train.seed);
    TextMotionEvaluator evaluator(config);
    if (glove)
        evaluator->setWordVectors(vocabulary.vectors());

    auto options = job.train;
    if (options.checkpointDir.empty())
        options.checkpointDir = job.outDir / "checkpoints";
    const auto report =
        trainEvaluator(*evaluator, vocabulary, train, test, options, progress, onEpoch);
    saveEvaluator(job.outDir, *evaluator, vocabulary, train.mean, train.std);

    nlohmann::json epochs = nlohmann::json::array();
    for (const auto &e : report.epochs) {
        nlohmann::json j = {{"stage", e.stage}, {"epoch", e.epoch}, {"loss", e.loss}};
        if (e.stage == "matching") {
            j["positive_loss"] = e.positiveLoss;
            j["negative_loss"] = e.negativeLoss;
        }
        if (e.scored)
            j["test"] = scoreJson(e.test);
        epochs.push_back(j);
    }
    const nlohmann::json summary = {{"dataset", job.datasetRoot.string()},
                                    {"train_motions", train.samples.size()},
                                    {"test_motions", test.samples.size()},
                                    {"vocabulary", vocabulary.size()},
                                    {"word_vectors", glove ? "glove" : "learned"},
                                    {"size", job.size},
                                    {"pack_motion", job.packMotion},
                                    {"movement_pretrain_epochs", options.movementPretrainEpochs},
                                    {"epochs", options.epochs},
                                    {"batch_size", options.batchSize},
                                    {"learning_rate", options.learningRate},
                                    {"margin", options.margin},
                                    {"seed", options.seed},
                                    {"test_before", scoreJson(report.initialTest)},
                                    {"test_after", scoreJson(report.finalTest)},
                                    {"history", epochs}};
    std::ofstream out(job.outDir / "evaluator_report.json", std::ios::trunc);
    out << summary.dump(2) << "\n";
    if (!out)
        throw InputError((job.outDir / "evaluator_report.json").string() + ": cannot write");
    return report;
}

} // namespace mp
