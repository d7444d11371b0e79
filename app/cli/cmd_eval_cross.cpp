// motionpref-cli eval train-cross-evaluator: the cross-check evaluator (joint positions, InfoNCE).
// The work is trainCrossEvaluatorJob (ml/eval/cross_evaluator_trainer).

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/eval/cross_evaluator_trainer.h"

#include <cstdio>

namespace mp::cli {
namespace {

int boundedInt(const ParsedArgs &args, const std::string &name, long long lowest, long long highest)
{
    const long long value = args.intValue(name);
    if (value < lowest || value > highest)
        throw InputError("--" + name + " must be in [" + std::to_string(lowest) + ", " +
                         std::to_string(highest) + "], got " + std::to_string(value));
    return static_cast<int>(value);
}

int runTrainCrossEvaluator(const ParsedArgs &args, const Context &context)
{
    TrainCrossEvaluatorJob job;
    job.datasetRoot = args.required("dataset");
    job.outDir = args.required("out");
    job.tokenizerFile = args.has("tokenizer") ? std::filesystem::path(args.value("tokenizer"))
                                              : requireDefaultModelDir() / "spiece.model";
    job.dimEmbedding = boundedInt(args, "dim", 2, 4096);
    job.dimHidden = boundedInt(args, "hidden", 2, 4096);
    job.train.epochs = boundedInt(args, "epochs", 0, 100000);
    job.train.batchSize = boundedInt(args, "batch", 2, 4096);
    job.train.learningRate = args.doubleValue("lr");
    if (!(job.train.learningRate > 0))
        throw InputError("--lr must be positive");
    job.train.validationFraction = args.doubleValue("validation");
    job.train.seed = static_cast<std::uint64_t>(args.intValue("seed"));

    const auto report = trainCrossEvaluatorJob(
        job, makeProgressBar(context, "cross-evaluator"), [&](const CrossEvaluatorEpoch &e) {
            if (!context.quiet)
                std::fprintf(stderr,
                             "\repoch %3d  loss %.4f  temperature %.4f  validation R@1 %.3f "
                             "R@3 %.3f\n",
                             e.epoch, e.loss, e.temperature, e.validation.rPrecision[0],
                             e.validation.rPrecision[2]);
        });
    std::printf("ground truth on the test split: R@1 %.3f | R@2 %.3f | R@3 %.3f | matching %.3f "
                "(untrained: R@1 %.3f R@3 %.3f; epoch %d kept)\n",
                report.finalTest.rPrecision[0], report.finalTest.rPrecision[1],
                report.finalTest.rPrecision[2], report.finalTest.matchingScore,
                report.initialTest.rPrecision[0], report.initialTest.rPrecision[2],
                report.bestEpoch);
    std::printf("cross-evaluator written to %s\n", job.outDir.string().c_str());
    return 0;
}

const CommandRegistration trainCrossEvaluatorCommand{{
    .path = "eval train-cross-evaluator",
    .summary = "train the cross-check evaluator (joint positions, InfoNCE) on a dataset",
    .usage = "",
    .description =
        "Trains a second text/motion evaluator built unlike the T2M one: joint positions from\n"
        "recover_from_ric (root-relative, with velocities) through 1-D convolutions and a GRU,\n"
        "captions as SentencePiece pieces through a GRU, symmetric InfoNCE with a learned\n"
        "temperature. It fits on its own seeded part of DIR/train.txt, keeps the epoch with the\n"
        "best R@1 on the rest, and reports the ground-truth R-precision on DIR/test.txt. Writes\n"
        "cross_evaluator.json, cross_evaluator.safetensors and spiece.model into --out; `eval\n"
        "--cross-check DIR` and a sweep's \"cross_check\" report its x_* metrics.",
    .options = {{"dataset", "DIR", "HumanML3D-layout dataset (train.txt, test.txt)", ""},
                {"out", "DIR", "cross-evaluator directory to write", ""},
                {"tokenizer", "FILE", "SentencePiece model", "the default bundle's spiece.model"},
                {"dim", "N", "embedding width", "96"},
                {"hidden", "N", "GRU and convolution width", "128"},
                {"epochs", "N", "training epochs", "12"},
                {"batch", "N", "batch size (InfoNCE negatives: batch - 1)", "64"},
                {"lr", "X", "Adam learning rate", "1e-3"},
                {"validation", "F", "share of train.txt held out to pick the epoch", "0.1"},
                {"seed", "S", "random seed", "777"}},
    .usesTorch = true,
    .run = runTrainCrossEvaluator,
}};

} // namespace
} // namespace mp::cli
