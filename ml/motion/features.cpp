#include "ml/motion/features.h"

#include "ml/core/error.h"
#include "ml/motion/motion_checks.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include <torch/torch.h>

#include <cmath>

namespace mp {
namespace {

// HumanML3D's reference bone directions (t2m_raw_offsets): the zero of its 6D rotations.
constexpr float kRawOffsets[kNumJoints][3] = {
    {0, 0, 0},  {1, 0, 0},  {-1, 0, 0}, {0, 1, 0},  {0, -1, 0}, {0, -1, 0}, {0, 1, 0},  {0, -1, 0},
    {0, -1, 0}, {0, 1, 0},  {0, 0, 1},  {0, 0, 1},  {0, 1, 0},  {1, 0, 0},  {-1, 0, 0}, {0, 0, 1},
    {0, -1, 0}, {0, -1, 0}, {0, -1, 0}, {0, -1, 0}, {0, -1, 0}, {0, -1, 0}};
// scipy's gaussian_filter1d as HumanML3D calls it: sigma 20 frames, truncated at 4 sigma.
constexpr double kForwardSigma = 20.0;
constexpr int kForwardRadius = 80;

at::Tensor unitY(const at::TensorOptions &options)
{
    return torch::tensor({0.0, 1.0, 0.0}, options);
}

// Facing direction in the xz plane from an "across" vector (pointing from left to right).
at::Tensor forwardFromAcross(const at::Tensor &across)
{
    const auto a = across / across.norm(2, -1, true);
    const auto f = at::linalg_cross(unitY(a.options()).expand_as(a), a, -1);
    return f / f.norm(2, -1, true);
}

at::Tensor acrossOf(const at::Tensor &joints, bool humanMl3dIk)
{
    const auto rHip = joints.select(-2, kFaceJoints[0]), lHip = joints.select(-2, kFaceJoints[1]);
    const auto rSh = joints.select(-2, kFaceJoints[2]), lSh = joints.select(-2, kFaceJoints[3]);
    if (humanMl3dIk)
        return (lHip - rHip) + (rSh - lSh);
    return (rHip - lHip) + (rSh - lSh);
}

// gaussian_filter1d(x, 20, axis=0, mode='nearest') over frames of x (T, C).
at::Tensor smoothOverFrames(const at::Tensor &x)
{
    const int64_t frames = x.size(0);
    const auto taps = torch::arange(-kForwardRadius, kForwardRadius + 1, torch::kLong);
    auto kernel = torch::exp(-0.5 * (taps.to(x.scalar_type()) / kForwardSigma).pow(2));
    kernel = kernel / kernel.sum();
    // Index clamping is exactly scipy's 'nearest' boundary mode.
    const auto index =
        (torch::arange(frames, torch::kLong).unsqueeze(1) + taps.unsqueeze(0)).clamp(0, frames - 1);
    return (x.index_select(0, index.reshape(-1)).reshape({frames, taps.size(0), x.size(1)}) *
            kernel.view({1, -1, 1}))
        .sum(1);
}

// Per-frame root rotation (T, 4) taking the body's facing to +Z, frame 0 forced to identity.
at::Tensor rootRotations(const at::Tensor &joints, const FeatureOptions &options)
{
    auto forward = forwardFromAcross(acrossOf(joints, options.humanMl3dIkFacing));
    if (options.smoothForward)
        forward = smoothOverFrames(forward);
    forward = forward / forward.norm(2, -1, true);
    const auto target = torch::tensor({0.0, 0.0, 1.0}, forward.options()).expand_as(forward);
    auto rotation = quat::between(forward, target);
    rotation.select(0, 0).copy_(torch::tensor({1.0, 0.0, 0.0, 0.0}, rotation.options()));
    return rotation;
}

// Local joint rotations (T, 22, 4) as HumanML3D's inverse_kinematics_np computes them: each
// bone's shortest arc from its reference direction, relative to its parent bone's arc; the first
// bone of every chain is taken relative to the root rotation (as HumanML3D does, also for the
// arm chains that start at spine3).
at::Tensor localRotations(const at::Tensor &joints, const at::Tensor &root)
{
    const auto &skeleton = smpl22();
    const auto parents =
        torch::tensor(std::vector<int64_t>(skeleton.parents.begin() + 1, skeleton.parents.end()));
    const auto children = torch::arange(1, kNumJoints, torch::kLong);
    const auto bones = joints.index_select(1, children) - joints.index_select(1, parents);
    const auto reference =
        torch::from_blob(const_cast<float *>(&kRawOffsets[0][0]), {kNumJoints, 3})
            .to(joints.dtype())
            .slice(0, 1);
    // Global arc of every bone (T, 21, 4); slot j - 1 belongs to joint j.
    const auto arcs = quat::between(reference.expand_as(bones), bones);
    // The rotation each bone is relative to: the root's for chain starts, else the parent's arc.
    std::vector<at::Tensor> parentRotations(kNumJoints - 1);
    for (const auto &chain : skeleton.chains)
        for (std::size_t i = 1; i < chain.size(); ++i)
            parentRotations[chain[i] - 1] = i == 1 ? root : arcs.select(1, chain[i - 1] - 1);
    const auto relativeTo = torch::stack(parentRotations, 1);
    const auto local = quat::multiply(quat::inverse(relativeTo), arcs);
    return torch::cat({root.unsqueeze(1), local}, 1);
}

at::Tensor footContacts(const at::Tensor &joints, const std::array<int, 2> &feet, double threshold)
{
    const auto index = torch::tensor({int64_t(feet[0]), int64_t(feet[1])});
    const auto p = joints.index_select(1, index);
    const auto squared = (p.slice(0, 1) - p.slice(0, 0, -1)).pow(2).sum(-1);
    return (squared < threshold).to(joints.scalar_type());
}

} // namespace

at::Tensor canonicalizeJoints(const at::Tensor &joints)
{
    checkJoints(joints, "joints", 1);
    auto p = joints.clone();
    p.select(-1, 1) -= p.select(-1, 1).min();
    const auto root0 = p[0][0];
    const auto shift = torch::stack({root0[0], torch::zeros_like(root0[1]), root0[2]});
    p = p - shift;
    auto forward = forwardFromAcross(acrossOf(p[0], false));
    const auto target = torch::tensor({0.0, 0.0, 1.0}, p.options());
    const auto turn = quat::between(forward, target);
    return quat::rotate(turn.expand({p.size(0), p.size(1), 4}), p);
}

at::Tensor extractFeatures(const at::Tensor &joints, const FeatureOptions &options)
{
    checkJoints(joints, "joints", 2);
    const auto outType = joints.scalar_type();
    // Double inside, so that the round trip is limited by the output precision only.
    auto p = joints.to(torch::kFloat64);
    if (options.canonicalize)
        p = canonicalizeJoints(p);
    const int64_t frames = p.size(0);

    const auto root = rootRotations(p, options); // (T, 4)
    const auto rot6d = quat::toCont6d(localRotations(p, root)).slice(1, 1).reshape({frames, -1});

    auto centred = p.clone();
    centred.select(-1, 0) -= p.select(1, 0).select(-1, 0).unsqueeze(1);
    centred.select(-1, 2) -= p.select(1, 0).select(-1, 2).unsqueeze(1);
    const auto rootPerJoint = root.unsqueeze(1).expand({frames, kNumJoints, 4});
    const auto ric = quat::rotate(rootPerJoint, centred);
    const auto rootHeight = ric.select(1, 0).select(-1, 1).unsqueeze(-1);
    const auto ricFlat = ric.slice(1, 1).reshape({frames, -1});

    const auto rootStep = p.select(1, 0).slice(0, 1) - p.select(1, 0).slice(0, 0, -1);
    const auto rootVelocity = quat::rotate(root.slice(0, 1), rootStep);
    const auto velocityXz =
        torch::stack({rootVelocity.select(-1, 0), rootVelocity.select(-1, 2)}, -1);
    // Per-frame root rotation; w >= 0 keeps asin on the short way round when the facing crosses
    // 180 degrees (HumanML3D takes asin of the raw product there and gets the sign wrong).
    const auto rootTurn =
        quat::positiveW(quat::multiply(root.slice(0, 1), quat::inverse(root.slice(0, 0, -1))));
    const auto yawVelocity = torch::asin(rootTurn.select(-1, 2).clamp(-1.0, 1.0)).unsqueeze(-1);

    const auto localVelocity =
        quat::rotate(rootPerJoint.slice(0, 0, -1), p.slice(0, 1) - p.slice(0, 0, -1))
            .reshape({frames - 1, -1});

    const auto features =
        torch::cat({yawVelocity, velocityXz, rootHeight.slice(0, 0, -1), ricFlat.slice(0, 0, -1),
                    rot6d.slice(0, 0, -1), localVelocity,
                    footContacts(p, kLeftFootJoints, options.footContactThreshold),
                    footContacts(p, kRightFootJoints, options.footContactThreshold)},
                   -1);
    return features.to(outType);
}

at::Tensor recoverRootRotation(const at::Tensor &features)
{
    const auto yawVelocity = features.select(-1, kFeatRootYawVel);
    auto angle = torch::zeros_like(yawVelocity);
    const int64_t frames = features.size(-2);
    if (frames > 1)
        angle.narrow(-1, 1, frames - 1).copy_(yawVelocity.narrow(-1, 0, frames - 1).cumsum(-1));
    const auto zero = torch::zeros_like(angle);
    return torch::stack({torch::cos(angle), zero, torch::sin(angle), zero}, -1);
}

at::Tensor recoverFromRic(const at::Tensor &features)
{
    if (features.dim() < 2 || features.size(-1) != kFeatureDim)
        throw InputError("features must be (..., T, " + std::to_string(kFeatureDim) + "), got " +
                         c10::str(features.sizes()));
    const int64_t frames = features.size(-2);
    const auto rotation = recoverRootRotation(features);
    const auto inverse = quat::conjugate(rotation);

    // v_0 = 0, v_t = (x_{t-1}[1], 0, x_{t-1}[2]); p_t = sum_{s<=t} rot(q_s^-1, v_s).
    auto stepShape = features.sizes().vec();
    stepShape.back() = 3;
    auto step = torch::zeros(stepShape, features.options());
    if (frames > 1) {
        step.narrow(-2, 1, frames - 1)
            .select(-1, 0)
            .copy_(features.narrow(-2, 0, frames - 1).select(-1, kFeatRootVelXz));
        step.narrow(-2, 1, frames - 1)
            .select(-1, 2)
            .copy_(features.narrow(-2, 0, frames - 1).select(-1, kFeatRootVelXz + 1));
    }
    auto rootPosition = quat::rotate(inverse, step).cumsum(-2);
    rootPosition.select(-1, 1).copy_(features.select(-1, kFeatRootHeight));

    auto ricShape = features.sizes().vec();
    ricShape.back() = kNumJoints - 1;
    ricShape.push_back(3);
    const auto ric = features.narrow(-1, kFeatRic, (kNumJoints - 1) * 3).reshape(ricShape);
    auto inverseShape = inverse.sizes().vec();
    inverseShape.insert(inverseShape.end() - 1, kNumJoints - 1);
    auto joints = quat::rotate(inverse.unsqueeze(-2).expand(inverseShape), ric);
    joints.select(-1, 0) += rootPosition.select(-1, 0).unsqueeze(-1);
    joints.select(-1, 2) += rootPosition.select(-1, 2).unsqueeze(-1);
    return torch::cat({rootPosition.unsqueeze(-2), joints}, -2);
}

} // namespace mp
