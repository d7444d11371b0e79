// motionpref-cli eval embed: each clip's evaluator embeddings, no random draw. The work is
// embedClipsJob (ml/eval/clip_embeddings).

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/eval/clip_embeddings.h"

#include <cstdio>

namespace mp::cli {
namespace {

int runEvalEmbed(const ParsedArgs &args, const Context &context)
{
    EmbedClipsJob job;
    job.evaluatorDir = args.required("evaluator");
    job.datasetRoot = args.required("dataset");
    job.split = args.value("split");
    job.out = args.required("out");
    job.device = context.device;
    const auto clips = embedClipsJob(job, makeProgressBar(context, "embed"));
    std::printf("%zu clips of %s/%s embedded (%lld-d) into %s\n", clips.ids.size(),
                job.datasetRoot.string().c_str(), job.split.c_str(),
                static_cast<long long>(clips.text.size(1)), job.out.string().c_str());
    return 0;
}

const CommandRegistration evalEmbedCommand{{
    .path = "eval embed",
    .summary = "each clip's text and motion embedding from an evaluator (no random draw)",
    .usage = "",
    .description =
        "For every clip of DIR/<split>.txt: the evaluator's embedding of its first caption and\n"
        "of its first min(T, 196) frames floored to the evaluator's 4-frame unit, normalised\n"
        "with the evaluator's mean/std (no random caption or crop). Writes FILE.safetensors\n"
        "with text_embedding (N, D), motion_embedding (N, D), frames (N) and the clip ids as a\n"
        "JSON array in the metadata entry clip_ids.",
    .options = {{"evaluator", "DIR", "evaluator directory (import evaluator, train-evaluator)", ""},
                {"dataset", "DIR", "HumanML3D-layout dataset", ""},
                {"split", "NAME", "split file to embed", "test"},
                {"out", "FILE", ".safetensors to write", ""}},
    .usesTorch = true,
    .run = runEvalEmbed,
}};

} // namespace
} // namespace mp::cli
