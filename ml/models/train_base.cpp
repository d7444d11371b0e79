#include "ml/models/train_base.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/data/safetensors.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

namespace mp {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> readLines(const fs::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": missing");
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (!line.empty())
            lines.push_back(line);
    }
    return lines;
}

std::vector<std::string> splitHash(const std::string &line)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto pos = line.find('#', start);
        parts.push_back(line.substr(start, pos - start));
        if (pos == std::string::npos)
            return parts;
        start = pos + 1;
    }
}

} // namespace

std::vector<CorpusClip> readHumanMl3dSplit(const fs::path &root, const std::string &split,
                                           double fps, std::int64_t minFrames,
                                           std::int64_t maxFrames)
{
    std::vector<CorpusClip> clips;
    for (const auto &id : readLines(root / (split + ".txt"))) {
        const auto featuresPath = root / "new_joint_vecs" / (id + ".npy");
        const auto textPath = root / "texts" / (id + ".txt");
        if (!fs::exists(featuresPath) || !fs::exists(textPath))
            continue; // HumanML3D's split files list a few ids without data
        const auto features = npy::read(featuresPath).to(torch::kFloat);
        if (features.dim() != 2 || features.size(1) != 263)
            throw InputError(featuresPath.filename().string() + ": expected shape (T,263), got " +
                             shapeString(features));
        CorpusClip whole{.id = id, .features = features, .captions = {}};
        for (const auto &line : readLines(textPath)) {
            const auto parts = splitHash(line);
            if (parts.empty() || parts[0].empty())
                continue;
            double from = 0.0;
            double to = 0.0;
            if (parts.size() >= 4) {
                try {
                    from = std::stod(parts[2]);
                    to = std::stod(parts[3]);
                } catch (const std::exception &) {
                    throw InputError(textPath.filename().string() + ": bad time tags in '" + line +
                                     "'");
                }
            }
            if (from == 0.0 && to == 0.0) {
                whole.captions.push_back(parts[0]);
                continue;
            }
            // A caption of a span: its own clip.
            const auto begin = static_cast<std::int64_t>(from * fps);
            const auto end =
                std::min<std::int64_t>(features.size(0), static_cast<std::int64_t>(to * fps));
            if (end - begin < minFrames)
                continue;
            clips.push_back(
                {.id = id + "#" + std::to_string(begin),
                 .features = features.narrow(0, begin, std::min(end - begin, maxFrames)),
                 .captions = {parts[0]}});
        }
        if (whole.captions.empty() || features.size(0) < minFrames)
            continue;
        whole.features = features.narrow(0, 0, std::min(features.size(0), maxFrames));
        clips.push_back(std::move(whole));
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

    // Normalisation: the corpus's Mean/Std if present, else computed on the training split.
    at::Tensor mean;
    at::Tensor std;
    if (fs::exists(root / "Mean.npy") && fs::exists(root / "Std.npy")) {
        mean = npy::read(root / "Mean.npy").to(torch::kFloat);
        std = npy::read(root / "Std.npy").to(torch::kFloat);
    } else {
        std::vector<at::Tensor> all;
        for (const auto &c : train)
            all.push_back(c.features);
        const auto cat = torch::cat(all);
        mean = cat.mean(0);
        std = cat.std(0).clamp_min(1e-4);
    }
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
