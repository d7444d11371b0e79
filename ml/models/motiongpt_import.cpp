#include "ml/models/motiongpt_import.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/data/safetensors.h"
#include "ml/models/bundle.h"
#include "ml/models/state_dict.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <fstream>
#include <iterator>

namespace mp {

namespace fs = std::filesystem;

namespace {

const std::string kVaePrefix = "vae.";
const std::string kLmPrefix = "lm.language_model.";
// MotionGPT's tokenizer adds <motion_id_0..514> after flan-t5's 32100 ids: 512 codes + SOM, EOM,
// mask.
constexpr std::int64_t kExtraMotionTokens = 3;

// Collects name -> tensor from a dict IValue, descending into 'state_dict' when present.
void collectTensors(const c10::IValue &value, TensorMap &out, const std::string &source)
{
    if (!value.isGenericDict())
        throw InputError(source + ": expected a dict of tensors (a state_dict)");
    const auto dict = value.toGenericDict();
    for (const auto &item : dict) {
        if (!item.key().isString())
            continue;
        const auto key = item.key().toStringRef();
        if (key == "state_dict") {
            out.clear();
            collectTensors(item.value(), out, source + " (state_dict)");
            return;
        }
        if (item.value().isTensor())
            out[key] = item.value().toTensor();
    }
}

TensorMap readCheckpoint(const fs::path &path)
{
    const auto name = path.filename().string();
    if (!fs::is_regular_file(path))
        throw InputError(path.string() + ": missing");
    if (path.extension() == ".safetensors")
        return readSafetensors(path);
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    c10::IValue value;
    try {
        value = torch::pickle_load(bytes);
    } catch (const std::exception &e) {
        std::string what = e.what();
        what = what.substr(0, what.find('\n'));
        throw InputError(name + ": cannot read this PyTorch file in C++ (" + what +
                         "); convert it once in Python: sd = torch.load(f, map_location='cpu')"
                         "['state_dict']; safetensors.torch.save_file({k: v.contiguous() for k, "
                         "v in sd.items()}, 'motiongpt.safetensors'), then import that");
    }
    TensorMap tensors;
    collectTensors(value, tensors, name);
    return tensors;
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

fs::path importMotionGpt(const MotionGptImportOptions &options, const ProgressFn &progress)
{
    const auto file = options.checkpoint.filename().string();
    for (const char *name : {"config.json", "spiece.model"})
        if (!fs::is_regular_file(options.t5Directory / name))
            throw InputError((options.t5Directory / name).string() +
                             ": missing (the flan-t5-base directory MotionGPT starts from)");
    reportProgress(progress, 0, 4, "reading the checkpoint");
    const auto tensors = readCheckpoint(options.checkpoint);

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
    checkNormalization(mean, std, config.vqvae.inputDim, options.metaDirectory.string());

    reportProgress(progress, 3, 4, "writing the bundle");
    t5->eval();
    vqvae->eval();
    ModelBundle bundle(config, t5, vqvae, options.t5Directory / "spiece.model", mean, std);
    bundle.save(options.out);
    reportProgress(progress, 4, 4, "done");
    return options.out;
}

} // namespace mp
