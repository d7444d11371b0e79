#pragma once
// How closely one motion performs another, frame by frame: the mean per-joint position error
// along the best time alignment (dynamic time warping), after putting both in the same start
// place and facing. The simulated labeler compares a generated motion with the corpus clip its
// prompt describes this way, so the order of actions and the poses count, not only the kinematic
// summaries of motion_descriptor.h; a different speed or pause costs little.

#include <ATen/core/Tensor.h>

namespace mp {

struct AlignmentOptions {
    double fps = 20.0;        // of both motions
    double compareFps = 10.0; // both are resampled (by frame skipping) to this before aligning
    double emptyError = 3.0;  // metres: the error of a motion with no frames
};

// joints (T, 22, 3) each, SMPL-22 in metres, Y up. Each motion is moved so its first-frame pelvis
// is at the floor origin and rotated so it first faces +Z; a frame is the 21 joints relative to
// the pelvis's floor position plus the pelvis's own path, 22 points in all. The frame cost is the
// mean point distance; the alignment is symmetric DTW (steps right, down, diagonal at weight 2)
// normalised by the two lengths, so the result is in metres and the same either way round.
double alignedPoseError(const at::Tensor &joints, const at::Tensor &reference,
                        const AlignmentOptions &options = {});

} // namespace mp
