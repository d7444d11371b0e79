// motionpref-cli eval ...: the HumanML3D evaluation. The work is in ml/eval (eval_jobs); this file
// maps flags to options and prints.

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/eval/bundle_eval.h"
#include "ml/eval/eval_jobs.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/train/preference_accuracy.h"

#include <cstdio>
#include <iostream>

namespace mp::cli {
namespace {

int positiveInt(const ParsedArgs &args, const std::string &name, long long lowest = 1)
{
    const long long value = args.intValue(name);
    if (value < lowest || value > 1000000)
        throw InputError("--" + name + " must be at least " + std::to_string(lowest) + ", got " +
                         std::to_string(value));
    return static_cast<int>(value);
}

int runTrainEvaluator(const ParsedArgs &args, const Context &context)
{
    TrainEvaluatorJob job;
    job.datasetRoot = args.required("dataset");
    job.outDir = args.required("out");
    if (const auto glove = args.optional("glove"))
        job.gloveText = *glove;
    job.size = args.value("size");
    job.packMotion = !args.flag("unpacked");
    job.train.epochs = positiveInt(args, "epochs", 0);
    job.train.movementPretrainEpochs = positiveInt(args, "pretrain-epochs", 0);
    job.train.batchSize = positiveInt(args, "batch", 2);
    job.train.learningRate = args.doubleValue("lr");
    if (!(job.train.learningRate > 0))
        throw InputError("--lr must be positive");
    job.train.seed = static_cast<std::uint64_t>(args.intValue("seed"));
    job.train.evaluateEvery = positiveInt(args, "score-every", 0);
    job.train.device = context.device;

    const auto report =
        trainEvaluatorJob(job, makeProgressBar(context, "evaluator"), [&](const EvaluatorEpoch &e) {
            if (context.quiet)
                return;
            std::fprintf(stderr, "\r%-10s epoch %3d  loss %.4f", e.stage.c_str(), e.epoch, e.loss);
            if (e.scored)
                std::fprintf(stderr, "  test R@1 %.3f R@2 %.3f R@3 %.3f MM-Dist %.3f",
                             e.test.rPrecision[0], e.test.rPrecision[1], e.test.rPrecision[2],
                             e.test.matchingScore);
            std::fprintf(stderr, "\n");
        });
    std::printf("ground truth on the test split: R@1 %.3f | R@2 %.3f | R@3 %.3f | MM-Dist %.3f "
                "(untrained: R@3 %.3f)\n",
                report.finalTest.rPrecision[0], report.finalTest.rPrecision[1],
                report.finalTest.rPrecision[2], report.finalTest.matchingScore,
                report.initialTest.rPrecision[2]);
    std::printf("evaluator written to %s\n", job.outDir.string().c_str());
    return 0;
}

GroupingMode parseGrouping(const std::string &text)
{
    if (text == "guo")
        return GroupingMode::GuoBatches;
    if (text == "motiongpt")
        return GroupingMode::MotionGptChunks;
    throw InputError("--grouping must be guo or motiongpt, got '" + text + "'");
}

int runEval(const ParsedArgs &args, const Context &context)
{
    BundleEvaluationJob job;
    job.modelDir =
        args.has("model") ? std::filesystem::path(args.value("model")) : requireDefaultModelDir();
    if (const auto adapter = args.optional("adapter"))
        job.adapterDir = *adapter;
    // --pairs alone scores the held-out pairs without the HumanML3D metrics (seconds, not
    // minutes).
    const bool motionMetrics = args.has("dataset") || !args.has("pairs");
    if (motionMetrics)
        job.datasetRoot = args.required("dataset");
    else if (args.has("out"))
        throw InputError("--out needs --dataset (metrics.json holds the HumanML3D metrics)");
    job.split = args.value("split");
    if (const auto evaluator = args.optional("evaluator"))
        job.evaluatorDir = *evaluator;
    if (const auto crossCheck = args.optional("cross-check"))
        job.crossCheckDir = *crossCheck;
    if (motionMetrics)
        job.outJson = args.required("out");
    job.device = context.device;
    auto &o = job.options;
    o.replications = positiveInt(args, "replications");
    o.temperature = args.doubleValue("temperature");
    o.seed = static_cast<std::uint64_t>(args.intValue("seed"));
    o.grouping = parseGrouping(args.value("grouping"));
    o.mmReplications = static_cast<int>(args.intValue("mm-replications"));
    o.mmNumTexts = positiveInt(args, "mm-texts", 0);
    job.generationBatchRows = positiveInt(args, "gen-batch");
    job.generationThreads = positiveInt(args, "gen-threads", 0);
    job.int8Weights = args.flag("int8");

    // The learned-preference metric: how often the model (or a reward model) ranks the chosen
    // motion of a held-out pair first.
    PairScores pairScores;
    MetricMap preference;
    if (const auto pairsFile = args.optional("pairs")) {
        const auto pairs = readPreferencePairs(*pairsFile);
        if (const auto rewardModel = args.optional("reward-model")) {
            pairScores = scorePairsWithRewardModel(job.modelDir, *rewardModel, pairs);
        } else {
            ModelBundle bundle(job.modelDir, job.device);
            if (!job.adapterDir.empty())
                loadLoraAdapter(*bundle.t5(), job.adapterDir);
            pairScores = scorePairsWithPolicy(bundle, pairs);
        }
        preference = preferenceAccuracyByDegree(pairScores, pairs);
        o.preferencePairs = static_cast<std::int64_t>(pairs.size());
        o.preferenceScore = [&pairScores](std::int64_t i) {
            return pairScores.scores[static_cast<std::size_t>(i)];
        };
    } else if (args.has("reward-model")) {
        throw InputError("--reward-model needs --pairs (the held-out preference pairs)");
    }
    const auto printPreference = [&] {
        if (preference.empty())
            return;
        std::printf("preference accuracy (%s, %zu pairs):", pairScores.scorer.c_str(),
                    pairScores.scores.size());
        for (const auto &[key, value] : preference)
            std::printf(" %s %.3f", key.c_str(), value);
        std::printf("\n");
    };
    if (!motionMetrics) {
        printPreference();
        return 0;
    }
    const auto result = evaluateBundleJob(job, makeProgressBar(context, "eval"));
    std::printf("%s\n", paperTableRow(result).c_str());
    printPreference();
    if (result.metrics.count("gt_R_precision_top_1"))
        std::printf("ground truth: %s\n", paperTableRow(result, true).c_str());
    if (result.metrics.count("x_R_precision_top_1"))
        std::printf("cross-check: %s\n", crossCheckTableRow(result).c_str());
    if (result.metrics.count("gt_x_R_precision_top_1"))
        std::printf("cross-check ground truth: %s\n", crossCheckTableRow(result, true).c_str());
    std::printf("metrics written to %s\n", job.outJson.string().c_str());
    return 0;
}

const CommandRegistration evalCommand{{
    .path = "eval",
    .summary = "HumanML3D metrics of a model (R-precision, FID, MM-Dist, Diversity, MModality)",
    .usage = "",
    .description =
        "Runs the T2M evaluation protocol (Guo et al. 2022) on DIR/<split>.txt: per replication\n"
        "re-sampled captions, crops and groups of 32; mean and 1.96 std/sqrt(N) over the\n"
        "replications. Prints the paper's table row; --out gets every metric's mean,\n"
        "conf_interval and per-replication values (keys as MotionGPT's metrics.json).",
    .options = {{"model", "BUNDLE", "model bundle directory", "the embedded default"},
                {"adapter", "DIR", "LoRA adapter (PEFT layout)", ""},
                {"pairs", "FILE",
                 "held-out preference pairs (study split's test.jsonl): "
                 "preference accuracy",
                 ""},
                {"reward-model", "DIR", "score --pairs with this reward model instead", ""},
                {"dataset", "DIR", "HumanML3D-layout dataset (not needed for --pairs alone)", ""},
                {"split", "NAME", "split file to evaluate", "test"},
                {"evaluator", "DIR", "evaluator directory (default: BUNDLE/evaluator)", ""},
                {"cross-check", "DIR|default",
                 "also x_* metrics from a cross evaluator (eval train-cross-evaluator; "
                 "default: the embedded default's)",
                 ""},
                {"replications", "N", "independent replications", "20"},
                {"temperature", "T", "sampling temperature (<= 0: greedy)", "1.0"},
                {"seed", "S", "random seed", "1234"},
                {"grouping", "guo|motiongpt", "R-precision grouping and FID sample set", "guo"},
                {"mm-texts", "N", "MultiModality texts (0: skip)", "100"},
                {"mm-replications", "N", "replications that compute MultiModality (-1: all)", "-1"},
                {"gen-batch", "N", "captions sampled per batch (1: one at a time)", "64"},
                {"gen-threads", "N",
                 "batches sampled at once, one core each (0: the intra-op thread count)", "0"},
                {"int8", "",
                 "sample with int8 weights in the decoding steps (weight-only, one scale per "
                 "row; CPU)",
                 ""},
                {"out", "FILE", "metrics.json to write", ""}},
    .usesTorch = true,
    .run = runEval,
}};

const CommandRegistration trainEvaluatorCommand{{
    .path = "eval train-evaluator",
    .summary = "train the text/motion evaluator (Guo et al.) on a HumanML3D-layout dataset",
    .usage = "",
    .description =
        "Trains the T2M evaluator networks contrastively on DIR/train.txt and reports the\n"
        "ground-truth R-precision on DIR/test.txt. Word vectors are learned from the training\n"
        "captions unless --glove gives a text file of 'word v1 ... vD' lines (convert T2M's\n"
        "our_vab_data.npy/our_vab_words.pkl to that once). Writes evaluator_config.json,\n"
        "evaluator_vocab.txt, evaluator.safetensors and evaluator_report.json into --out.",
    .options = {{"dataset", "DIR", "HumanML3D-layout dataset (train.txt, test.txt, Mean/Std)", ""},
                {"out", "DIR", "evaluator directory to write", ""},
                {"glove", "FILE", "word vectors as text (default: learned)", ""},
                {"size", "small|t2m", "network size", "small"},
                {"unpacked", "", "MotionGPT's unpacked motion GRU (default: packed, as Guo)", ""},
                {"epochs", "N", "text-motion matching epochs", "30"},
                {"pretrain-epochs", "N", "movement encoder pretraining epochs (0: joint)", "5"},
                {"batch", "N", "batch size", "32"},
                {"lr", "X", "Adam learning rate", "1e-4"},
                {"seed", "S", "random seed", "3407"},
                {"score-every", "N", "score the test split every N epochs (0: at the end)", "0"}},
    .usesTorch = true,
    .run = runTrainEvaluator,
}};

} // namespace
} // namespace mp::cli
