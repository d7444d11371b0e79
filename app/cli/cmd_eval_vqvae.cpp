// motionpref-cli eval vqvae: the reconstruction error of a bundle's VQ-VAE on a HumanML3D-layout
// split, in millimetres. The work is measureVqVaeReconstruction (ml/models/vqvae_eval).

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/models/bundle.h"
#include "ml/models/vqvae_eval.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace mp::cli {
namespace {

namespace fs = std::filesystem;

int runEvalVqVae(const ParsedArgs &args, const Context &context)
{
    const fs::path data = args.required("dataset");
    const auto modelDir =
        args.has("model") ? fs::path(args.value("model")) : requireDefaultModelDir();
    const auto split = args.value("split");
    const auto maxClips = args.intValue("max-clips");
    if (maxClips < 0)
        throw InputError("--max-clips must be >= 0 (0 = all)");
    ModelBundle bundle(modelDir, context.device);
    const auto r = measureVqVaeReconstruction(bundle, data, split, {.maxClips = maxClips},
                                              makeProgressBar(context, "eval vqvae"));
    std::printf("VQ-VAE reconstruction on %s/%s.txt: %lld clips, %lld frames\n",
                data.string().c_str(), split.c_str(), static_cast<long long>(r.clips),
                static_cast<long long>(r.frames));
    std::printf("MPJPE            %8.1f mm (world frame, root trajectory integrated)\n", r.mpjpeMm);
    std::printf("MPJPE root-rel.  %8.1f mm (pelvis at the origin in every frame, as MotionGPT's "
                "MPJPE)\n",
                r.rootRelativeMpjpeMm);
    std::printf("worst clip       %8.1f mm (%s)\n", r.worstClipMpjpeMm, r.worstClip.c_str());
    std::printf("feature L1       %8.4f (normalised features)\n", r.featureL1);
    std::printf("codes used       %8.1f %% of %lld, perplexity %.1f\n", 100.0 * r.codesUsed,
                static_cast<long long>(bundle.config().vqvae.numCodes), r.perplexity);
    if (const auto out = args.optional("out")) {
        auto json = r.toJson();
        json["model"] = modelDir.string();
        json["dataset"] = data.string();
        json["split"] = split;
        std::ofstream file(*out);
        file << json.dump(2) << "\n";
        if (!file)
            throw InputError(*out + ": cannot write");
    }
    return 0;
}

const CommandRegistration evalVqVaeCommand{{
    .path = "eval vqvae",
    .summary = "reconstruction error of a bundle's VQ-VAE on a dataset split, in mm",
    .usage = "",
    .description =
        "Encodes every whole clip of DIR/<split>.txt to motion codes and decodes it back, turns\n"
        "both into joints (recover_from_ric) and reports the mean per-joint position error in\n"
        "the world frame and root-relative, the normalised-feature L1 and the codebook use.",
    .options = {{"model", "BUNDLE", "model bundle directory", "the embedded default"},
                {"dataset", "DIR", "HumanML3D-layout dataset", ""},
                {"split", "NAME", "split file to evaluate", "test"},
                {"max-clips", "N", "first N clips only (0: all)", "0"},
                {"out", "FILE", "write the figures as JSON", ""}},
    .usesTorch = true,
    .run = runEvalVqVae,
}};

} // namespace
} // namespace mp::cli
