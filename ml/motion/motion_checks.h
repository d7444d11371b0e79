#pragma once
// Shape and value checks for motions read from files or handed over by callers. Each throws
// mp::InputError "<name>: <what is wrong>", e.g.
// "walk.npy: expected features shape (T,263), got (40,22,3)".

#include <ATen/core/Tensor.h>

#include <string>

namespace mp {

enum class MotionKind { Features, Joints };

// Features (T, 263) or joints (T, 22, 3), told apart by shape; InputError for anything else.
MotionKind motionKindOf(const at::Tensor &tensor, const std::string &name);

// (T, 263) with T >= minFrames, all finite.
void checkFeatures(const at::Tensor &features, const std::string &name, int64_t minFrames = 1);
// (T, 22, 3) with T >= minFrames, all finite.
void checkJoints(const at::Tensor &joints, const std::string &name, int64_t minFrames = 1);
// NaN or Inf anywhere: "<name>: 3 non-finite values (NaN/Inf), first at frame 5".
void checkFinite(const at::Tensor &tensor, const std::string &name);

} // namespace mp
