// motionpref-cli import motiongpt: MotionGPT's released weights -> a model bundle. The work is
// importMotionGpt (ml/models/motiongpt_import).

#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "ml/models/bundle.h"
#include "ml/models/motiongpt_import.h"

#include <cstdio>

namespace mp::cli {
namespace {

int runImportMotionGpt(const ParsedArgs &args, const Context &context)
{
    MotionGptImportOptions options;
    options.checkpoint = args.required("checkpoint");
    options.t5Directory = args.required("t5");
    options.metaDirectory = args.required("meta");
    options.out = args.required("out");
    const auto result = importMotionGpt(options, makeProgressBar(context, "import"));
    const auto &out = result.bundle;
    const ModelBundle bundle(out); // read back: what was written loads
    const auto &c = bundle.config();
    std::printf(
        "%s: T5 d_model %lld, %lld+%lld layers, vocab %lld (motion tokens from %lld); "
        "VQ-VAE %lld codes of %lld\n",
        out.string().c_str(), static_cast<long long>(c.t5.dModel),
        static_cast<long long>(c.t5.numLayers), static_cast<long long>(c.t5.numDecoderLayers),
        static_cast<long long>(c.t5.vocabSize), static_cast<long long>(c.tokens.textVocabSize),
        static_cast<long long>(c.vqvae.numCodes), static_cast<long long>(c.vqvae.codeDim));
    if (!result.notUsed.empty())
        std::printf("%s: %s\n", options.checkpoint.filename().string().c_str(),
                    result.notUsed.c_str());
    return 0;
}

const CommandRegistration importMotionGptCommand{{
    .path = "import motiongpt",
    .summary = "make a model bundle from MotionGPT's checkpoint, flan-t5-base and its mean/std",
    .usage = "",
    .description =
        "Reads the checkpoint's state_dict (vae.* -> vqvae.safetensors, lm.language_model.* ->\n"
        "model.safetensors), the T5 config.json and spiece.model of flan-t5-base, and\n"
        "MotionGPT's assets/meta mean.npy and std.npy, and writes a bundle that generate,\n"
        "eval and the GUI use like the embedded default. The checkpoint is read without\n"
        "Python (torch.save's zip or legacy layout); one line names what was not used\n"
        "(optimizer_states, callbacks, the OmegaConf hyper_parameters).",
    .options = {{"checkpoint", "FILE", "motiongpt_s3_h3d.tar or a .safetensors of its state_dict",
                 ""},
                {"t5", "DIR", "flan-t5-base directory (config.json, spiece.model)", ""},
                {"meta", "DIR", "directory with mean.npy and std.npy (MotionGPT's assets/meta)",
                 ""},
                {"out", "BUNDLE", "bundle directory to write", ""}},
    .usesTorch = true,
    .run = runImportMotionGpt,
}};

} // namespace
} // namespace mp::cli
