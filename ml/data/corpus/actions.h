#pragma once
// The action library: one PoseTrack per action and parameters, with natural variation (timing,
// amplitude, phase) drawn from the clip's generator. Split by family into actions_*.cpp.

#include "ml/data/corpus/action.h"
#include "ml/data/corpus/pose_track.h"

namespace mp::corpus {

class ClipRng;

inline constexpr float kFps = 20.0f; // HumanML3D's frame rate

// The motion of one action. Starts and ends in the action's postures (actionInfo().start/end)
// so that the composer can blend one into the next.
PoseTrack generateAction(const Segment &segment, ClipRng &rng);

// Parameters drawn for an action: sides, counts, speeds and amplitudes that the grammar can say.
ActionParams sampleParams(Action action, ClipRng &rng);

} // namespace mp::corpus
