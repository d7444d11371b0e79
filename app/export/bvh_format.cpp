#include "app/export/bvh_format.h"

#include "app/export/bvh_motion.h"
#include "app/export/save_file.h"
#include "ml/core/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace mp {

namespace {

constexpr double kPi = std::numbers::pi;
// Below this |cos(y)| the Z and X rotations share an axis and only their difference is defined.
constexpr double kGimbalCos = 1e-9;

// Fixed-point with trailing zeros dropped: "1.5", "-0.25", "0"; never locale-dependent.
void appendNumber(std::string &out, double value, int decimals)
{
    if (!std::isfinite(value))
        throw std::runtime_error("BVH writer: non-finite value");
    char buffer[64];
    auto [end, error] =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
    if (error != std::errc())
        throw std::runtime_error("BVH writer: number formatting failed");
    char *last = end;
    if (decimals > 0) {
        while (last[-1] == '0')
            --last;
        if (last[-1] == '.')
            --last;
    }
    std::string_view text(buffer, static_cast<std::size_t>(last - buffer));
    if (text == "-0")
        text = "0";
    out += text;
}

void appendVector(std::string &out, const Vec3 &v, int decimals)
{
    for (int k = 0; k < 3; ++k) {
        out += ' ';
        appendNumber(out, v[k], decimals);
    }
}

void appendJoint(std::string &out, const BvhMotion &motion,
                 const std::vector<std::vector<int>> &children, int joint, int depth,
                 std::vector<int> &order, int decimals)
{
    const BvhJoint &j = motion.joints[joint];
    const std::string indent(depth, '\t');
    out += indent + (j.parent < 0 ? "ROOT " : "JOINT ") + j.name + "\n";
    out += indent + "{\n";
    out += indent + "\tOFFSET";
    appendVector(out, j.offset, decimals);
    out += "\n";
    out += indent + "\tCHANNELS " + std::to_string(j.channels.size());
    for (const BvhChannel c : j.channels)
        out += std::string(" ") + bvhChannelName(c);
    out += "\n";
    order.push_back(joint);
    for (const int child : children[joint])
        appendJoint(out, motion, children, child, depth + 1, order, decimals);
    if (j.hasEndSite) {
        out += indent + "\tEnd Site\n" + indent + "\t{\n" + indent + "\t\tOFFSET";
        appendVector(out, j.endSiteOffset, decimals);
        out += "\n" + indent + "\t}\n";
    }
    out += indent + "}\n";
}

double nearestWrap(double angle, double reference)
{
    return angle + 2.0 * kPi * std::round((reference - angle) / (2.0 * kPi));
}

} // namespace

std::string formatBvh(const BvhMotion &motion, const BvhFormatOptions &options)
{
    const int n = motion.numJoints();
    std::vector<std::vector<int>> children(n);
    std::vector<int> roots;
    for (int j = 0; j < n; ++j) {
        const int parent = motion.joints[j].parent;
        if (parent >= j)
            throw std::runtime_error("BVH writer: joint '" + motion.joints[j].name +
                                     "' comes before its parent");
        (parent < 0 ? roots : children[parent]).push_back(j);
    }
    if (roots.empty())
        throw std::runtime_error("BVH writer: no root joint");
    for (const BvhJoint &j : motion.joints)
        if (j.name.empty() || j.name.find_first_of(" \t\r\n{}") != std::string::npos)
            throw std::runtime_error("BVH writer: joint name '" + j.name +
                                     "' is empty or has spaces or braces");

    std::string out = "HIERARCHY\n";
    std::vector<int> order; // joints in file order: the column order of the motion lines
    for (const int root : roots)
        appendJoint(out, motion, children, root, 0, order, options.decimals);

    out += "MOTION\nFrames: " + std::to_string(motion.numFrames) + "\nFrame Time: ";
    char buffer[64];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, motion.frameTimeS);
    if (error != std::errc() || !(motion.frameTimeS > 0))
        throw std::runtime_error("BVH writer: bad frame time");
    out.append(buffer, end);
    out += "\n";

    out.reserve(out.size() + static_cast<std::size_t>(motion.numFrames) * motion.numChannels * 10);
    for (int f = 0; f < motion.numFrames; ++f) {
        bool first = true;
        for (const int joint : order) {
            const BvhJoint &j = motion.joints[joint];
            for (std::size_t c = 0; c < j.channels.size(); ++c) {
                if (!first)
                    out += ' ';
                first = false;
                appendNumber(out, motion.value(f, j.firstChannel + static_cast<int>(c)),
                             options.decimals);
            }
        }
        out += "\n";
    }
    return out;
}

void writeBvhFile(const std::filesystem::path &path, const BvhMotion &motion,
                  const BvhFormatOptions &options)
{
    saveFileAtomically(path, formatBvh(motion, options));
}

Vec3 eulerNear(const Mat3 &rotation, const std::array<int, 3> &order, const Vec3 &previous)
{
    const auto &m = rotation.m;
    const int a = order[0], b = order[1], c = order[2];
    if (a == b || b == c || a == c || a < 0 || b < 0 || c < 0 || a > 2 || b > 2 || c > 2)
        throw std::runtime_error("eulerNear: the rotation order needs three different axes");
    // +1 when (a, b, c) is a cyclic order of (X, Y, Z), -1 otherwise. Then, for
    // R = Ra(alpha) Rb(beta) Rc(gamma): m[a][c] = s sin(beta), m[b][c] = -s sin(alpha) cos(beta),
    // m[c][c] = cos(alpha) cos(beta), m[a][b] = -s cos(beta) sin(gamma), m[a][a] = cos(beta)
    // cos(gamma).
    const double s = (b == (a + 1) % 3) ? 1.0 : -1.0;
    const double sinB = std::clamp(s * m[a][c], -1.0, 1.0);
    const double cosB = std::sqrt(std::max(0.0, 1.0 - sinB * sinB));
    if (cosB < kGimbalCos) {
        // Keep alpha, solve gamma from Rc(gamma) = (Ra(alpha) Rb(beta))^T R.
        const double beta = sinB > 0 ? kPi / 2 : -kPi / 2;
        const double alpha = previous[0];
        const Mat3 rest =
            (Mat3::axisRotation(a, alpha) * Mat3::axisRotation(b, beta)).transposed() * rotation;
        const int i = (c + 1) % 3, j = (c + 2) % 3;
        const double gamma = std::atan2(rest.m[j][i], rest.m[i][i]);
        return {alpha, nearestWrap(beta, previous[1]), nearestWrap(gamma, previous[2])};
    }
    const double alpha = std::atan2(-s * m[b][c], m[c][c]);
    const double beta = std::atan2(sinB, cosB);
    const double gamma = std::atan2(-s * m[a][b], m[a][a]);
    // The other solution of the same rotation: (alpha + pi, pi - beta, gamma + pi).
    const Vec3 first{nearestWrap(alpha, previous[0]), nearestWrap(beta, previous[1]),
                     nearestWrap(gamma, previous[2])};
    const Vec3 second{nearestWrap(alpha + kPi, previous[0]), nearestWrap(kPi - beta, previous[1]),
                      nearestWrap(gamma + kPi, previous[2])};
    const Vec3 d1 = first - previous, d2 = second - previous;
    return dot(d1, d1) <= dot(d2, d2) ? first : second;
}

} // namespace mp
