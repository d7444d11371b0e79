#pragma once
// Plans a clip (1 to 3 actions whose postures chain, with parameters, body proportions and
// captions) and composes the actions' tracks into one, with short transitions between them.
// Everything is drawn from generators seeded by (corpus seed, clip index) only.

#include "ml/data/corpus/action.h"
#include "ml/data/corpus/pose_track.h"

#include <cstdint>
#include <vector>

namespace mp::corpus {

struct ComposeOptions {
    int minFrames = 41; // joints frames; the 263-d features have one fewer (40..196)
    int maxFrames = 197;
    float transitionMinS = 0.3f;
    float transitionMaxS = 0.5f;
    int maxActions = 3;
};

// Frames [startFrame, endFrame) blended from the pose before them to the pose after them.
struct Transition {
    int startFrame = 0;
    int endFrame = 0;
};

struct ComposedClip {
    ClipPlan plan;
    PoseTrack track;
    std::vector<Transition> transitions;
};

ComposedClip composeClip(std::uint64_t seed, int index, const ComposeOptions &options = {});

// A clip of one given action with drawn parameters (tests, previews and per-action exports).
ComposedClip composeAction(std::uint64_t seed, int index, Action action,
                           const ComposeOptions &options = {});

} // namespace mp::corpus
