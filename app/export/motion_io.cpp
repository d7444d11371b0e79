#include "app/export/motion_io.h"

#include "app/export/bvh_format.h"
#include "app/export/bvh_reader.h"
#include "app/export/fbx_writer.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "ml/motion/skeleton.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace mp {

namespace {

// HumanML3D's frame rate: what a bare .npy of joints or features means.
constexpr double kHumanMl3dFps = 20.0;

std::string shapeText(const at::Tensor &t)
{
    std::string out = "(";
    for (int64_t d = 0; d < t.dim(); ++d)
        out += (d ? ", " : "") + std::to_string(t.size(d));
    return out + ")";
}

LoadedMotion readNpy(const std::filesystem::path &path, const MotionReadOptions &options)
{
    at::Tensor data = npy::read(path);
    if (!data.is_floating_point())
        data = data.to(torch::kFloat64);
    const double fps = options.fps > 0 ? options.fps : kHumanMl3dFps;
    const std::string name = path.string();
    if (data.numel() > 0 && !torch::isfinite(data).all().item<bool>())
        throw InputError(name + ": holds NaN or infinite values");

    LoadedMotion loaded;
    at::Tensor joints;
    if (data.dim() == 2 && data.size(1) == kFeatureDim) {
        joints = recoverFromRic(data.to(torch::kFloat32));
    } else if (data.dim() == 2 && data.size(1) == 3 * kNumJoints) {
        joints = data.view({data.size(0), kNumJoints, 3});
    } else if (data.dim() == 3 && data.size(2) == 3 && data.size(1) > 0) {
        joints = data;
    } else {
        throw InputError(name +
                         ": expected joints (T, 22, 3) or HumanML3D features (T, 263), got " +
                         shapeText(data));
    }
    joints = joints.to(torch::kFloat32).contiguous();
    if (joints.size(1) == kNumJoints) {
        loaded.clip = toMotionClip(joints, smpl22(), fps);
        loaded.isSmpl22 = true;
        return loaded;
    }
    // Another skeleton's joints (e.g. written from a BVH): positions only, no hierarchy.
    MotionClip &clip = loaded.clip;
    clip.numFrames = static_cast<int>(joints.size(0));
    clip.numJoints = static_cast<int>(joints.size(1));
    clip.positions.assign(joints.data_ptr<float>(), joints.data_ptr<float>() + joints.numel());
    clip.parents.assign(clip.numJoints, -1);
    clip.sides.assign(clip.numJoints, BodySide::Center);
    for (int j = 0; j < clip.numJoints; ++j)
        clip.jointNames.push_back("joint" + std::to_string(j));
    clip.fps = fps;
    return loaded;
}

at::Tensor positionsTensor(const MotionClip &clip)
{
    return torch::from_blob(const_cast<float *>(clip.positions.data()),
                            {clip.numFrames, clip.numJoints, 3}, torch::kFloat32)
        .clone();
}

// The BVH to write: the imported one as it is (scaled to the requested units), or IK on SMPL-22.
BvhMotion bvhFor(const LoadedMotion &motion, const MotionWriteOptions &options)
{
    const double unitM = options.units == LengthUnit::Centimetres ? 0.01 : 1.0;
    if (motion.bvh) {
        BvhMotion out = *motion.bvh;
        const double sourceM =
            out.metresPerUnit > 0 ? out.metresPerUnit : guessBvhMetresPerUnit(out);
        const double factor = sourceM / unitM;
        if (std::abs(factor - 1.0) > 1e-12) {
            for (BvhJoint &joint : out.joints) {
                joint.offset = factor * joint.offset;
                joint.endSiteOffset = factor * joint.endSiteOffset;
                for (std::size_t c = 0; c < joint.channels.size(); ++c) {
                    if (joint.channels[c] >= BvhChannel::Xrotation)
                        continue;
                    for (int f = 0; f < out.numFrames; ++f)
                        out.values[static_cast<std::size_t>(f) * out.numChannels +
                                   joint.firstChannel + c] *= factor;
                }
            }
        }
        out.metresPerUnit = unitM;
        if (options.fps > 0)
            out.frameTimeS = 1.0 / options.fps;
        return out;
    }
    const std::optional<MotionClip> smpl = motion.isSmpl22 ? motion.clip : asSmpl22(motion.clip);
    if (!smpl)
        throw InputError("BVH and FBX export need the 22-joint SMPL skeleton or a BVH input; got " +
                         std::to_string(motion.clip.numJoints) + " joints without a hierarchy");
    return jointsToBvh(*smpl, {.units = options.units, .fps = options.fps});
}

void writeNpy(const std::filesystem::path &path, const LoadedMotion &motion,
              const MotionWriteOptions &options)
{
    if (options.npyContent == NpyContent::Joints) {
        // SMPL-22 joints (also from a BVH this app wrote) in HumanML3D's joint order.
        std::optional<MotionClip> smpl;
        if (!motion.isSmpl22 && motion.clip.numJoints == kNumJoints)
            smpl = asSmpl22(motion.clip);
        npy::write(path, positionsTensor(smpl ? *smpl : motion.clip));
        return;
    }
    const std::optional<MotionClip> smpl = motion.isSmpl22 ? motion.clip : asSmpl22(motion.clip);
    if (!smpl)
        throw InputError("HumanML3D features need the 22-joint SMPL skeleton; the motion has " +
                         std::to_string(motion.clip.numJoints) + " joints");
    if (smpl->numFrames < 2)
        throw InputError("HumanML3D features need at least 2 frames, the motion has " +
                         std::to_string(smpl->numFrames));
    npy::write(path, extractFeatures(positionsTensor(*smpl)).to(torch::kFloat32));
}

} // namespace

MotionFormat motionFormatOf(const std::filesystem::path &path)
{
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string expected;
    for (const MotionFormatInfo &info : kMotionFormats) {
        if (ext == "." + std::string(info.suffix))
            return info.format;
        expected += (expected.empty() ? "." : ", .") + std::string(info.suffix);
    }
    throw InputError(path.string() + ": unknown motion format '" + ext + "' (expected " + expected +
                     ")");
}

std::string motionFormatsHelp()
{
    std::string text;
    for (const MotionFormatInfo &info : kMotionFormats) {
        std::string suffix = "." + std::string(info.suffix);
        suffix.resize(std::max<std::size_t>(suffix.size() + 1, 7), ' ');
        text += "  " + suffix + std::string(info.help) + "\n";
    }
    return text;
}

LoadedMotion readMotion(const std::filesystem::path &path, const MotionReadOptions &options)
{
    switch (motionFormatOf(path)) {
    case MotionFormat::Npy:
        return readNpy(path, options);
    case MotionFormat::Bvh: {
        LoadedMotion loaded;
        loaded.bvh = readBvh(path);
        if (options.fps > 0)
            loaded.bvh->frameTimeS = 1.0 / options.fps;
        loaded.clip = bvhToMotionClip(*loaded.bvh);
        return loaded;
    }
    case MotionFormat::Fbx:
    case MotionFormat::FbxAscii:
        break;
    }
    throw InputError(path.string() + ": reading FBX is not supported (Assimp 5.2 drops the "
                                     "animation of binary FBX); read .bvh or .npy instead");
}

void writeMotion(const std::filesystem::path &path, const LoadedMotion &motion,
                 const MotionWriteOptions &options)
{
    const MotionFormat format = motionFormatOf(path);
    try {
        switch (format) {
        case MotionFormat::Npy:
            writeNpy(path, motion, options);
            break;
        case MotionFormat::Bvh:
            writeBvhFile(path, bvhFor(motion, options));
            break;
        case MotionFormat::Fbx:
        case MotionFormat::FbxAscii:
            writeFbx(
                path, bvhFor(motion, options),
                {.format = format == MotionFormat::Fbx ? FbxFormat::Binary : FbxFormat::Ascii});
            break;
        }
    } catch (const InputError &e) {
        // Keep messages that already name the file as they are.
        if (std::string(e.what()).rfind(path.string(), 0) == 0)
            throw;
        throw InputError(path.string() + ": " + e.what());
    }
}

std::optional<MotionClip> asSmpl22(const MotionClip &clip)
{
    const Skeleton &skeleton = smpl22();
    std::vector<int> source(kNumJoints);
    for (int j = 0; j < kNumJoints; ++j) {
        const auto it =
            std::find(clip.jointNames.begin(), clip.jointNames.end(), skeleton.jointNames[j]);
        if (it == clip.jointNames.end())
            return std::nullopt;
        source[j] = static_cast<int>(it - clip.jointNames.begin());
    }
    MotionClip out;
    out.numFrames = clip.numFrames;
    out.numJoints = kNumJoints;
    out.parents = skeleton.parents;
    out.sides = skeleton.sides;
    out.jointNames = skeleton.jointNames;
    out.fps = clip.fps;
    out.positions.resize(static_cast<std::size_t>(clip.numFrames) * kNumJoints * 3);
    for (int f = 0; f < clip.numFrames; ++f)
        for (int j = 0; j < kNumJoints; ++j) {
            const auto p = clip.position(f, source[j]);
            std::copy(p.begin(), p.end(),
                      out.positions.begin() + (static_cast<std::size_t>(f) * kNumJoints + j) * 3);
        }
    return out;
}

std::string convertMotion(const std::filesystem::path &input, const std::filesystem::path &output,
                          const ConvertOptions &options)
{
    motionFormatOf(output); // refuse an unknown output type before reading anything
    const LoadedMotion motion = readMotion(input, options.read);
    writeMotion(output, motion, options.write);
    const double fps = options.write.fps > 0 ? options.write.fps : motion.clip.fps;
    int frames = motion.clip.numFrames;
    if (motionFormatOf(output) == MotionFormat::Npy &&
        options.write.npyContent == NpyContent::Features)
        frames = std::max(0, frames - 1);
    char fpsText[32];
    const auto end = std::to_chars(fpsText, fpsText + sizeof fpsText, fps).ptr; // '.' always
    return output.string() + ": " + std::to_string(frames) + " frames, " +
           std::to_string(motion.clip.numJoints) + " joints, " + std::string(fpsText, end) + " fps";
}

} // namespace mp
