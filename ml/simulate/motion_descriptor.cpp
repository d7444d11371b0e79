#include "ml/simulate/motion_descriptor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include <torch/torch.h>

#include "ml/core/error.h"

namespace mp {
namespace {

// SMPL-22 joint indices.
constexpr int kPelvis = 0, kLeftHip = 1, kRightHip = 2, kLeftAnkle = 7, kRightAnkle = 8, kNeck = 12,
              kHead = 15, kLeftShoulder = 16, kRightShoulder = 17, kLeftWrist = 20,
              kRightWrist = 21;
constexpr int kNumJoints = 22;
// A feature spread below this is treated as this (metres, degrees or fractions alike): the
// measures are all of order 0.1..100.
constexpr double kMinScale = 0.05;

using Vec3 = std::array<double, 3>;

struct JointReader {
    at::TensorAccessor<float, 3> access;
    Vec3 at(std::int64_t frame, int joint) const
    {
        return {access[frame][joint][0], access[frame][joint][1], access[frame][joint][2]};
    }
};

double distance(const Vec3 &a, const Vec3 &b)
{
    return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                     (a[2] - b[2]) * (a[2] - b[2]));
}

// Yaw of the body's facing (radians, 0 = +Z): forward = up x across, across from the hips and
// shoulders (right minus left), as HumanML3D defines the facing direction.
double facingYaw(const JointReader &joints, std::int64_t frame)
{
    const Vec3 lh = joints.at(frame, kLeftHip), rh = joints.at(frame, kRightHip);
    const Vec3 ls = joints.at(frame, kLeftShoulder), rs = joints.at(frame, kRightShoulder);
    const double acrossX = (rh[0] - lh[0]) + (rs[0] - ls[0]);
    const double acrossZ = (rh[2] - lh[2]) + (rs[2] - ls[2]);
    // up (0,1,0) x across (ax,0,az) = (az, 0, -ax)
    return std::atan2(acrossZ, -acrossX);
}

double wrapAngle(double radians)
{
    while (radians > std::numbers::pi)
        radians -= 2 * std::numbers::pi;
    while (radians < -std::numbers::pi)
        radians += 2 * std::numbers::pi;
    return radians;
}

// Mean speed (m/s) of a joint relative to the pelvis.
double limbActivity(const JointReader &joints, std::int64_t frames, int joint, double fps)
{
    double total = 0.0;
    for (std::int64_t t = 1; t < frames; ++t) {
        Vec3 now = joints.at(t, joint), before = joints.at(t - 1, joint);
        const Vec3 rootNow = joints.at(t, kPelvis), rootBefore = joints.at(t - 1, kPelvis);
        for (int k = 0; k < 3; ++k) {
            now[k] -= rootNow[k];
            before[k] -= rootBefore[k];
        }
        total += distance(now, before);
    }
    return total * fps / static_cast<double>(frames - 1);
}

} // namespace

MotionDescriptor describeMotion(const at::Tensor &joints, double fps)
{
    if (joints.dim() != 3 || joints.size(1) != kNumJoints || joints.size(2) != 3)
        throw InputError("describeMotion: expected joints of shape (T, 22, 3)");
    const at::Tensor cpu = joints.to(torch::kCPU, torch::kFloat).contiguous();
    const JointReader reader{cpu.accessor<float, 3>()};
    const std::int64_t frames = cpu.size(0);
    MotionDescriptor out;
    auto &f = out.features;
    f["duration_s"] = static_cast<double>(frames) / fps;
    for (const char *name : {"path_m", "forward_m", "sideways_m", "turn_deg", "yaw_travel_deg",
                             "rise_m", "drop_m", "lean_deg", "hands_up_frac", "airborne_frac",
                             "left_hand_mps", "right_hand_mps", "left_foot_mps", "right_foot_mps"})
        f[name] = 0.0;
    if (frames < 2)
        return out;

    // Travel: path length on the floor, and the net displacement in the initial facing frame.
    const Vec3 start = reader.at(0, kPelvis), end = reader.at(frames - 1, kPelvis);
    double path = 0.0;
    for (std::int64_t t = 1; t < frames; ++t) {
        const Vec3 a = reader.at(t - 1, kPelvis), b = reader.at(t, kPelvis);
        path += std::hypot(b[0] - a[0], b[2] - a[2]);
    }
    const double yaw0 = facingYaw(reader, 0);
    const double dx = end[0] - start[0], dz = end[2] - start[2];
    f["path_m"] = path;
    f["forward_m"] = dx * std::sin(yaw0) + dz * std::cos(yaw0);
    // Positive to the body's left: left of +Z facing is +X for SMPL.
    f["sideways_m"] = dx * std::cos(yaw0) - dz * std::sin(yaw0);

    // Turning: net and total yaw change.
    double yawNet = 0.0, yawTravel = 0.0, previous = yaw0;
    for (std::int64_t t = 1; t < frames; ++t) {
        const double yaw = facingYaw(reader, t);
        const double step = wrapAngle(yaw - previous);
        yawNet += step;
        yawTravel += std::abs(step);
        previous = yaw;
    }
    f["turn_deg"] = yawNet * 180.0 / std::numbers::pi;
    f["yaw_travel_deg"] = yawTravel * 180.0 / std::numbers::pi;

    // Height: rise above and drop below the standing pelvis height (its median).
    std::vector<double> heights;
    for (std::int64_t t = 0; t < frames; ++t)
        heights.push_back(reader.at(t, kPelvis)[1]);
    std::vector<double> sorted = heights;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(frames / 2),
                     sorted.end());
    const double median = sorted[static_cast<std::size_t>(frames / 2)];
    const auto [low, high] = std::minmax_element(heights.begin(), heights.end());
    f["rise_m"] = *high - median;
    f["drop_m"] = median - *low;

    // Posture: the largest trunk lean from vertical, hands above the head, both feet in the air.
    double lean = 0.0;
    std::int64_t handsUp = 0, airborne = 0;
    double floor = std::numeric_limits<double>::max();
    for (std::int64_t t = 0; t < frames; ++t)
        floor = std::min({floor, reader.at(t, kLeftAnkle)[1], reader.at(t, kRightAnkle)[1]});
    for (std::int64_t t = 0; t < frames; ++t) {
        const Vec3 pelvis = reader.at(t, kPelvis), neck = reader.at(t, kNeck);
        const double up = neck[1] - pelvis[1];
        const double length = distance(neck, pelvis);
        if (length > 1e-6)
            lean = std::max(lean, std::acos(std::clamp(up / length, -1.0, 1.0)));
        const double head = reader.at(t, kHead)[1];
        if (reader.at(t, kLeftWrist)[1] > head || reader.at(t, kRightWrist)[1] > head)
            ++handsUp;
        if (reader.at(t, kLeftAnkle)[1] > floor + 0.08 &&
            reader.at(t, kRightAnkle)[1] > floor + 0.08)
            ++airborne;
    }
    f["lean_deg"] = lean * 180.0 / std::numbers::pi;
    f["hands_up_frac"] = static_cast<double>(handsUp) / static_cast<double>(frames);
    f["airborne_frac"] = static_cast<double>(airborne) / static_cast<double>(frames);

    // Limb activity relative to the pelvis: which hand or foot does the action.
    f["left_hand_mps"] = limbActivity(reader, frames, kLeftWrist, fps);
    f["right_hand_mps"] = limbActivity(reader, frames, kRightWrist, fps);
    f["left_foot_mps"] = limbActivity(reader, frames, kLeftAnkle, fps);
    f["right_foot_mps"] = limbActivity(reader, frames, kRightAnkle, fps);
    return out;
}

double initialFacingYaw(const at::Tensor &joints)
{
    if (joints.dim() != 3 || joints.size(0) < 1 || joints.size(1) != kNumJoints ||
        joints.size(2) != 3)
        throw InputError("initialFacingYaw: expected joints of shape (T >= 1, 22, 3)");
    const at::Tensor cpu = joints.slice(0, 0, 1).to(torch::kCPU, torch::kFloat).contiguous();
    return facingYaw(JointReader{cpu.accessor<float, 3>()}, 0);
}

std::map<std::string, double> descriptorScales(const std::vector<MotionDescriptor> &descriptors)
{
    std::map<std::string, std::pair<double, double>> sums; // sum, sum of squares
    for (const auto &descriptor : descriptors)
        for (const auto &[name, value] : descriptor.features) {
            sums[name].first += value;
            sums[name].second += value * value;
        }
    std::map<std::string, double> scales;
    const double n = std::max<double>(1.0, static_cast<double>(descriptors.size()));
    for (const auto &[name, sum] : sums) {
        const double mean = sum.first / n;
        const double variance = std::max(0.0, sum.second / n - mean * mean);
        scales[name] = std::max(kMinScale, std::sqrt(variance));
    }
    return scales;
}

PromptIntent intentFromReference(const std::string &prompt, const MotionDescriptor &reference,
                                 const std::map<std::string, double> &scales)
{
    PromptIntent intent;
    intent.prompt = prompt;
    for (const auto &[name, value] : reference.features) {
        const auto scale = scales.find(name);
        intent.targets[name] = {
            .value = value, .scale = scale != scales.end() ? scale->second : 1.0, .weight = 1.0};
    }
    return intent;
}

} // namespace mp
