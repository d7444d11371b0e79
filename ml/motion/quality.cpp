#include "ml/motion/quality.h"

#include "ml/core/error.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

namespace mp {
namespace {

// GMD takes the SMPL foot (toe) joints.
constexpr int64_t kSkateFeet[2] = {10, 11};

void checkShape(const at::Tensor &joints, int64_t minFrames)
{
    if (joints.dim() < 3 || joints.size(-1) != 3 || joints.size(-2) != kNumJoints ||
        joints.size(-3) < minFrames)
        throw InputError("joints must be (..., T, 22, 3) with T >= " + std::to_string(minFrames) +
                         ", got " + c10::str(joints.sizes()));
}

// scipy's uniform_filter1d(x, size, mode='constant', origin=0) along the last dimension.
at::Tensor boxFilter(const at::Tensor &x, int size)
{
    const int before = size / 2, after = size - 1 - before;
    const auto padded = torch::constant_pad_nd(x, {before, after}, 0.0);
    return padded.unfold(-1, size, 1).mean(-1);
}

} // namespace

at::Tensor footSkatingRatios(const at::Tensor &joints, const SkatingOptions &options)
{
    checkShape(joints, 2);
    const auto p = joints.to(torch::kFloat64);
    const auto feet = p.index_select(-2, torch::tensor({kSkateFeet[0], kSkateFeet[1]}));
    // (..., T - 1, 2): horizontal speed of each foot between consecutive frames.
    const auto step = feet.narrow(-3, 1, feet.size(-3) - 1) - feet.narrow(-3, 0, feet.size(-3) - 1);
    const auto speed =
        torch::stack({step.select(-1, 0), step.select(-1, 2)}, -1).norm(2, -1) * options.fps;
    const auto averaged = boxFilter(speed.transpose(-1, -2), options.window).transpose(-1, -2);
    const auto height = feet.select(-1, 1);
    const auto low = height.narrow(-2, 0, height.size(-2) - 1) < options.heightM;
    const auto lowNext = height.narrow(-2, 1, height.size(-2) - 1) < options.heightM;
    const auto skating = low.logical_and(lowNext)
                             .logical_and(speed > options.speedMPerS)
                             .logical_and(averaged > options.speedMPerS);
    return skating.any(-1).to(torch::kFloat64).mean(-1);
}

double footSkatingRatio(const at::Tensor &joints, const SkatingOptions &options)
{
    if (joints.dim() != 3)
        throw InputError("joints must be (T, 22, 3), got " + c10::str(joints.sizes()));
    return footSkatingRatios(joints, options).item<double>();
}

MotionQuality measureQuality(const at::Tensor &joints, double fps)
{
    checkShape(joints, 2);
    if (joints.dim() != 3)
        throw InputError("joints must be (T, 22, 3), got " + c10::str(joints.sizes()));
    const auto p = joints.to(torch::kFloat64);
    MotionQuality quality;
    quality.skatingRatio = footSkatingRatio(p, {.fps = fps});
    const auto lowest = std::get<0>(p.select(-1, 1).min(-1));
    const auto below = (-lowest).clamp_min(0.0);
    // + 0.0 turns a negative zero (a joint exactly on the floor) into 0.
    quality.penetrationMeanM = below.mean().item<double>() + 0.0;
    quality.penetrationMaxM = below.max().item<double>() + 0.0;
    quality.floatingMeanM = lowest.clamp_min(0.0).mean().item<double>();
    if (p.size(0) >= 4) {
        const auto jerk = p.diff(1, 0).diff(1, 0).diff(1, 0).norm(2, -1) * (fps * fps * fps);
        quality.jerkMeanMPerS3 = jerk.mean().item<double>();
        quality.jerkMaxMPerS3 = jerk.max().item<double>();
    }
    return quality;
}

} // namespace mp
