#include "ml/data/corpus/clip_kinematics.h"

#include "ml/data/corpus/composer.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace mp::corpus {

Skeleton bodySkeleton(const BodyShape &body)
{
    using namespace joint;
    std::vector<float> factors(kNumJoints, body.torsoScale);
    for (int j : {LKnee, RKnee, LAnkle, RAnkle, LFoot, RFoot})
        factors[std::size_t(j)] = body.legScale;
    for (int j : {LElbow, RElbow, LWrist, RWrist})
        factors[std::size_t(j)] = body.armScale;
    for (float &f : factors)
        f *= body.heightScale;
    return smpl22().scaledBones(factors);
}

at::Tensor slerp(const at::Tensor &a, const at::Tensor &b, const at::Tensor &w)
{
    auto dot = (a * b).sum(-1, true);
    const auto flip = dot < 0;
    const auto bb = torch::where(flip, -b, b);
    dot = dot.abs().clamp_max(1.0);
    const auto theta = torch::acos(dot);
    const auto sinTheta = torch::sin(theta);
    const auto wv = w.unsqueeze(-1);
    // Nearly equal rotations: the linear weights are exact enough and avoid 0/0.
    const auto nearly = sinTheta < 1e-5;
    const auto safeSin = torch::where(nearly, torch::ones_like(sinTheta), sinTheta);
    const auto wa = torch::where(nearly, 1 - wv, torch::sin((1 - wv) * theta) / safeSin);
    const auto wb = torch::where(nearly, wv, torch::sin(wv * theta) / safeSin);
    return quat::normalize(wa * a + wb * bb);
}

at::Tensor localRotations(const ComposedClip &clip)
{
    const PoseTrack &track = clip.track;
    const int frames = track.numFrames;
    auto angles = torch::empty({frames, kNumJoints, 3}, torch::kFloat32);
    auto acc = angles.accessor<float, 3>();
    for (int t = 0; t < frames; ++t)
        for (int j = 0; j < kNumJoints; ++j) {
            const Euler &e = track.at(t, j);
            // Right-side joints are stored as the mirror image of the left's convention.
            const float mirror = isRightJoint(j) ? -1.0f : 1.0f;
            acc[t][j][0] = e.x;
            acc[t][j][1] = mirror * e.y;
            acc[t][j][2] = mirror * e.z;
        }
    const auto axis = [](float x, float y, float z) { return torch::tensor({x, y, z}); };
    const auto qx = quat::fromAxisAngle(axis(1, 0, 0), angles.select(-1, 0));
    const auto qy = quat::fromAxisAngle(axis(0, 1, 0), angles.select(-1, 1));
    const auto qz = quat::fromAxisAngle(axis(0, 0, 1), angles.select(-1, 2));
    auto q = quat::multiply(qy, quat::multiply(qz, qx)).contiguous();
    // The heading turns the whole body about the vertical: it goes in front of the pelvis.
    const auto heading =
        torch::from_blob(const_cast<float *>(track.heading.data()), {frames}, torch::kFloat32)
            .clone();
    q.select(1, 0).copy_(quat::multiply(quat::fromYaw(heading), q.select(1, 0)));
    for (const Transition &tr : clip.transitions) {
        if (tr.startFrame < 1 || tr.endFrame >= frames || tr.endFrame <= tr.startFrame)
            continue;
        const int n = tr.endFrame - tr.startFrame;
        auto w = torch::empty({n, 1}, torch::kFloat32);
        for (int k = 0; k < n; ++k)
            w[k][0] = smoothstep(float(k + 1) / float(n + 1));
        const auto from = q.select(0, tr.startFrame - 1).unsqueeze(0);
        const auto to = q.select(0, tr.endFrame).unsqueeze(0);
        q.slice(0, tr.startFrame, tr.endFrame).copy_(slerp(from, to, w.expand({n, kNumJoints})));
    }
    return q;
}

namespace {

// The points of a foot that can carry weight: the heel (under the ankle) and the ball (the
// SMPL "foot" joint). The heel's height is the ankle's minus its rest height above the ball.
struct ContactPoint {
    int joint;
    float offsetM;
};

} // namespace

at::Tensor solveJoints(const ComposedClip &clip, const Skeleton &skeleton,
                       const SolveOptions &options)
{
    using namespace joint;
    const PoseTrack &track = clip.track;
    const int frames = track.numFrames;
    const auto rotations = localRotations(clip);
    auto rel = forwardKinematics(skeleton, torch::zeros({frames, 3}), rotations).contiguous();
    auto p = rel.accessor<float, 3>();
    const auto rest = skeleton.restPositions(torch::kFloat32);
    const auto r = rest.accessor<float, 2>();
    const std::array<ContactPoint, 4> contacts{{{LAnkle, r[LAnkle][1] - r[LFoot][1]},
                                                {LFoot, 0.0f},
                                                {RAnkle, r[RAnkle][1] - r[RFoot][1]},
                                                {RFoot, 0.0f}}};

    std::vector<std::array<float, 4>> height(static_cast<std::size_t>(frames));
    std::vector<float> rootY(static_cast<std::size_t>(frames));
    for (int t = 0; t < frames; ++t) {
        float ground = 1e9f;
        for (std::size_t c = 0; c < contacts.size(); ++c) {
            height[std::size_t(t)][c] = p[t][contacts[c].joint][1] - contacts[c].offsetM;
            ground = std::min(ground, height[std::size_t(t)][c]);
        }
        for (int j = 0; j < kNumJoints; ++j)
            ground = std::min(ground, p[t][j][1]);
        rootY[std::size_t(t)] = -ground;
    }
    const auto airborne = [&](int t) { return track.airborne[std::size_t(t)] != 0; };

    // Vertical: airborne runs follow the flight arc between take-off and landing heights.
    for (int t = 0; t < frames;) {
        if (!airborne(t)) {
            ++t;
            continue;
        }
        int end = t;
        while (end < frames && airborne(end))
            ++end;
        const float y0 = rootY[std::size_t(std::max(t - 1, 0))];
        const float y1 = end < frames ? rootY[std::size_t(end)] : y0;
        const int span = end - t + 1;
        for (int k = t; k < end; ++k) {
            const float s = float(k - t + 1) / float(span);
            // Never lower than the floor allows (the legs may tuck or reach during the flight).
            rootY[std::size_t(k)] =
                std::max(y0 + (y1 - y0) * s + track.lift[std::size_t(k)], rootY[std::size_t(k)]);
        }
        t = end;
    }

    // Horizontal: grounded frames keep the lowest contact point where it is (soft weights share
    // the pinning between points of nearly equal height); airborne frames keep the momentum.
    std::vector<float> rootX(std::size_t(frames), 0.0f), rootZ(std::size_t(frames), 0.0f);
    std::vector<std::array<float, 2>> recent; // last grounded displacements, for momentum
    std::array<float, 2> momentum{0.0f, 0.0f};
    for (int t = 1; t < frames; ++t) {
        float dx = 0, dz = 0;
        // The landing frame is pinned like any grounded frame: the foot that touches down
        // stops there.
        if (airborne(t)) {
            if (!airborne(t - 1)) {
                momentum = {0.0f, 0.0f};
                for (const auto &d : recent)
                    momentum[0] += d[0] / float(recent.size()),
                        momentum[1] += d[1] / float(recent.size());
            }
            const float h = track.heading[std::size_t(t)];
            const float drift = track.driftZ[std::size_t(t)];
            const float carry = track.momentum[std::size_t(t)] ? 1.0f : 0.0f;
            dx = carry * momentum[0] + std::sin(h) * drift;
            dz = carry * momentum[1] + std::cos(h) * drift;
        } else {
            std::array<float, 4> weight{};
            float lowest = 1e9f, total = 0.0f;
            for (std::size_t c = 0; c < contacts.size(); ++c)
                lowest =
                    std::min(lowest, height[std::size_t(t)][c] + height[std::size_t(t - 1)][c]);
            for (std::size_t c = 0; c < contacts.size(); ++c) {
                const float h = height[std::size_t(t)][c] + height[std::size_t(t - 1)][c];
                weight[c] = std::exp(-(h - lowest) / (2.0f * options.contactSoftnessM));
                total += weight[c];
            }
            for (std::size_t c = 0; c < contacts.size(); ++c) {
                const int j = contacts[c].joint;
                dx -= weight[c] / total * (p[t][j][0] - p[t - 1][j][0]);
                dz -= weight[c] / total * (p[t][j][2] - p[t - 1][j][2]);
            }
            recent.push_back({dx, dz});
            if (recent.size() > 3)
                recent.erase(recent.begin());
        }
        rootX[std::size_t(t)] = rootX[std::size_t(t - 1)] + dx;
        rootZ[std::size_t(t)] = rootZ[std::size_t(t - 1)] + dz;
    }
    auto root = torch::empty({frames, 1, 3}, torch::kFloat32);
    auto ra = root.accessor<float, 3>();
    for (int t = 0; t < frames; ++t) {
        ra[t][0][0] = rootX[std::size_t(t)];
        ra[t][0][1] = rootY[std::size_t(t)];
        ra[t][0][2] = rootZ[std::size_t(t)];
    }
    return rel + root;
}

} // namespace mp::corpus
