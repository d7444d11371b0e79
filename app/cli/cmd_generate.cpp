// motionpref-cli generate: prompt -> motion samples from a model bundle (optionally with a LoRA
// adapter), written as HumanML3D .npy (features or joints), BVH or FBX, and/or their token ids
// as one JSON line (--print-tokens).

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "app/export/motion_io.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/npy.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/motion/skeleton.h"

#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mp::cli {
namespace {

namespace fs = std::filesystem;

// OUT for one sample, OUT_1, OUT_2, ... (before the extension) for several.
fs::path samplePath(const fs::path &out, std::size_t index, std::size_t count)
{
    if (count == 1)
        return out;
    auto name = out.stem().string() + "_" + std::to_string(index + 1) + out.extension().string();
    return out.parent_path() / name;
}

// One JSON line: the prompt's encoder ids (with </s>) and, per sample, the generated ids (without
// the decoder start token, with the stop token) and the motion codes, so a generation can be
// held against another implementation on the same ids.
nlohmann::json tokensJson(const std::string &prompt, const ModelBundle &bundle,
                          const std::vector<MotionSample> &samples)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto &sample : samples)
        list.push_back({{"seed", sample.seed}, {"tokens", sample.tokens}, {"codes", sample.codes}});
    return {{"prompt", prompt},
            {"prompt_ids", bundle.encodePrompt(prompt)},
            {"decoder_start_id", bundle.config().t5.decoderStartTokenId},
            {"samples", list}};
}

int runGenerate(const ParsedArgs &args, const Context &context)
{
    const auto prompt = args.required("prompt");
    const bool printTokens = args.flag("print-tokens");
    // With --print-tokens the ids are the result; motion files are written only if asked for.
    const fs::path out = printTokens ? fs::path(args.value("out")) : fs::path(args.required("out"));
    const bool writeFiles = !out.empty();
    const auto format = writeFiles ? motionFormatOf(out) : MotionFormat::Npy;
    const auto npyContent = args.value("npy");
    if (npyContent != "features" && npyContent != "joints")
        throw InputError("--npy must be 'features' or 'joints', got '" + npyContent + "'");
    const auto modelDir =
        args.has("model") ? fs::path(args.value("model")) : requireDefaultModelDir();
    const auto samples = args.intValue("samples");
    if (samples < 1 || samples > 64)
        throw InputError("--samples must be between 1 and 64");

    // Refuse an unwritable destination before spending time on the model.
    const auto outDir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    if (writeFiles && !fs::is_directory(outDir))
        throw InputError(out.string() + ": the directory " + outDir.string() + " does not exist");

    ModelBundle bundle(modelDir, context.device);
    if (args.has("adapter"))
        loadLoraAdapter(*bundle.t5(), args.value("adapter"));
    auto options = bundle.defaultOptions({});
    const auto seed = static_cast<std::uint64_t>(args.intValue("seed"));
    for (long long i = 0; i < samples; ++i)
        options.seeds.push_back(seed + static_cast<std::uint64_t>(i));
    if (args.has("temperature"))
        options.sampling.temperature = args.doubleValue("temperature");
    if (args.has("top-k"))
        options.sampling.topK = args.intValue("top-k");
    if (args.has("top-p"))
        options.sampling.topP = args.doubleValue("top-p");
    if (args.flag("greedy"))
        options.sampling.greedy = true;
    if (args.has("max-tokens"))
        options.maxMotionTokens = args.intValue("max-tokens");
    options.int8Weights = args.flag("int8");
    if (!(options.sampling.temperature > 0.0) && !options.sampling.greedy)
        throw InputError("--temperature must be positive (use --greedy for argmax decoding)");

    const auto results = bundle.generate(prompt, options, makeProgressBar(context, "generate"));
    if (printTokens)
        std::cout << tokensJson(prompt, bundle, results).dump() << "\n";
    if (!writeFiles)
        return 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto path = samplePath(out, i, results.size());
        const auto &sample = results[i];
        if (format == MotionFormat::Npy && npyContent == "features") {
            npy::write(path, sample.features);
        } else {
            if (!sample.joints.defined())
                throw InputError(path.string() +
                                 ": this model's features have no joints to export");
            LoadedMotion motion;
            motion.clip = toMotionClip(sample.joints, smpl22(), bundle.config().fps);
            motion.isSmpl22 = true;
            writeMotion(path, motion);
        }
        if (printTokens)
            continue; // stdout holds the one JSON line only
        std::cout << path.string() << ": seed " << results[i].seed << ", "
                  << results[i].codes.size() << " codes, " << results[i].features.size(0)
                  << " frames" << (results[i].degenerate ? " (degenerate: mean pose)" : "") << "\n";
    }
    return 0;
}

const CommandRegistration generateCommand{{
    .path = "generate",
    .summary = "generate motions for a prompt with a model bundle (and a LoRA adapter)",
    .description = "Samples --samples motions (seeds SEED, SEED+1, ...) in one batch and writes\n"
                   "them: .npy holds the denormalised HumanML3D features (T,263) or, with\n"
                   "--npy joints, the joints (T,22,3); .bvh and .fbx the skeleton animation.\n"
                   "--print-tokens prints one JSON line instead of the summary: the prompt's\n"
                   "encoder ids and each sample's generated ids and codes, to hold a generation\n"
                   "against another implementation (e.g. transformers' generate) on the same ids.",
    .options = {{"prompt", "TEXT", "the text prompt", ""},
                {"model", "BUNDLE", "model bundle directory", "the embedded default"},
                {"adapter", "DIR", "LoRA adapter directory (adapter_config.json)", ""},
                {"seed", "N", "seed of the first sample", "0"},
                {"samples", "N", "number of samples", "1"},
                {"temperature", "T", "sampling temperature", "bundle default (1)"},
                {"top-k", "K", "top-k filter, 0 = off", "bundle default (50)"},
                {"top-p", "P", "nucleus filter, 1 = off", "bundle default (1)"},
                {"greedy", "", "argmax decoding instead of sampling", ""},
                {"max-tokens", "N", "maximum motion tokens", "bundle default (49)"},
                {"int8", "",
                 "decoding steps read int8 weights (weight-only, one scale per row; CPU)", ""},
                {"npy", "features|joints", "what a .npy output holds", "features"},
                {"print-tokens", "",
                 "print one JSON line: prompt_ids, and per sample seed, tokens, codes", ""},
                {"out", "FILE",
                 "output .npy, .bvh or .fbx (FILE_1, ... for several samples); optional with "
                 "--print-tokens",
                 ""}},
    .run = runGenerate,
}};

} // namespace
} // namespace mp::cli
