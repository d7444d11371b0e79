#include "ml/motion/motion_checks.h"

#include "ml/core/error.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

namespace mp {
namespace {

std::string shapeText(const at::Tensor &t)
{
    std::string s = "(";
    for (int64_t i = 0; i < t.dim(); ++i)
        s += (i ? "," : "") + std::to_string(t.size(i));
    return s + ")";
}

void checkFrames(const at::Tensor &t, const std::string &name, int64_t minFrames)
{
    if (t.size(0) < minFrames)
        throw InputError(name + ": " + std::to_string(t.size(0)) + " frames, at least " +
                         std::to_string(minFrames) + " needed");
}

} // namespace

MotionKind motionKindOf(const at::Tensor &tensor, const std::string &name)
{
    if (tensor.dim() == 2 && tensor.size(1) == kFeatureDim)
        return MotionKind::Features;
    if (tensor.dim() == 3 && tensor.size(1) == kNumJoints && tensor.size(2) == 3)
        return MotionKind::Joints;
    throw InputError(name + ": expected features (T," + std::to_string(kFeatureDim) +
                     ") or joints (T," + std::to_string(kNumJoints) + ",3), got " +
                     shapeText(tensor));
}

void checkFinite(const at::Tensor &tensor, const std::string &name)
{
    if (!tensor.is_floating_point() || tensor.numel() == 0)
        return;
    const auto bad = ~torch::isfinite(tensor);
    const int64_t count = bad.sum().item<int64_t>();
    if (count == 0)
        return;
    const int64_t first = bad.reshape({tensor.size(0), -1}).any(1).nonzero()[0][0].item<int64_t>();
    throw InputError(name + ": " + std::to_string(count) +
                     " non-finite values (NaN/Inf), first at frame " + std::to_string(first));
}

void checkFeatures(const at::Tensor &features, const std::string &name, int64_t minFrames)
{
    if (features.dim() != 2 || features.size(1) != kFeatureDim)
        throw InputError(name + ": expected features shape (T," + std::to_string(kFeatureDim) +
                         "), got " + shapeText(features));
    checkFrames(features, name, minFrames);
    checkFinite(features, name);
}

void checkJoints(const at::Tensor &joints, const std::string &name, int64_t minFrames)
{
    if (joints.dim() != 3 || joints.size(1) != kNumJoints || joints.size(2) != 3)
        throw InputError(name + ": expected joints shape (T," + std::to_string(kNumJoints) +
                         ",3), got " + shapeText(joints));
    checkFrames(joints, name, minFrames);
    checkFinite(joints, name);
}

} // namespace mp
