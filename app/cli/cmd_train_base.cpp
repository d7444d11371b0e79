// motionpref-cli train-base: trains the embedded default bundle (SentencePiece, VQ-VAE, T5) from
// a HumanML3D-layout corpus, resumably.

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/train/train_base.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace mp::cli {
namespace {

int runTrainBase(const ParsedArgs &args, const Context &context)
{
    TrainBaseOptions options;
    options.corpus = args.required("corpus");
    options.out = args.required("out");
    const auto arch = args.value("arch");
    if (arch != "default" && arch != "tiny")
        throw InputError("--arch must be 'default' or 'tiny', got '" + arch + "'");
    options.bundle = arch == "tiny" ? tinyBaseConfig() : defaultBaseConfig();
    options.textVocabSize = args.intValue("text-vocab");
    options.vqvae.steps = args.intValue("vqvae-steps");
    options.vqvae.batchSize = args.intValue("vqvae-batch");
    options.t5.steps = args.intValue("t5-steps");
    options.t5.batchSize = args.intValue("t5-batch");
    options.t5.warmupSteps = args.intValue("t5-warmup");
    options.t5.learningRate = args.doubleValue("t5-lr");
    if (options.t5.warmupSteps < 0 || !(options.t5.learningRate > 0.0))
        throw InputError("--t5-warmup must be >= 0 and --t5-lr positive");
    options.vqvae.seed = options.t5.seed = static_cast<std::uint64_t>(args.intValue("seed"));
    torch::manual_seed(args.intValue("seed"));
    if (options.vqvae.steps < 1 || options.t5.steps < 1)
        throw InputError("--vqvae-steps and --t5-steps must be positive");

    // One JSON object per logged step, next to the bundle, for charts and the record.
    std::filesystem::create_directories(options.out);
    std::ofstream events(options.out / "train_events.jsonl", std::ios::app);
    const auto log = [&](const std::string &stage, std::int64_t step,
                         const std::vector<std::pair<std::string, double>> &values) {
        nlohmann::json line = {{"stage", stage}, {"step", step}};
        for (const auto &[key, value] : values)
            line[key] = value;
        events << line.dump() << "\n" << std::flush;
        if (context.quiet)
            return;
        std::cerr << "\r" << stage << " " << step;
        for (const auto &[key, value] : values)
            std::cerr << " " << key << " " << value;
        std::cerr << "\n";
    };
    options.bundle.vqvae.inputDim = 263;
    const auto out = trainBaseBundle(options, makeProgressBar(context, "train-base"), log);
    std::cout << out.string() << "\n";
    return 0;
}

const CommandRegistration trainBaseCommand{{
    .path = "train-base",
    .summary = "train the base model bundle (tokenizer, VQ-VAE, T5) from a corpus",
    .description = "Reads a HumanML3D-layout corpus (train/val splits, new_joint_vecs, texts,\n"
                   "Mean/Std), trains SentencePiece, the VQ-VAE and the T5 in turn with\n"
                   "checkpoints in OUT/checkpoints (a rerun resumes), and writes the bundle.",
    .options = {{"corpus", "DIR", "HumanML3D-layout corpus directory", ""},
                {"out", "BUNDLE", "output bundle directory", ""},
                {"arch", "default|tiny", "architecture (tiny: a toy bundle for tests)", "default"},
                {"text-vocab", "N", "SentencePiece vocabulary size", "1000"},
                {"vqvae-steps", "N", "VQ-VAE training steps", "3000"},
                {"vqvae-batch", "N", "VQ-VAE batch (windows of 64 frames)", "32"},
                {"t5-steps", "N", "T5 training steps", "4000"},
                {"t5-batch", "N", "T5 batch", "32"},
                {"t5-lr", "LR", "T5 peak learning rate (AdamW)", "0.0005"},
                {"t5-warmup", "N", "T5 linear warm-up steps", "200"},
                {"seed", "N", "random seed", "1234"}},
    .run = runTrainBase,
}};

} // namespace
} // namespace mp::cli
