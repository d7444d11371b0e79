#pragma once
// Motion quality measures used across the app, on joint positions (..., T, 22, 3) in metres, Y up,
// standing on y = 0 (HumanML3D's preprocessing puts clips there).

#include <ATen/core/Tensor.h>

namespace mp {

// Foot skating as GMD (Karunratanakul et al. 2023) measures it: the foot joints 10 and 11 (the
// toes of SMPL, not the ankles); a foot skates in frame t when it is below heightM in frames t
// and t + 1 and its horizontal speed exceeds speedMPerS both in that frame and averaged over a
// centred window of `window` frames (zeros outside the clip). The ratio counts frames where either
// foot skates, over the T - 1 frame steps.
struct SkatingOptions {
    double heightM = 0.05;
    double speedMPerS = 0.5; // 2.5 cm per frame at 20 fps
    int window = 5;
    double fps = 20.0;
};

// (..., T, 22, 3) -> (...) ratios in [0, 1]; T >= 2.
at::Tensor footSkatingRatios(const at::Tensor &joints, const SkatingOptions &options = {});
// One clip (T, 22, 3).
double footSkatingRatio(const at::Tensor &joints, const SkatingOptions &options = {});

struct MotionQuality {
    double skatingRatio = 0;
    double penetrationMeanM = 0; // mean over frames of how far the lowest joint is below y = 0
    double penetrationMaxM = 0;
    double floatingMeanM = 0;  // mean over frames of how far the lowest joint is above y = 0
    double jerkMeanMPerS3 = 0; // mean norm of the third time derivative over joints and frames
    double jerkMaxMPerS3 = 0;
};

// One clip (T, 22, 3); jerk is 0 for fewer than 4 frames.
MotionQuality measureQuality(const at::Tensor &joints, double fps = 20.0);

} // namespace mp
