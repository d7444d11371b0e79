#include "ml/data/motion_file.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

namespace mp {

MotionData motionFromTensor(const at::Tensor &tensor, const std::string &name, double fps)
{
    if (!(fps > 0) || fps > 1000)
        throw InputError("fps must be in (0, 1000], got " + std::to_string(fps));
    MotionData motion;
    motion.fps = fps;
    motion.source = motionKindOf(tensor, name);
    if (motion.source == MotionKind::Features) {
        checkFeatures(tensor, name, 1);
        motion.features = tensor.to(torch::kFloat32).contiguous();
        motion.joints = recoverFromRic(motion.features);
    } else {
        checkJoints(tensor, name, 1);
        motion.joints = tensor.to(torch::kFloat32).contiguous();
    }
    return motion;
}

MotionData readMotionNpy(const std::filesystem::path &path, double fps)
{
    return motionFromTensor(npy::read(path), path.string(), fps);
}

MotionSummary summarizeMotion(const MotionData &motion)
{
    MotionSummary summary;
    const auto joints = motion.joints.to(torch::kFloat64);
    if (joints.dim() != 3 || joints.size(-1) != 3 || joints.size(0) < 1 || joints.size(1) < 1)
        throw InputError("motion must be (T, J, 3) with T, J >= 1, got " +
                         c10::str(joints.sizes()));
    summary.numFrames = joints.size(0);
    summary.numJoints = joints.size(1);
    summary.fps = motion.fps;
    summary.durationS = summary.numFrames / motion.fps;
    const auto flat = joints.reshape({-1, 3});
    const auto low = std::get<0>(flat.min(0)), high = std::get<0>(flat.max(0));
    for (int k = 0; k < 3; ++k) {
        summary.boundsMinM[k] = low[k].item<double>();
        summary.boundsMaxM[k] = high[k].item<double>();
    }
    const auto root = joints.select(1, 0);
    if (summary.numFrames > 1) {
        const auto step = root.diff(1, 0);
        summary.rootPathLengthM = torch::stack({step.select(1, 0), step.select(1, 2)}, -1)
                                      .norm(2, -1)
                                      .sum()
                                      .item<double>();
    }
    const auto y = joints.select(-1, 1);
    summary.heightM = (std::get<0>(y.max(1)) - std::get<0>(y.min(1))).max().item<double>();
    summary.hasQuality = summary.numJoints == kNumJoints && summary.numFrames >= 2;
    if (summary.hasQuality)
        summary.quality = measureQuality(joints, motion.fps);
    return summary;
}

} // namespace mp
