#pragma once
// Prompts with what they ask for, from the project's procedural corpus (ml/data/corpus): each
// caption's clip realises the caption's actions and parameters (manifest.json), so its measured
// descriptor is the intent a simulated labeler compares generated motions against.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ml/train/simulated_labeler.h"

namespace mp {

struct CorpusPrompt {
    std::string clipId;
    std::string caption;
    std::vector<std::string> actions; // the clip's actions in order, from the manifest
    PromptIntent intent;
};

// Draws `count` (clip, caption) pairs of the split, seeded, clips without replacement while they
// last. Descriptor spreads are measured over all of the split's clips. InputError naming the
// file when the directory is not a corpus (no manifest.json) or a clip's joints are missing.
std::vector<CorpusPrompt> drawCorpusPrompts(const std::filesystem::path &corpusDir,
                                            const std::string &split, std::int64_t count,
                                            std::uint64_t seed);

} // namespace mp
