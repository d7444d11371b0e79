// motionpref-cli motion info: what a motion file holds and how clean it is. Reading is
// ml/data/motion_file (.npy, telling features from joints) and app/export/motion_io (.bvh);
// the numbers are summarizeMotion's, which the GUI shows too.

#include "app/cli/context.h"
#include "app/export/motion_io.h"
#include "ml/core/error.h"
#include "ml/data/motion_file.h"

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <optional>

namespace mp::cli {
namespace {

std::string fixed(double value, int decimals)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

// fps: the rate of a .npy (which has none), or a relabelling of a .bvh's when given.
MotionData readAny(const std::string &file, std::optional<double> fps)
{
    if (motionFormatOf(file) == MotionFormat::Npy)
        return readMotionNpy(file, fps.value_or(20.0));
    const LoadedMotion loaded = readMotion(file);
    const MotionClip clip = asSmpl22(loaded.clip).value_or(loaded.clip);
    MotionData motion;
    motion.fps = fps.value_or(clip.fps);
    motion.joints = torch::from_blob(const_cast<float *>(clip.positions.data()),
                                     {clip.numFrames, clip.numJoints, 3}, torch::kFloat32)
                        .clone();
    return motion;
}

int runInfo(const ParsedArgs &args, const Context &)
{
    const std::string file = args.positional(0, "FILE");
    std::optional<double> fps;
    if (args.has("fps")) {
        fps = args.doubleValue("fps");
        if (!(*fps > 0) || *fps > 1000)
            throw InputError("--fps must be in (0, 1000], got '" + args.value("fps") + "'");
    }
    const MotionData motion = readAny(file, fps);
    const MotionSummary s = summarizeMotion(motion);
    const bool features = motion.source == MotionKind::Features;
    const std::string kind = features ? "features" : "joints";
    if (args.flag("json")) {
        nlohmann::json out = {
            {"file", file},
            {"kind", kind},
            {"frames", s.numFrames},
            {"joints", s.numJoints},
            {"fps", s.fps},
            {"duration_s", s.durationS},
            {"bounds_min_m", s.boundsMinM},
            {"bounds_max_m", s.boundsMaxM},
            {"root_path_m", s.rootPathLengthM},
            {"height_m", s.heightM},
        };
        if (s.hasQuality) {
            out["skating_ratio"] = s.quality.skatingRatio;
            out["penetration_mean_m"] = s.quality.penetrationMeanM;
            out["penetration_max_m"] = s.quality.penetrationMaxM;
            out["floating_mean_m"] = s.quality.floatingMeanM;
            out["jerk_mean_m_per_s3"] = s.quality.jerkMeanMPerS3;
        }
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    auto range = [&](int k) {
        return "[" + fixed(s.boundsMinM[k], 3) + ", " + fixed(s.boundsMaxM[k], 3) + "]";
    };
    std::cout << "file         " << file << "\n"
              << "kind         "
              << (features ? "features (T,263)"
                           : "joints (T," + std::to_string(s.numJoints) + ",3)")
              << "\n"
              << "frames       " << s.numFrames << "\n"
              << "fps          " << fixed(s.fps, 2) << "\n"
              << "duration     " << fixed(s.durationS, 2) << " s\n"
              << "bounds       x " << range(0) << "  y " << range(1) << "  z " << range(2) << " m\n"
              << "root path    " << fixed(s.rootPathLengthM, 3) << " m\n"
              << "height       " << fixed(s.heightM, 3) << " m\n";
    if (!s.hasQuality) {
        std::cout << "skating      n/a (needs an SMPL-22 skeleton and 2 frames)\n";
        return 0;
    }
    std::cout << "skating      " << fixed(s.quality.skatingRatio, 4)
              << " (GMD ratio: toes below 5 cm moving over 0.5 m/s)\n"
              << "penetration  " << fixed(s.quality.penetrationMeanM, 4) << " m mean, "
              << fixed(s.quality.penetrationMaxM, 4) << " m max\n"
              << "jerk         " << fixed(s.quality.jerkMeanMPerS3, 1) << " m/s^3 mean\n";
    return 0;
}

const CommandRegistration infoCommand{{
    .path = "motion info",
    .summary = "frames, fps, duration, bounds and quality (foot skating) of a motion file",
    .usage = "FILE",
    .description = "FILE is a .npy with HumanML3D features (T,263) or joints (T,22,3), told\n"
                   "apart by shape (features are recovered to joints first), or a .bvh.\n"
                   "A .npy has no frame rate: --fps gives it (default 20).",
    .options = {{"fps", "FPS", "frame rate of a .npy (default 20); relabels a .bvh", ""},
                {"json", "", "print one JSON object instead of text", ""}},
    .usesTorch = false,
    .run = runInfo,
}};

} // namespace
} // namespace mp::cli
