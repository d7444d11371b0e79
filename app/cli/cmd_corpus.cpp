// motionpref-cli corpus build|stats: the procedural text-motion corpus (ml/data/corpus).

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "ml/core/error.h"
#include "ml/data/corpus/corpus_builder.h"
#include "ml/data/corpus/corpus_stats.h"

#include <cstdio>
#include <iostream>

namespace mp::cli {
namespace {

int runBuild(const ParsedArgs &args, const Context &context)
{
    const long long clips = args.intValue("clips");
    const long long seed = args.intValue("seed");
    const long long threads = args.intValue("threads");
    if (clips < 1 || clips > 999999)
        throw InputError("--clips must be 1..999999, got " + std::to_string(clips));
    if (seed < 0)
        throw InputError("--seed must be >= 0, got " + std::to_string(seed));
    if (threads < 0 || threads > 64)
        throw InputError("--threads must be 0..64, got " + std::to_string(threads));
    const corpus::CorpusOptions options{.numClips = static_cast<int>(clips),
                                        .seed = static_cast<std::uint64_t>(seed),
                                        .threads = static_cast<int>(threads)};
    const std::string out = args.required("out");
    const corpus::CorpusSummary summary =
        corpus::buildCorpus(out, options, makeProgressBar(context, "corpus"));
    std::printf("wrote %d clips (%d frames; train %d, val %d, test %d) to %s in %.1f s\n",
                summary.numClips, summary.numFrames, summary.numTrain, summary.numVal,
                summary.numTest, out.c_str(), summary.seconds);
    return 0;
}

int runStats(const ParsedArgs &args, const Context &context)
{
    const std::string dir = args.positional(0, "DIR");
    const corpus::CorpusStats stats = corpus::corpusStats(dir, makeProgressBar(context, "stats"));
    std::cout << formatStats(stats);
    return 0;
}

const CommandRegistration buildCommand{{
    .path = "corpus build",
    .summary = "generate the procedural text-motion corpus in the HumanML3D layout",
    .description = "Actions on the SMPL-22 skeleton driven by joint rotations (walk, run, jump, "
                   "wave, kick, sit...),\ncomposed into 1-3 action clips of 2-9.8 s with "
                   "captions; deterministic for a seed.",
    .options = {{"out", "DIR", "output directory (created)", ""},
                {"clips", "N", "number of clips", "1000"},
                {"seed", "S", "random seed", "1"},
                {"threads", "T", "worker threads (0 = all cores)", "0"}},
    .usesTorch = false,
    .run = runBuild,
}};

const CommandRegistration statsCommand{{
    .path = "corpus stats",
    .summary = "figures of a HumanML3D-layout corpus: actions, foot skating, floor, bones, limits",
    .usage = "DIR",
    .usesTorch = false,
    .run = runStats,
}};

} // namespace
} // namespace mp::cli
