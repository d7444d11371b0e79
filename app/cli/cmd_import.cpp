// motionpref-cli import motiongpt: MotionGPT's released weights -> a model bundle. The work is
// importMotionGpt (ml/models/motiongpt_import). import evaluator: T2M's finest.tar + GloVe ->
// an evaluator directory (ml/eval/t2m_import).

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/eval/t2m_import.h"
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

int runImportEvaluator(const ParsedArgs &args, const Context &)
{
    T2mEvaluatorImport options;
    options.checkpoint = args.required("checkpoint");
    options.gloveDir = args.required("glove");
    options.metaDir = args.required("meta");
    options.out = args.required("out");
    const auto summary = importT2mEvaluator(options);
    const auto loaded = loadEvaluator(options.out); // read back: what was written loads
    const auto &c = summary.config;
    std::printf("%s: T2M evaluator (epoch %lld): %lld words of %lld-d, text hidden %lld, "
                "movement %lld/%lld, motion hidden %lld, embedding %lld\n",
                options.out.string().c_str(), static_cast<long long>(summary.epoch),
                static_cast<long long>(loaded.vocabulary.size()), static_cast<long long>(c.dimWord),
                static_cast<long long>(c.dimTextHidden),
                static_cast<long long>(c.dimMovementHidden),
                static_cast<long long>(c.dimMovementLatent),
                static_cast<long long>(c.dimMotionHidden), static_cast<long long>(c.dimCoemb));
    return 0;
}

const CommandRegistration importEvaluatorCommand{{
    .path = "import evaluator",
    .summary = "make an evaluator directory from T2M's finest.tar, its GloVe files and mean/std",
    .usage = "",
    .description =
        "Reads the T2M text/motion evaluator of Guo et al. 2022 (text_mot_match/model/\n"
        "finest.tar) with no Python step, the GloVe files of its glove/ directory\n"
        "(our_vab_data.npy, our_vab_words.pkl, our_vab_idx.pkl) and the evaluator's own\n"
        "mean.npy/std.npy (Comp_v6_KLD01/meta), and writes a directory that `eval --evaluator`,\n"
        "`eval embed` and the Train panel use. Dimensions come from the tensor shapes.",
    .options = {{"checkpoint", "FILE", "T2M's finest.tar", ""},
                {"glove", "DIR",
                 "directory with our_vab_data.npy, our_vab_words.pkl, "
                 "our_vab_idx.pkl",
                 ""},
                {"meta", "DIR", "directory with the evaluator's mean.npy and std.npy", ""},
                {"out", "DIR", "evaluator directory to write", ""}},
    .usesTorch = true,
    .run = runImportEvaluator,
}};

} // namespace
} // namespace mp::cli
