// Motion files by extension: every conversion that makes sense among .npy (joints, features),
// .bvh and .fbx, and clear errors for the ones that do not.

#include "app/export/bvh_motion.h"
#include "app/export/bvh_reader.h"
#include "app/export/fbx_binary_fix.h"
#include "app/export/motion_io.h"
#include "app/export/save_file.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include "input_error.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

namespace {

namespace fs = std::filesystem;

using mp::test::TempDir;

// A walking-ish SMPL-22 clip (T, 22, 3) by forward kinematics, turning slowly.
torch::Tensor walkingJoints(int frames)
{
    const auto t = torch::arange(frames, torch::kFloat32) / 20.0;
    auto axisAngles = torch::zeros({frames, 22, 3});
    axisAngles.select(1, 1).select(1, 0) = -0.5 * torch::sin(6.28f * t);
    axisAngles.select(1, 2).select(1, 0) = 0.5 * torch::sin(6.28f * t);
    axisAngles.select(1, 4).select(1, 0) = 0.4 * (1 + torch::sin(6.28f * t + 1.5f));
    axisAngles.select(1, 16).select(1, 2) = torch::full({frames}, -1.2f);
    axisAngles.select(1, 17).select(1, 2) = torch::full({frames}, 1.2f);
    axisAngles.select(1, 0).select(1, 1) = 0.8 * t;
    auto local = mp::quat::fromAxisAngle(axisAngles + 1e-9f, axisAngles.norm(2, -1));
    auto root = torch::zeros({frames, 3});
    root.select(1, 1) = mp::smpl22().restRootHeightM();
    root.select(1, 2) = 1.1 * t;
    return mp::forwardKinematics(mp::smpl22(), root, local);
}

double maxDifference(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a - b).abs().max().item<double>();
}

using mp::test::errorOf;

} // namespace

TEST(MotionIo, FormatsByExtension)
{
    EXPECT_EQ(mp::motionFormatOf("a/b.NPY"), mp::MotionFormat::Npy);
    EXPECT_EQ(mp::motionFormatOf("x.bvh"), mp::MotionFormat::Bvh);
    EXPECT_EQ(mp::motionFormatOf("x.fbx"), mp::MotionFormat::Fbx);
    EXPECT_EQ(mp::motionFormatOf("x.fbxa"), mp::MotionFormat::FbxAscii);
    EXPECT_NE(errorOf([] { mp::motionFormatOf("clip.mp4"); }).find("clip.mp4"), std::string::npos);
}

TEST(MotionIo, NpyJointsToBvhAndBack)
{
    TempDir dir;
    const auto joints = walkingJoints(40);
    mp::npy::write(dir / "walk.npy", joints);
    mp::convertMotion(dir / "walk.npy", dir / "walk.bvh",
                      {.write = {.units = mp::LengthUnit::Centimetres}});
    const mp::BvhMotion bvh = mp::readBvh(dir / "walk.bvh");
    EXPECT_DOUBLE_EQ(bvh.fps(), 20.0);
    EXPECT_GT(bvh.joints[2].offset[1] * bvh.joints[2].offset[1], 100.0); // centimetres
    const std::string summary = mp::convertMotion(dir / "walk.bvh", dir / "back.npy");
    EXPECT_NE(summary.find("40 frames, 22 joints, 20 fps"), std::string::npos) << summary;
    const auto back = mp::npy::read(dir / "back.npy");
    // The BVH holds SMPL-22 in depth-first order; the .npy is back in SMPL order.
    ASSERT_EQ(back.sizes(), joints.sizes());
    EXPECT_LT(maxDifference(back, joints), 1e-4);
}

TEST(MotionIo, FeaturesToBvhAndBvhToFeatures)
{
    TempDir dir;
    const auto joints = walkingJoints(30);
    const auto features = mp::extractFeatures(joints);
    mp::npy::write(dir / "feats.npy", features);
    mp::convertMotion(dir / "feats.npy", dir / "feats.bvh", {.read = {.fps = 20}});
    const auto recovered = mp::recoverFromRic(features);
    const mp::LoadedMotion loaded = mp::readMotion(dir / "feats.bvh");
    const auto smpl = mp::asSmpl22(loaded.clip);
    ASSERT_TRUE(smpl.has_value());
    EXPECT_EQ(smpl->numFrames, 29);
    const auto positions =
        torch::from_blob(const_cast<float *>(smpl->positions.data()), {29, 22, 3}).clone();
    EXPECT_LT(maxDifference(positions, recovered), 1e-4);

    // Our own BVH goes back to HumanML3D features (T - 1 frames).
    mp::convertMotion(dir / "feats.bvh", dir / "again.npy",
                      {.write = {.npyContent = mp::NpyContent::Features}});
    const auto again = mp::npy::read(dir / "again.npy");
    EXPECT_EQ(again.size(0), 28);
    EXPECT_EQ(again.size(1), 263);
}

TEST(MotionIo, AnyBvhToJointsAndFbx)
{
    TempDir dir;
    const std::string text =
        "HIERARCHY\r\nROOT Hips\r\n{\r\n\tOFFSET 0 90 0\r\n"
        "\tCHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation\r\n"
        "\tJOINT LeftUpLeg\r\n\t{\r\n\t\tOFFSET 10 -5 0\r\n"
        "\t\tCHANNELS 3 Xrotation Zrotation Yrotation\r\n"
        "\t\tEnd Site\r\n\t\t{\r\n\t\t\tOFFSET 0 -40 0\r\n\t\t}\r\n\t}\r\n}\r\n"
        "MOTION\r\nFrames: 3\r\nFrame Time: 0.0333333\r\n"
        "0 90 0 0 0 0 10 0 0\r\n1 90 0 30 0 0 20 0 5\r\n2 90 0 60 0 0 30 0 10\r\n";
    mp::saveFileAtomically(dir / "cmu.bvh", text);
    mp::convertMotion(dir / "cmu.bvh", dir / "cmu.npy");
    const auto joints = mp::npy::read(dir / "cmu.npy");
    ASSERT_EQ(joints.dim(), 3);
    EXPECT_EQ(joints.size(0), 3);
    EXPECT_EQ(joints.size(1), 2);
    EXPECT_NEAR(joints[0][0][1].item<float>(), 0.9f, 1e-6); // centimetres guessed, metres out
    // BVH -> FBX keeps the file's own skeleton.
    mp::convertMotion(dir / "cmu.bvh", dir / "cmu.fbx");
    const mp::FbxBinaryCheck check = mp::checkFbxBinary(mp::readWholeFile(dir / "cmu.fbx"));
    EXPECT_TRUE(check.valid) << check.problem;
    EXPECT_NE(mp::readWholeFile(dir / "cmu.fbx").find("LeftUpLeg"), std::string::npos);
    // BVH -> BVH in metres scales offsets and positions.
    mp::convertMotion(dir / "cmu.bvh", dir / "m.bvh",
                      {.write = {.units = mp::LengthUnit::Metres, .fps = 60}});
    const mp::BvhMotion m = mp::readBvh(dir / "m.bvh");
    EXPECT_NEAR(m.joints[0].offset[1], 0.9, 1e-9);
    EXPECT_NEAR(m.value(2, 1), 0.9, 1e-9);
    EXPECT_NEAR(m.fps(), 60.0, 1e-9);
    // Features need SMPL-22.
    const std::string error = errorOf([&] {
        mp::convertMotion(dir / "cmu.bvh", dir / "f.npy",
                          {.write = {.npyContent = mp::NpyContent::Features}});
    });
    EXPECT_NE(error.find("f.npy"), std::string::npos) << error;
    EXPECT_NE(error.find("SMPL"), std::string::npos) << error;
}

TEST(MotionIo, NpyToFbxBothVariants)
{
    TempDir dir;
    mp::npy::write(dir / "walk.npy", walkingJoints(12));
    mp::convertMotion(dir / "walk.npy", dir / "walk.fbx");
    EXPECT_TRUE(mp::checkFbxBinary(mp::readWholeFile(dir / "walk.fbx")).valid);
    mp::convertMotion(dir / "walk.npy", dir / "walk.fbxa");
    EXPECT_EQ(mp::readWholeFile(dir / "walk.fbxa").rfind("; FBX", 0), 0u);
}

TEST(MotionIo, ClearErrors)
{
    TempDir dir;
    mp::npy::write(dir / "bad.npy", torch::zeros({10, 21, 2}));
    std::string error = errorOf([&] { mp::convertMotion(dir / "bad.npy", dir / "x.bvh"); });
    EXPECT_NE(error.find("bad.npy"), std::string::npos) << error;
    EXPECT_NE(error.find("(10, 21, 2)"), std::string::npos) << error;

    auto nan = walkingJoints(3);
    nan[1][4][0] = std::numeric_limits<float>::quiet_NaN();
    mp::npy::write(dir / "nan.npy", nan);
    error = errorOf([&] { mp::convertMotion(dir / "nan.npy", dir / "x.bvh"); });
    EXPECT_NE(error.find("nan.npy"), std::string::npos) << error;

    mp::npy::write(dir / "other.npy", torch::zeros({5, 17, 3}));
    error = errorOf([&] { mp::convertMotion(dir / "other.npy", dir / "x.bvh"); });
    EXPECT_NE(error.find("x.bvh"), std::string::npos) << error;
    EXPECT_NE(error.find("22"), std::string::npos) << error;

    error = errorOf([&] { mp::convertMotion(dir / "walk.fbx", dir / "x.bvh"); });
    EXPECT_NE(error.find("not supported"), std::string::npos) << error;
    error = errorOf([&] { mp::convertMotion(dir / "missing.bvh", dir / "x.npy"); });
    EXPECT_NE(error.find("missing.bvh"), std::string::npos) << error;
    EXPECT_FALSE(fs::exists(dir / "x.npy"));
}
