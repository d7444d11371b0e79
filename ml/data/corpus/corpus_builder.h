#pragma once
// Writes the procedural corpus in the HumanML3D directory layout:
//   new_joints/NNNNNN.npy      (T, 22, 3) float32, canonical (floor, origin, facing +Z)
//   new_joint_vecs/NNNNNN.npy  (T - 1, 263) float32, ml/motion/features.h
//   texts/NNNNNN.txt           3+ lines "caption#word/POS ...#0.0#0.0"
//   train.txt val.txt test.txt all.txt   ids, 80/5/15
//   Mean.npy Std.npy           over the train split's features (HumanML3D's grouped std)
//   manifest.json              version, seed, counts per action, every clip's actions with
//                              parameters and frame ranges, and its captions
// The same seed and version give the same bytes, whatever the number of threads.

#include "ml/core/progress.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace mp::corpus {

// Bumped whenever a change to the generator changes the output for a given seed.
inline constexpr int kCorpusVersion = 2;

struct CorpusOptions {
    int numClips = 1000;
    std::uint64_t seed = 1;
    int threads = 0; // 0: one per hardware thread
    double trainFraction = 0.80;
    double valFraction = 0.05; // the rest is test
};

struct CorpusSummary {
    int numClips = 0;
    int numFrames = 0; // joint frames over all clips
    int numTrain = 0, numVal = 0, numTest = 0;
    std::map<std::string, int> actionCounts; // occurrences of each action over all clips
    double seconds = 0;                      // wall time of the build
};

// Builds the corpus into directory `out` (created if missing; files of an older build with the
// same names are replaced). Progress counts clips; returning false cancels (mp::Cancelled).
CorpusSummary buildCorpus(const std::filesystem::path &out, const CorpusOptions &options,
                          const ProgressFn &progress = {});

// "000042": the file stem of clip 42.
std::string clipId(int index);

} // namespace mp::corpus
