#include "ml/train/train_base.h"

#include "ml/core/error.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/normalizer.h"
#include "ml/data/safetensors.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

namespace mp {

namespace fs = std::filesystem;

std::vector<CorpusClip> readHumanMl3dSplit(const fs::path &root, const std::string &split)
{
    HumanMl3dOptions options;
    options.split = split;
    options.skipBad = true; // HumanML3D's split files list a few names without data
    const auto dataset = HumanMl3dDataset::open(root, options);
    std::vector<CorpusClip> clips;
    for (std::int64_t i = 0; i < dataset.size(); ++i) {
        const auto &record = dataset.record(i);
        CorpusClip clip{.id = record.name, .features = dataset.features(i), .captions = {}};
        for (const auto &caption : record.captions)
            clip.captions.push_back(caption.text);
        clips.push_back(std::move(clip));
    }
    if (clips.empty())
        throw InputError(root.string() + ": no usable clip in split '" + split + "'");
    return clips;
}

BundleConfig defaultBaseConfig()
{
    BundleConfig c;
    c.t5.dModel = 256;
    c.t5.dKv = 64;
    c.t5.dFf = 1024;
    c.t5.numLayers = 4;
    c.t5.numDecoderLayers = 4;
    c.t5.numHeads = 4;
    c.t5.feedForwardProj = "gated-gelu";
    c.t5.tieWordEmbeddings = false;
    c.t5.dropoutRate = 0.1;
    c.vqvae = {.inputDim = 263, .numCodes = 512, .codeDim = 256, .width = 256};
    c.tokens = {.textVocabSize = 1000, .numMotionCodes = 512};
    c.t5.vocabSize = c.tokens.vocabSize();
    c.description = "MotionPref Studio embedded default, trained by motionpref-cli train-base";
    return c;
}

BundleConfig tinyBaseConfig()
{
    auto c = defaultBaseConfig();
    c.t5.dModel = 64;
    c.t5.dKv = 16;
    c.t5.dFf = 128;
    c.t5.numLayers = 2;
    c.t5.numDecoderLayers = 2;
    c.vqvae = {.inputDim = 263, .numCodes = 128, .codeDim = 64, .width = 64};
    c.tokens.numMotionCodes = c.vqvae.numCodes;
    c.t5.vocabSize = c.tokens.vocabSize();
    c.description = "MotionPref Studio toy bundle (train-base --arch tiny), for tests only";
    return c;
}

fs::path trainBaseBundle(const TrainBaseOptions &options, const ProgressFn &progress,
                         const TrainLogFn &log)
{
    const auto &root = options.corpus;
    const auto checkpoints = options.out / "checkpoints";
    fs::create_directories(checkpoints);
    auto train = readHumanMl3dSplit(root, "train");
    std::vector<CorpusClip> val;
    if (fs::exists(root / "val.txt"))
        val = readHumanMl3dSplit(root, "val");

    // Normalisation: the corpus's Mean/Std if present, else fitted on the training split with
    // HumanML3D's grouped standard deviations.
    Normalizer normalizer;
    if (fs::exists(root / "Mean.npy") && fs::exists(root / "Std.npy")) {
        normalizer = Normalizer::loadDirectory(root);
    } else {
        std::vector<at::Tensor> all;
        for (const auto &c : train)
            all.push_back(c.features);
        normalizer = Normalizer::fit(torch::cat(all));
    }
    const auto mean = normalizer.mean().to(torch::kFloat);
    const auto std = normalizer.std().to(torch::kFloat);
    checkNormalization(mean, std, 263, "corpus Mean.npy/Std.npy");

    // 1. SentencePiece on the training captions.
    const auto spm = checkpoints / "spiece.model";
    if (!fs::exists(spm)) {
        std::vector<std::string> captions;
        for (const auto &c : train)
            captions.insert(captions.end(), c.captions.begin(), c.captions.end());
        trainSentencePiece(captions, spm, {.vocabSize = options.textVocabSize});
    }
    auto config = options.bundle;
    {
        Tokenizer probe(spm, {.textVocabSize = 1 << 30, .numMotionCodes = 1});
        config.tokens.textVocabSize = probe.numPieces();
    }
    config.tokens.numMotionCodes = config.vqvae.numCodes;
    config.t5.vocabSize = config.tokens.vocabSize();
    config.validate("train-base");
    const Tokenizer tokenizer(spm, config.tokens);

    auto normalised = [&](const std::vector<CorpusClip> &clips) {
        std::vector<at::Tensor> out;
        for (const auto &c : clips)
            out.push_back((c.features - mean) / std);
        return out;
    };
    const auto trainFeatures = normalised(train);
    const auto valFeatures = normalised(val);
    const auto totalSteps = options.vqvae.steps + options.t5.steps;

    // 2. VQ-VAE.
    VqVae vqvae(config.vqvae);
    VqVaeTrainer vqTrainer(vqvae, trainFeatures, options.vqvae);
    if (fs::exists(checkpoints / "vqvae_state.safetensors"))
        vqTrainer.loadCheckpoint(checkpoints);
    while (vqTrainer.stepsDone() < options.vqvae.steps) {
        const auto stats = vqTrainer.step();
        if (log && (stats.step % 50 == 0 || stats.step == options.vqvae.steps))
            log("vqvae", stats.step,
                {{"loss", stats.loss},
                 {"feature", stats.feature},
                 {"velocity", stats.velocity},
                 {"commit", stats.commit},
                 {"perplexity", stats.perplexity}});
        if (log && !valFeatures.empty() && stats.step % options.evaluateEvery == 0)
            log("vqvae_eval", stats.step, {{"val_l1", vqTrainer.evaluate(valFeatures)}});
        if (stats.step % options.checkpointEvery == 0 || stats.step == options.vqvae.steps)
            vqTrainer.saveCheckpoint(checkpoints);
        reportProgress(progress, stats.step, totalSteps, "vqvae");
    }

    // 3. Motion codes of every training clip, then T5 on caption -> codes.
    auto examplesOf = [&](const std::vector<CorpusClip> &clips,
                          const std::vector<at::Tensor> &features) {
        torch::NoGradGuard noGrad;
        vqvae->eval();
        std::vector<Seq2SeqExample> examples;
        const auto down = config.vqvae.downsampling();
        for (std::size_t i = 0; i < clips.size(); ++i) {
            const auto frames = features[i].size(0) / down * down;
            const auto codes = vqvae->encode(features[i].narrow(0, 0, frames).unsqueeze(0))[0];
            std::vector<std::int64_t> list(codes.data_ptr<std::int64_t>(),
                                           codes.data_ptr<std::int64_t>() + codes.numel());
            auto labels = tokenizer.encodeMotion(list);
            labels.push_back(tokenizer.eosId());
            for (const auto &caption : clips[i].captions)
                examples.push_back({tokenizer.encodeText(caption, config.maxPromptTokens), labels});
        }
        return examples;
    };
    auto trainExamples = examplesOf(train, trainFeatures);
    const auto valExamples = examplesOf(val, valFeatures);
    T5Model t5(config.t5);
    T5Trainer t5Trainer(t5, std::move(trainExamples), options.t5);
    if (fs::exists(checkpoints / "t5_state.safetensors"))
        t5Trainer.loadCheckpoint(checkpoints);
    while (t5Trainer.stepsDone() < options.t5.steps) {
        const auto stats = t5Trainer.step();
        if (log && (stats.step % 50 == 0 || stats.step == options.t5.steps))
            log("t5", stats.step, {{"loss", stats.loss}, {"accuracy", stats.accuracy}});
        if (log && !valExamples.empty() && stats.step % options.evaluateEvery == 0) {
            const auto eval = t5Trainer.evaluate(valExamples);
            log("t5_eval", stats.step, {{"val_loss", eval.loss}, {"val_accuracy", eval.accuracy}});
        }
        if (stats.step % options.checkpointEvery == 0 || stats.step == options.t5.steps)
            t5Trainer.saveCheckpoint(checkpoints);
        reportProgress(progress, options.vqvae.steps + stats.step, totalSteps, "t5");
    }

    // 4. The bundle.
    t5->eval();
    vqvae->eval();
    ModelBundle bundle(config, t5, vqvae, spm, mean, std);
    bundle.save(options.out);
    return options.out;
}

} // namespace mp
