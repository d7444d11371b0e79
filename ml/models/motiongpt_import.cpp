#include "ml/models/motiongpt_import.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/data/safetensors.h"
#include "ml/data/torch_checkpoint.h"
#include "ml/models/bundle.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

namespace mp {

namespace fs = std::filesystem;

namespace {

const std::string kVaePrefix = "vae.";
const std::string kLmPrefix = "lm.language_model.";
// MotionGPT's tokenizer adds <motion_id_0..514> after flan-t5's 32100 ids: 512 codes + SOM, EOM,
// mask.
constexpr std::int64_t kExtraMotionTokens = 3;
// Skipped objects named in the one-line report; the rest are counted.
constexpr std::size_t kMaxSkippedNamed = 6;
// The encoder input of MotionGPT's text-to-motion path (data, with where it comes from; the test
// holds it against the string MotionGPT's own code builds, tests/reference/motiongpt.py).
const char *const kPromptTemplate = "Generate motion: <Caption_Placeholder>";
const char *const kPromptPlaceholder = "<Caption_Placeholder>";
const char *const kPromptSource =
    "OpenMotionLab/MotionGPT mGPT/archs/mgpt_lm.py MLM.generate_conditional(task='t2m'), the "
    "prompt of its text-to-motion evaluation; training drew from "
    "prepare/instructions/template_instructions.json 'Text-to-Motion'. MotionGPT wraps the "
    "caption in double quotes half the time (quota_ratio 0.5); this bundle never does";

// Everything of a torch.save checkpoint but its state_dict, in one line.
std::string notUsedLine(const TorchCheckpoint &checkpoint, const std::string &read)
{
    std::string line;
    if (checkpoint.root().is(PickleValue::Kind::Dict))
        for (const auto &[key, value] : checkpoint.root().toDict())
            if (key.is(PickleValue::Kind::String) && key.toString() != read)
                line += (line.empty() ? "" : ", ") + key.toString();
    line = line.empty() ? "" : "not used: " + line;
    const auto &skipped = checkpoint.skipped();
    std::string objects;
    for (std::size_t i = 0; i < skipped.size() && i < kMaxSkippedNamed; ++i)
        objects += (objects.empty() ? "" : ", ") + skipped[i].path + " (" + skipped[i].what + ")";
    if (skipped.size() > kMaxSkippedNamed)
        objects += " and " + std::to_string(skipped.size() - kMaxSkippedNamed) + " more";
    if (!objects.empty())
        line += (line.empty() ? "" : "; ") + std::string("objects not built: ") + objects;
    return line;
}

TensorMap readCheckpoint(const fs::path &path, std::string &notUsed)
{
    if (!fs::is_regular_file(path))
        throw InputError(path.string() + ": missing");
    if (path.extension() == ".safetensors")
        return readSafetensors(path);
    const auto checkpoint = readTorchCheckpoint(path);
    // A Lightning checkpoint keeps the weights under 'state_dict'; a bare state_dict is the root.
    const bool lightning = checkpoint.root().find("state_dict") != nullptr;
    const auto tensors = checkpoint.tensors(lightning ? "state_dict" : "");
    notUsed = notUsedLine(checkpoint, lightning ? "state_dict" : "");
    return tensors;
}

// How many consecutive keys prefix + i + suffix exist, from i = first.
std::int64_t countKeys(const TensorMap &tensors, const std::string &prefix, std::int64_t first,
                       const std::string &suffix)
{
    std::int64_t n = 0;
    while (tensors.count(prefix + std::to_string(first + n) + suffix))
        ++n;
    return n;
}

const at::Tensor &require(const TensorMap &tensors, const std::string &key, const std::string &file)
{
    const auto it = tensors.find(key);
    if (it == tensors.end())
        throw InputError(file + ": no tensor '" + key +
                         "' (not a MotionGPT checkpoint: it needs vae.* and lm.language_model.*)");
    return it->second;
}

at::Tensor readMeta(const fs::path &directory, const char *name)
{
    const auto path = directory / name;
    if (!fs::is_regular_file(path))
        throw InputError(path.string() + ": missing (MotionGPT's assets/meta/" + name + ")");
    return npy::read(path).to(torch::kFloat).reshape({-1});
}

} // namespace

MotionGptImportResult importMotionGpt(const MotionGptImportOptions &options,
                                      const ProgressFn &progress)
{
    const auto file = options.checkpoint.filename().string();
    for (const char *name : {"config.json", "spiece.model"})
        if (!fs::is_regular_file(options.t5Directory / name))
            throw InputError((options.t5Directory / name).string() +
                             ": missing (the flan-t5-base directory MotionGPT starts from)");
    reportProgress(progress, 0, 4, "reading the checkpoint");
    MotionGptImportResult result;
    const auto tensors = readCheckpoint(options.checkpoint, result.notUsed);

    // Architecture from the weights themselves, so a resized vocabulary or another VQ-VAE width
    // needs no flag.
    BundleConfig config;
    config.description = "MotionGPT (" + file + ") imported by motionpref-cli import motiongpt";
    config.t5 = T5Config::load(options.t5Directory / "config.json");
    const auto &shared = require(tensors, kLmPrefix + "shared.weight", file);
    const auto &codebook = require(tensors, kVaePrefix + "quantizer.codebook", file);
    const auto &firstConv = require(tensors, kVaePrefix + "encoder.model.0.weight", file);
    if (shared.dim() != 2 || codebook.dim() != 2 || firstConv.dim() != 3)
        throw InputError(file + ": unexpected shapes of shared.weight, the codebook or the first "
                                "encoder convolution");
    config.t5.vocabSize = shared.size(0);
    if (shared.size(1) != config.t5.dModel)
        throw InputError(file + ": shared.weight has width " + std::to_string(shared.size(1)) +
                         " but config.json says d_model " + std::to_string(config.t5.dModel));
    config.vqvae.numCodes = codebook.size(0);
    config.vqvae.codeDim = codebook.size(1);
    config.vqvae.width = firstConv.size(0);
    config.vqvae.inputDim = firstConv.size(1);
    // encoder.model: conv, ReLU, downT x [strided conv (kernel 2 x stride), Resnet1D], conv.
    const auto encoder = kVaePrefix + "encoder.model.";
    config.vqvae.downT = countKeys(tensors, encoder, 2, ".0.weight");
    if (config.vqvae.downT > 0) {
        config.vqvae.strideT = require(tensors, encoder + "2.0.weight", file).size(2) / 2;
        config.vqvae.depth = countKeys(tensors, encoder + "2.1.model.", 0, ".conv1.weight");
    }
    config.promptTemplate = kPromptTemplate;
    config.promptPlaceholder = kPromptPlaceholder;
    config.promptSource = kPromptSource;
    config.tokens.numMotionCodes = config.vqvae.numCodes;
    config.tokens.textVocabSize = config.t5.vocabSize - config.vqvae.numCodes - kExtraMotionTokens;
    config.t5.dropoutRate = 0.0;
    config.maxPromptTokens = 256; // MotionGPT pads/truncates the encoder input to 256
    config.validate(file);

    reportProgress(progress, 1, 4, "T5");
    T5Model t5(config.t5);
    t5->untieForCheckpoint(tensors, kLmPrefix);
    config.t5 = t5->config();
    LoadStateOptions lm;
    lm.prefix = kLmPrefix;
    lm.ignored = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"};
    if (config.t5.tieWordEmbeddings)
        lm.ignored.push_back("lm_head.weight");
    loadStateDict(*t5, tensors, file, lm);

    reportProgress(progress, 2, 4, "VQ-VAE");
    VqVae vqvae(config.vqvae);
    LoadStateOptions vae;
    vae.prefix = kVaePrefix;
    vae.ignored = {"quantizer.code_sum", "quantizer.code_count"}; // EMA state, if saved
    loadStateDict(*vqvae, tensors, file, vae);
    vqvae->quantizer->setCodebook(vqvae->quantizer->codebook.clone());

    const auto mean = readMeta(options.metaDirectory, "mean.npy");
    const auto std = readMeta(options.metaDirectory, "std.npy");
    checkNormalization(mean, std, config.vqvae.inputDim,
                       (options.metaDirectory / "mean.npy").string() + " and std.npy");

    reportProgress(progress, 3, 4, "writing the bundle");
    t5->eval();
    vqvae->eval();
    ModelBundle bundle(config, t5, vqvae, options.t5Directory / "spiece.model", mean, std);
    bundle.save(options.out);
    reportProgress(progress, 4, 4, "done");
    result.bundle = options.out;
    return result;
}

} // namespace mp
