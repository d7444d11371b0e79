#pragma once
// Figures of a motion corpus in the HumanML3D layout (ours or any other): clips and captions,
// counts per action (from manifest.json when there is one), foot skating as GMD measures it,
// floor penetration and floating, bone-length variation, and joint-angle limit violations
// measured from the joint positions. The CLI's `corpus stats` and the GUI's dataset panel call it.

#include "ml/core/progress.h"

#include <filesystem>
#include <map>
#include <string>

namespace mp::corpus {

struct CorpusStats {
    int numClips = 0;
    int numCaptions = 0;
    long long numFrames = 0;
    double durationMeanS = 0;
    std::map<std::string, int> actionCounts; // empty without a manifest
    double skatingRatioMean = 0;             // mean over clips of GMD's ratio
    double skatingRatioMax = 0;
    double penetrationMaxM = 0;         // deepest joint below y = 0 over all frames
    double floatingMeanM = 0;           // mean height of the lowest joint (jumps included)
    double boneLengthMaxErrorM = 0;     // max over clips and bones of |length - clip mean|
    long long jointLimitViolations = 0; // frames with a knee/elbow/neck beyond its range
};

// Reads new_joints/*.npy, texts/*.txt and manifest.json under directory. InputError when the
// directory has no new_joints. Progress counts clips.
CorpusStats corpusStats(const std::filesystem::path &directory, const ProgressFn &progress = {});

// A human-readable report, one figure per line.
std::string formatStats(const CorpusStats &stats);

} // namespace mp::corpus
