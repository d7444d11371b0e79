#include "ml/motion/skeleton.h"

#include "ml/core/error.h"
#include "ml/motion/quaternion.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

namespace mp {

int Skeleton::indexOf(const std::string &name) const
{
    const auto it = std::find(jointNames.begin(), jointNames.end(), name);
    return it == jointNames.end() ? -1 : static_cast<int>(it - jointNames.begin());
}

std::vector<int> Skeleton::mirrorIndex() const
{
    std::vector<int> mirror(parents.size());
    for (std::size_t j = 0; j < mirror.size(); ++j)
        mirror[j] = static_cast<int>(j);
    for (const auto &[left, right] : leftRightPairs) {
        mirror[left] = right;
        mirror[right] = left;
    }
    return mirror;
}

at::Tensor Skeleton::offsetTensor(const at::TensorOptions &options) const
{
    auto t = torch::empty({numJoints(), 3}, torch::kFloat32);
    auto a = t.accessor<float, 2>();
    for (int j = 0; j < numJoints(); ++j)
        for (int k = 0; k < 3; ++k)
            a[j][k] = offsets[j][k];
    return t.to(options);
}

at::Tensor Skeleton::restPositions(const at::TensorOptions &options) const
{
    auto t = torch::zeros({numJoints(), 3}, torch::kFloat32);
    auto a = t.accessor<float, 2>();
    for (int j = 0; j < numJoints(); ++j) {
        if (parents[j] < 0)
            continue;
        for (int k = 0; k < 3; ++k)
            a[j][k] = a[parents[j]][k] + offsets[j][k];
    }
    return t.to(options);
}

float Skeleton::restRootHeightM() const
{
    return -restPositions(torch::kFloat32).select(1, 1).min().item<float>();
}

Skeleton Skeleton::scaled(float factor) const
{
    return scaledBones(std::vector<float>(parents.size(), factor));
}

Skeleton Skeleton::scaledBones(const std::vector<float> &perJoint) const
{
    if (perJoint.size() != parents.size())
        throw std::runtime_error("Skeleton::scaledBones: " + std::to_string(perJoint.size()) +
                                 " factors for " + std::to_string(parents.size()) + " joints");
    Skeleton copy = *this;
    for (std::size_t j = 0; j < copy.offsets.size(); ++j)
        for (auto &c : copy.offsets[j])
            c *= perJoint[j];
    return copy;
}

void Skeleton::validate() const
{
    const std::size_t n = parents.size();
    if (jointNames.size() != n || offsets.size() != n || sides.size() != n)
        throw std::runtime_error("Skeleton: names, parents, offsets and sides differ in length");
    for (std::size_t j = 0; j < n; ++j) {
        if (parents[j] >= static_cast<int>(j) || (parents[j] < 0 && j != 0))
            throw std::runtime_error("Skeleton: joint " + jointNames[j] +
                                     " has parent out of order; the root must be joint 0");
    }
    for (const auto &[l, r] : leftRightPairs)
        if (l < 0 || r < 0 || l >= static_cast<int>(n) || r >= static_cast<int>(n))
            throw std::runtime_error("Skeleton: left/right pair out of range");
}

const Skeleton &smpl22()
{
    static const Skeleton skeleton = [] {
        Skeleton s;
        s.jointNames = {"pelvis",        "left_hip",       "right_hip",    "spine1",
                        "left_knee",     "right_knee",     "spine2",       "left_ankle",
                        "right_ankle",   "spine3",         "left_foot",    "right_foot",
                        "neck",          "left_collar",    "right_collar", "head",
                        "left_shoulder", "right_shoulder", "left_elbow",   "right_elbow",
                        "left_wrist",    "right_wrist"};
        s.parents = {-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19};
        // SMPL neutral rest joints (metres), made left/right symmetric so that mirroring a
        // motion maps the skeleton onto itself.
        s.offsets = {{
            {0.0000f, 0.0000f, 0.0000f},    // pelvis
            {0.0686f, -0.0911f, -0.0055f},  // left_hip
            {-0.0686f, -0.0911f, -0.0055f}, // right_hip
            {0.0000f, 0.1089f, -0.0267f},   // spine1
            {0.0355f, -0.3758f, -0.0066f},  // left_knee
            {-0.0355f, -0.3758f, -0.0066f}, // right_knee
            {0.0000f, 0.1353f, 0.0251f},    // spine2
            {-0.0139f, -0.4012f, -0.0430f}, // left_ankle
            {0.0139f, -0.4012f, -0.0430f},  // right_ankle
            {0.0000f, 0.0528f, 0.0014f},    // spine3
            {0.0261f, -0.0518f, 0.1212f},   // left_foot
            {-0.0261f, -0.0518f, 0.1212f},  // right_foot
            {0.0000f, 0.2126f, -0.0437f},   // neck
            {0.0802f, 0.1199f, -0.0363f},   // left_collar
            {-0.0802f, 0.1199f, -0.0363f},  // right_collar
            {0.0000f, 0.0648f, 0.0569f},    // head
            {0.0910f, 0.0297f, -0.0112f},   // left_shoulder
            {-0.0910f, 0.0297f, -0.0112f},  // right_shoulder
            {0.2535f, -0.0101f, -0.0231f},  // left_elbow
            {-0.2535f, -0.0101f, -0.0231f}, // right_elbow
            {0.2541f, 0.0068f, -0.0039f},   // left_wrist
            {-0.2541f, 0.0068f, -0.0039f},  // right_wrist
        }};
        s.chains = {{0, 2, 5, 8, 11},
                    {0, 1, 4, 7, 10},
                    {0, 3, 6, 9, 12, 15},
                    {9, 14, 17, 19, 21},
                    {9, 13, 16, 18, 20}};
        s.leftRightPairs = {{1, 2},   {4, 5},   {7, 8},   {10, 11},
                            {13, 14}, {16, 17}, {18, 19}, {20, 21}};
        s.sides.assign(s.parents.size(), BodySide::Center);
        for (const auto &[l, r] : s.leftRightPairs) {
            s.sides[l] = BodySide::Left;
            s.sides[r] = BodySide::Right;
        }
        s.validate();
        return s;
    }();
    return skeleton;
}

at::Tensor forwardKinematics(const Skeleton &skeleton, const at::Tensor &rootPositions,
                             const at::Tensor &localRotations, at::Tensor *globalRotations)
{
    const int numJoints = skeleton.numJoints();
    if (localRotations.dim() < 2 || localRotations.size(-2) != numJoints ||
        localRotations.size(-1) != 4)
        throw std::runtime_error("forwardKinematics: rotations must be (..., " +
                                 std::to_string(numJoints) + ", 4), got " +
                                 c10::str(localRotations.sizes()));
    if (rootPositions.dim() != localRotations.dim() - 1 || rootPositions.size(-1) != 3)
        throw std::runtime_error("forwardKinematics: root positions must be (..., 3), got " +
                                 c10::str(rootPositions.sizes()));
    const auto offsets = skeleton.offsetTensor(localRotations.options());
    std::vector<at::Tensor> positions(numJoints), rotations(numJoints);
    for (int j = 0; j < numJoints; ++j) {
        const auto local = localRotations.select(-2, j);
        const int parent = skeleton.parents[j];
        if (parent < 0) {
            positions[j] = rootPositions.to(localRotations.scalar_type());
            rotations[j] = local;
            continue;
        }
        positions[j] = positions[parent] +
                       quat::rotate(rotations[parent], offsets[j].expand_as(positions[parent]));
        rotations[j] = quat::multiply(rotations[parent], local);
    }
    if (globalRotations)
        *globalRotations = torch::stack(rotations, -2);
    return torch::stack(positions, -2);
}

MotionClip toMotionClip(const at::Tensor &joints, const Skeleton &skeleton, double fps)
{
    if (joints.dim() != 3 || joints.size(1) != skeleton.numJoints() || joints.size(2) != 3)
        throw InputError("joints must be (T, " + std::to_string(skeleton.numJoints()) +
                         ", 3), got " + c10::str(joints.sizes()));
    MotionClip clip;
    const auto data = joints.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    clip.numFrames = static_cast<int>(data.size(0));
    clip.numJoints = skeleton.numJoints();
    clip.positions.assign(data.data_ptr<float>(), data.data_ptr<float>() + data.numel());
    clip.parents = skeleton.parents;
    clip.sides = skeleton.sides;
    clip.jointNames = skeleton.jointNames;
    clip.fps = fps;
    return clip;
}

} // namespace mp
