#pragma once
// Kinematic measures of a motion that a text prompt's action and parameters show up in (how far
// and which way the body travels, how much it turns, rises, drops, leans, and how much each limb
// moves), for the simulated labeler: a generated motion is judged by how close its measures come
// to those of the corpus clip the prompt describes, each in units of the measure's spread over
// the corpus.

#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/simulate/simulated_labeler.h"

namespace mp {

// joints (T, 22, 3): SMPL-22 positions in metres, Y up, as recover_from_ric gives them. A
// motion of fewer than two frames has all-zero measures.
MotionDescriptor describeMotion(const at::Tensor &joints, double fps = 20.0);

// Yaw (radians, 0 = facing +Z) of the body's facing in the first frame, from the hips and
// shoulders as HumanML3D defines it. joints (T >= 1, 22, 3).
double initialFacingYaw(const at::Tensor &joints);

// Each feature's standard deviation over the descriptors, floored so that a feature nearly
// constant over the corpus does not dominate.
std::map<std::string, double> descriptorScales(const std::vector<MotionDescriptor> &descriptors);

// What the prompt asked for, as the reference clip's measures (its own motion realises the
// prompt's action and parameters), one unit of mismatch being one spread.
PromptIntent intentFromReference(const std::string &prompt, const MotionDescriptor &reference,
                                 const std::map<std::string, double> &scales);

} // namespace mp
