#include "ml/simulate/motion_alignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/simulate/motion_descriptor.h"

namespace mp {
namespace {

constexpr std::int64_t kPelvisJoint = 0;

// (T, 22, 3) -> (T', 22, 3): resampled, started at the floor origin facing +Z, joints 1..21
// relative to the pelvis's floor position, row 0 the pelvis's path on the floor (height kept).
at::Tensor canonicalPoints(const at::Tensor &joints, const AlignmentOptions &options)
{
    const auto step = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::lround(options.fps / options.compareFps)));
    at::Tensor x = joints.to(torch::kCPU, torch::kFloat).slice(0, 0, joints.size(0), step);
    const double yaw = initialFacingYaw(joints);
    const auto origin = x.index({0, kPelvisJoint}).clone();
    origin[1] = 0.0;
    x = x - origin;
    // Rotate about Y by -yaw: the first facing (sin yaw, cos yaw) becomes +Z.
    const double c = std::cos(yaw), s = std::sin(yaw);
    const auto px = x.select(2, 0), py = x.select(2, 1), pz = x.select(2, 2);
    x = torch::stack({px * c - pz * s, py, px * s + pz * c}, 2);
    // The pose relative to where the body stands, and where it stands.
    auto floor = x.select(1, kPelvisJoint).clone();
    floor.select(1, 1).zero_();
    auto points = x - floor.unsqueeze(1);
    points.select(1, kPelvisJoint).copy_(x.select(1, kPelvisJoint));
    return points;
}

} // namespace

double alignedPoseError(const at::Tensor &joints, const at::Tensor &reference,
                        const AlignmentOptions &options)
{
    for (const auto *t : {&joints, &reference})
        if (t->dim() != 3 || t->size(1) != 22 || t->size(2) != 3)
            throw InputError("alignedPoseError: expected joints of shape (T, 22, 3)");
    if (!(options.fps > 0) || !(options.compareFps > 0))
        throw InputError("alignedPoseError: frame rates must be positive");
    if (joints.size(0) == 0 || reference.size(0) == 0)
        return joints.size(0) == reference.size(0) ? 0.0 : options.emptyError;

    const auto a = canonicalPoints(joints, options);
    const auto b = canonicalPoints(reference, options);
    // Frame cost (n, m): mean over the 22 points of the point distance.
    const auto cost = torch::cdist(a.transpose(0, 1), b.transpose(0, 1)).mean(0).contiguous();
    const auto n = cost.size(0), m = cost.size(1);
    const auto c = cost.accessor<float, 2>();

    // Symmetric DTW: D(i,j) = min(D(i-1,j) + c, D(i,j-1) + c, D(i-1,j-1) + 2c); every path then
    // weighs n + m, so D(n,m) / (n + m) is a mean cost.
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> previous(static_cast<std::size_t>(m), inf), current(previous);
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t j = 0; j < m; ++j) {
            const double here = c[i][j];
            double best;
            if (i == 0 && j == 0)
                best = 2.0 * here;
            else {
                best = inf;
                if (i > 0)
                    best = std::min(best, previous[j] + here);
                if (j > 0)
                    best = std::min(best, current[j - 1] + here);
                if (i > 0 && j > 0)
                    best = std::min(best, previous[j - 1] + 2.0 * here);
            }
            current[j] = best;
        }
        std::swap(previous, current);
    }
    return previous[static_cast<std::size_t>(m - 1)] / static_cast<double>(n + m);
}

} // namespace mp
