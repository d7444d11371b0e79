#include "ml/data/corpus/corpus_stats.h"

#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/data/npy.h"
#include "ml/motion/quality.h"
#include "ml/motion/skeleton.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <vector>

namespace fs = std::filesystem;

namespace mp::corpus {
namespace {

constexpr float kPi = 3.14159265358979f;
// Ranges a body reaches, as angles between the two bones at a joint (0 = straight).
constexpr float kMaxKneeFlexDeg = 160;
constexpr float kMaxKneeHyperextensionDeg = 15;
constexpr float kMaxElbowFlexDeg = 160;
constexpr float kMaxNeckBendDeg = 75;

using Vec = std::array<float, 3>;

Vec sub(const Vec &a, const Vec &b)
{
    return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}
float dot(const Vec &a, const Vec &b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
Vec cross(const Vec &a, const Vec &b)
{
    return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
float norm(const Vec &a)
{
    return std::sqrt(dot(a, a));
}
float angleDeg(const Vec &a, const Vec &b)
{
    const float c = dot(a, b) / std::max(norm(a) * norm(b), 1e-9f);
    return std::acos(std::clamp(c, -1.0f, 1.0f)) * 180.0f / kPi;
}

// Whether frame t of p (T, 22, 3) bends a knee, elbow or the neck beyond a human range.
bool violatesLimits(const at::TensorAccessor<float, 3> &p, int t)
{
    const auto pos = [&](int j) { return Vec{p[t][j][0], p[t][j][1], p[t][j][2]}; };
    const Vec lateral = sub(pos(1), pos(2)); // right hip to left hip
    for (const auto &[hip, knee, ankle] : {std::array{1, 4, 7}, std::array{2, 5, 8}}) {
        const Vec thigh = sub(pos(knee), pos(hip)), shank = sub(pos(ankle), pos(knee));
        const float flex = angleDeg(thigh, shank);
        // Knees bend backwards only: the shank turns about the lateral axis one way.
        const bool backwards = dot(cross(thigh, shank), lateral) >= 0;
        if (flex > kMaxKneeFlexDeg || (!backwards && flex > kMaxKneeHyperextensionDeg))
            return true;
    }
    for (const auto &[shoulder, elbow, wrist] : {std::array{16, 18, 20}, std::array{17, 19, 21}})
        if (angleDeg(sub(pos(elbow), pos(shoulder)), sub(pos(wrist), pos(elbow))) >
            kMaxElbowFlexDeg)
            return true;
    return angleDeg(sub(pos(12), pos(9)), sub(pos(15), pos(12))) > kMaxNeckBendDeg;
}

int countCaptions(const fs::path &file)
{
    std::ifstream in(file);
    int count = 0;
    std::string line;
    while (std::getline(in, line))
        count += line.find('#') != std::string::npos;
    return count;
}

} // namespace

CorpusStats corpusStats(const fs::path &directory, const ProgressFn &progress)
{
    const fs::path jointsDir = directory / "new_joints";
    if (!fs::is_directory(jointsDir))
        throw InputError(directory.string() + ": no new_joints directory (not a HumanML3D layout)");
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(jointsDir))
        if (entry.path().extension() == ".npy")
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (files.empty())
        throw InputError(jointsDir.string() + ": no .npy files");

    CorpusStats stats;
    const auto &parents = smpl22().parents;
    double floatingSum = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        reportProgress(progress, std::int64_t(i), std::int64_t(files.size()), "clips");
        const at::Tensor joints = npy::read(files[i]).to(torch::kFloat32).contiguous();
        if (joints.dim() != 3 || joints.size(1) != 22 || joints.size(2) != 3 || joints.size(0) < 2)
            throw InputError(files[i].string() + ": expected shape (T,22,3), got " +
                             c10::str(joints.sizes()));
        const int frames = static_cast<int>(joints.size(0));
        ++stats.numClips;
        stats.numFrames += frames;
        const double skating = footSkatingRatio(joints);
        stats.skatingRatioMean += skating;
        stats.skatingRatioMax = std::max(stats.skatingRatioMax, skating);
        const auto lowest = std::get<0>(joints.select(2, 1).min(1)); // (T)
        stats.penetrationMaxM = std::max(stats.penetrationMaxM, -lowest.min().item<double>());
        floatingSum += lowest.clamp_min(0).sum().item<double>();
        // Bone lengths against the clip's mean length of each bone.
        const auto child = joints.slice(1, 1);
        const auto parent = joints.index_select(
            1, torch::tensor(std::vector<int64_t>(parents.begin() + 1, parents.end())));
        const auto lengths = (child - parent).norm(2, 2); // (T, 21)
        stats.boneLengthMaxErrorM =
            std::max(stats.boneLengthMaxErrorM,
                     (lengths - lengths.mean(0, true)).abs().max().item<double>());
        const auto p = joints.accessor<float, 3>();
        for (int t = 0; t < frames; ++t)
            stats.jointLimitViolations += violatesLimits(p, t);
        const fs::path text = directory / "texts" / (files[i].stem().string() + ".txt");
        stats.numCaptions += fs::exists(text) ? countCaptions(text) : 0;
    }
    reportProgress(progress, std::int64_t(files.size()), std::int64_t(files.size()), "clips");
    stats.skatingRatioMean /= stats.numClips;
    stats.floatingMeanM = floatingSum / double(stats.numFrames);
    stats.durationMeanS = double(stats.numFrames) / stats.numClips / 20.0;

    const fs::path manifestPath = directory / "manifest.json";
    if (fs::exists(manifestPath)) {
        std::ifstream in(manifestPath);
        try {
            const auto manifest = parseJsonLimited(manifestPath.string(), in);
            for (const auto &[name, count] : manifest.at("action_counts").items())
                stats.actionCounts[name] = count.get<int>();
        } catch (const nlohmann::json::exception &e) {
            throw InputError(manifestPath.string() + ": " + e.what());
        }
    }
    return stats;
}

std::string formatStats(const CorpusStats &s)
{
    std::string out;
    char line[160];
    const auto add = [&](const char *format, auto... values) {
        std::snprintf(line, sizeof line, format, values...);
        out += line;
    };
    add("clips                 %d\n", s.numClips);
    add("captions              %d (%.2f per clip)\n", s.numCaptions,
        s.numClips ? double(s.numCaptions) / s.numClips : 0.0);
    add("frames                %lld (mean %.2f s at 20 fps)\n", s.numFrames, s.durationMeanS);
    add("foot skating ratio    %.4f mean, %.4f max (GMD: foot < 5 cm moving > 2.5 cm/frame)\n",
        s.skatingRatioMean, s.skatingRatioMax);
    add("floor penetration     %.4f m max\n", s.penetrationMaxM);
    add("lowest joint height   %.4f m mean (0 while standing, > 0 in flight)\n", s.floatingMeanM);
    add("bone length variation %.2e m max\n", s.boneLengthMaxErrorM);
    add("joint-limit frames    %lld (knee/elbow/neck beyond human range)\n",
        s.jointLimitViolations);
    if (!s.actionCounts.empty()) {
        out += "actions:\n";
        for (const auto &[name, count] : s.actionCounts)
            add("  %-16s %d\n", name.c_str(), count);
    }
    return out;
}

} // namespace mp::corpus
