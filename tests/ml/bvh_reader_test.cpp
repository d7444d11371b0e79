// BVH reader: odd but legal files (tabs, CRLF, blank lines, mixed rotation orders, 6-channel
// joints, zero and one frame, 100-joint rigs) and bad files (a clear error with the line number).

#include "app/export/bvh_format.h"
#include "app/export/bvh_motion.h"
#include "app/export/bvh_reader.h"
#include "app/export/save_file.h"
#include "ml/core/error.h"
#include "ml/motion/motion_clip.h"

#include "assimp_fk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>

namespace {

// Three joints, tabs for indentation, a 6-channel non-root joint, three rotation orders.
const char *kSmallRig =
    "HIERARCHY\n"
    "ROOT Hips\n"
    "{\n"
    "\tOFFSET 0 0 0\n"
    "\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
    "\tJOINT Chest\n"
    "\t{\n"
    "\t\tOFFSET\t0\t10\t0\n"
    "\t\tCHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation\n"
    "\t\tEnd Site\n"
    "\t\t{\n"
    "\t\t\tOFFSET 0 5 0\n"
    "\t\t}\n"
    "\t}\n"
    "\tJOINT LeftLeg\n"
    "\t{\n"
    "\t\tOFFSET 2 -10 0\n"
    "\t\tCHANNELS 3 Yrotation Xrotation Zrotation\n"
    "\t\tEnd Site\n"
    "\t\t{\n"
    "\t\t\tOFFSET 0 -10 0\n"
    "\t\t}\n"
    "\t}\n"
    "}\n"
    "MOTION\n"
    "Frames: 3\n"
    "Frame Time: 0.05\n"
    "0 0 0 0 0 0\t0 10 0 0 0 0 0 0 0\n"
    "\n"
    "1 2 3 90 0 0 0 10 0 0 0 0 0 0 0\n"
    "0 0 0 90 90 0 0 10 0 0 0 0 0 0 0\n";

std::string withCrlf(const std::string &text)
{
    std::string out;
    for (const char c : text) {
        if (c == '\n')
            out += '\r';
        out += c;
    }
    return out;
}

void expectNear(const mp::Vec3 &actual, const mp::Vec3 &expected, double tolerance = 1e-9)
{
    for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(actual[k], expected[k], tolerance) << "component " << k;
}

// The message of the InputError thrown by parsing text (empty when it parses).
std::string parseError(const std::string &text)
{
    try {
        mp::parseBvh(text, "bad.bvh");
    } catch (const mp::InputError &e) {
        return e.what();
    }
    return {};
}

std::string replaced(std::string text, const std::string &from, const std::string &to)
{
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

} // namespace

TEST(BvhReader, HierarchyChannelsAndEndSites)
{
    const mp::BvhMotion m = mp::parseBvh(kSmallRig, "small.bvh");
    ASSERT_EQ(m.numJoints(), 3);
    EXPECT_EQ(m.joints[0].name, "Hips");
    EXPECT_EQ(m.joints[1].name, "Chest");
    EXPECT_EQ(m.joints[2].name, "LeftLeg");
    EXPECT_EQ(m.joints[1].parent, 0);
    EXPECT_EQ(m.joints[2].parent, 0);
    EXPECT_EQ(m.numChannels, 15);
    EXPECT_EQ(m.joints[2].firstChannel, 12);
    EXPECT_EQ(m.joints[0].channels[3], mp::BvhChannel::Zrotation);
    EXPECT_EQ(m.joints[2].channels[0], mp::BvhChannel::Yrotation);
    EXPECT_TRUE(m.joints[1].hasEndSite);
    expectNear(m.joints[2].endSiteOffset, {0, -10, 0});
    expectNear(m.joints[2].offset, {2, -10, 0});
    EXPECT_EQ(m.numFrames, 3);
    EXPECT_DOUBLE_EQ(m.frameTimeS, 0.05);
    EXPECT_DOUBLE_EQ(m.fps(), 20.0);
}

TEST(BvhReader, ForwardKinematicsHonoursPerJointRotationOrder)
{
    const mp::BvhMotion m = mp::parseBvh(kSmallRig, "small.bvh");
    // Frame 1: root at (1,2,3) turned 90 degrees about Z.
    auto pose = mp::bvhGlobalPose(m, 1);
    expectNear(pose.positions[0], {1, 2, 3});
    expectNear(pose.positions[1], {-9, 2, 3});
    expectNear(pose.positions[2], {11, 4, 3});
    // Frame 2: root channels Z then X (R = Rz * Rx): the chest goes to +Z, not to -X as it
    // would with X applied first.
    pose = mp::bvhGlobalPose(m, 2);
    expectNear(pose.positions[1], {0, 0, 10});
}

TEST(BvhReader, CrlfAndTabsReadTheSame)
{
    const mp::BvhMotion a = mp::parseBvh(kSmallRig, "lf.bvh");
    const mp::BvhMotion b = mp::parseBvh(withCrlf(kSmallRig), "crlf.bvh");
    EXPECT_EQ(a.values, b.values);
    EXPECT_EQ(b.numJoints(), 3);
    EXPECT_EQ(b.joints[2].name, "LeftLeg");
}

TEST(BvhReader, MotionClipInMetresWithSidesAndEndSites)
{
    const mp::BvhMotion m = mp::parseBvh(kSmallRig, "small.bvh");
    EXPECT_DOUBLE_EQ(mp::guessBvhMetresPerUnit(m), 0.01); // 35 units tall: centimetres
    const mp::MotionClip clip = mp::bvhToMotionClip(m, {.includeEndSites = true});
    EXPECT_EQ(clip.numFrames, 3);
    ASSERT_EQ(clip.numJoints, 5);
    EXPECT_EQ(clip.jointNames[3], "Chest_end");
    EXPECT_EQ(clip.parents[4], 2);
    EXPECT_EQ(clip.sides[2], mp::BodySide::Left);
    EXPECT_EQ(clip.sides[1], mp::BodySide::Center);
    EXPECT_DOUBLE_EQ(clip.fps, 20.0);
    const auto leg = clip.position(1, 2);
    EXPECT_NEAR(leg[0], 0.11, 1e-6);
    EXPECT_NEAR(leg[1], 0.04, 1e-6);
    const auto legEnd = clip.position(1, 4); // (11,4,3) + Rz90 (0,-10,0) = (21,4,3)
    EXPECT_NEAR(legEnd[0], 0.21, 1e-6);
}

TEST(BvhReader, ZeroAndOneFrameAreLegal)
{
    std::string zero = kSmallRig;
    zero = zero.substr(0, zero.find("Frames:")) + "Frames: 0\nFrame Time: 0.0333333\n";
    const mp::BvhMotion m0 = mp::parseBvh(zero, "zero.bvh");
    EXPECT_EQ(m0.numFrames, 0);
    EXPECT_TRUE(m0.values.empty());
    EXPECT_EQ(mp::bvhToMotionClip(m0).numFrames, 0);

    std::string one = kSmallRig;
    one = one.substr(0, one.find("Frames:")) +
          "Frames:\t1\r\nFrame Time:\t0.0083333\r\n1 2 3 0 0 0 0 10 0 0 0 0 0 0 0";
    const mp::BvhMotion m1 = mp::parseBvh(one, "one.bvh");
    EXPECT_EQ(m1.numFrames, 1);
    EXPECT_NEAR(m1.fps(), 120.0, 1e-3);
    expectNear(mp::bvhGlobalPose(m1, 0).positions[0], {1, 2, 3});
}

TEST(BvhReader, HundredJointChainWithSixChannelsEverywhere)
{
    constexpr int kJoints = 100;
    constexpr double kDegrees = 3.0;
    std::string text = "HIERARCHY\n";
    for (int j = 0; j < kJoints; ++j) {
        text += std::string(j == 0 ? "ROOT" : "JOINT") + " J" + std::to_string(j) + "\n{\n";
        text += "OFFSET 1 0 0\nCHANNELS 6 Zrotation Xposition Yposition Zposition Yrotation "
                "Xrotation\n";
    }
    text += "End Site\n{\nOFFSET 1 0 0\n}\n";
    for (int j = 0; j < kJoints; ++j)
        text += "}\n";
    text += "MOTION\nFrames: 1\nFrame Time: 0.04\n";
    for (int j = 0; j < kJoints; ++j)
        text += (j == 0 ? "3 0 0 0 0 0 " : "3 1 0 0 0 0 ");
    text += "\n";
    const mp::BvhMotion m = mp::parseBvh(text, "chain.bvh");
    ASSERT_EQ(m.numJoints(), kJoints);
    EXPECT_EQ(m.numChannels, 6 * kJoints);
    const auto pose = mp::bvhGlobalPose(m, 0);
    // Joint n sits at sum_{k=1..n} (cos(k a), sin(k a)): each link turns a further a degrees.
    double x = 0, y = 0;
    const double a = kDegrees * std::numbers::pi / 180.0;
    for (int n = 1; n < kJoints; ++n) {
        x += std::cos(n * a);
        y += std::sin(n * a);
    }
    expectNear(pose.positions[kJoints - 1], {x, y, 0}, 1e-9);
}

TEST(BvhReader, NamesWithSpacesAndBraceOnTheSameLine)
{
    const std::string text = "HIERARCHY\nROOT Bip01 Pelvis {\n OFFSET 0 0 0\n CHANNELS 3 Xposition "
                             "Yposition Zposition\n JOINT Bip01 L Thigh\n {\n OFFSET 0 -1 0\n "
                             "CHANNELS 0\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3\n";
    const mp::BvhMotion m = mp::parseBvh(text, "max.bvh");
    ASSERT_EQ(m.numJoints(), 2);
    EXPECT_EQ(m.joints[0].name, "Bip01 Pelvis");
    EXPECT_EQ(m.joints[1].name, "Bip01 L Thigh");
    EXPECT_EQ(mp::bvhToMotionClip(m).sides[1], mp::BodySide::Left);
}

TEST(BvhReader, WriteThenReadKeepsEveryValue)
{
    const mp::BvhMotion a = mp::parseBvh(kSmallRig, "small.bvh");
    const mp::BvhMotion b = mp::parseBvh(mp::formatBvh(a), "again.bvh");
    ASSERT_EQ(b.numJoints(), a.numJoints());
    EXPECT_EQ(b.values, a.values);
    EXPECT_EQ(b.joints[2].channels, a.joints[2].channels);
    EXPECT_DOUBLE_EQ(b.frameTimeS, a.frameTimeS);
}

TEST(BvhReaderErrors, TruncatedFileNamesTheLine)
{
    std::string text = kSmallRig;
    text = text.substr(0, text.size() - 12); // cut the last motion line short
    const std::string error = parseError(text);
    EXPECT_NE(error.find("bad.bvh:31:"), std::string::npos) << error;
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(BvhReaderErrors, MissingMotionLines)
{
    std::string text = kSmallRig;
    text = text.substr(0, text.rfind("0 0 0 90 90"));
    const std::string error = parseError(text);
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
    EXPECT_NE(error.find("line 26"), std::string::npos) << error;
}

TEST(BvhReaderErrors, WrongNumberOfValuesOnALine)
{
    const std::string error = parseError(replaced(kSmallRig, "1 2 3 90 0 0 ", "1 2 3 90 0 0 7 "));
    EXPECT_NE(error.find("bad.bvh:30:"), std::string::npos) << error;
    EXPECT_NE(error.find("expected 15 values"), std::string::npos) << error;
    EXPECT_NE(error.find("found 16"), std::string::npos) << error;
}

TEST(BvhReaderErrors, NanAndInfinity)
{
    std::string error = parseError(replaced(kSmallRig, "1 2 3 90", "1 nan 3 90"));
    EXPECT_NE(error.find("bad.bvh:30:"), std::string::npos) << error;
    EXPECT_NE(error.find("not finite"), std::string::npos) << error;
    error = parseError(replaced(kSmallRig, "OFFSET 2 -10 0", "OFFSET 2 -inf 0"));
    EXPECT_NE(error.find("bad.bvh:17:"), std::string::npos) << error;
    error = parseError(replaced(kSmallRig, "1 2 3 90", "1 2 1e999 90"));
    EXPECT_NE(error.find("not finite"), std::string::npos) << error;
    error = parseError(replaced(kSmallRig, "1 2 3 90", "1 2 3,5 90"));
    EXPECT_NE(error.find("bad.bvh:30:"), std::string::npos) << error;
}

TEST(BvhReaderErrors, UnknownChannelName)
{
    const std::string error =
        parseError(replaced(kSmallRig, "CHANNELS 3 Yrotation", "CHANNELS 3 Wrotation"));
    EXPECT_NE(error.find("bad.bvh:18:"), std::string::npos) << error;
    EXPECT_NE(error.find("Wrotation"), std::string::npos) << error;
}

TEST(BvhReaderErrors, FrameCountMismatch)
{
    const std::string error = parseError(replaced(kSmallRig, "Frames: 3", "Frames: 2"));
    EXPECT_NE(error.find("bad.bvh:31:"), std::string::npos) << error;
    EXPECT_NE(error.find("Frames: 2"), std::string::npos) << error;
}

TEST(BvhReaderErrors, MissingBraces)
{
    std::string error = parseError(replaced(kSmallRig, "\t}\n\tJOINT LeftLeg", "\tJOINT LeftLeg"));
    // Now LeftLeg nests in Chest and the file reaches MOTION with Hips still open.
    EXPECT_NE(error.find("missing '}'"), std::string::npos) << error;
    EXPECT_NE(error.find("bad.bvh:24:"), std::string::npos) << error;
    error = parseError(replaced(kSmallRig, "ROOT Hips\n{", "ROOT Hips\n"));
    EXPECT_NE(error.find("bad.bvh:4:"), std::string::npos) << error;
    EXPECT_NE(error.find("expected '{'"), std::string::npos) << error;
    error = parseError("HIERARCHY\nROOT A\n{\nOFFSET 0 0 0\n");
    EXPECT_NE(error.find("missing '}'"), std::string::npos) << error;
}

TEST(BvhReaderErrors, NotABvhFile)
{
    EXPECT_NE(parseError("").find("expected HIERARCHY"), std::string::npos);
    EXPECT_NE(parseError("\x89PNG\r\n").find("bad.bvh:1:"), std::string::npos);
    EXPECT_THROW(mp::readBvh("/nonexistent/x.bvh"), mp::InputError);
}

// Assimp's BVH loader, an independent reader, agrees with ours on the odd fixture: per-joint
// rotation orders, a 6-channel child joint, tabs and CRLF.
TEST(BvhReader, AgreesWithAssimpOnMixedOrdersAndSixChannelJoints)
{
    const auto path = std::filesystem::temp_directory_path() /
                      ("mp_bvh_reader_assimp_" + std::to_string(::getpid()) + ".bvh");
    std::string text = withCrlf(kSmallRig);
    // Non-trivial angles on every channel so that a wrong order shows.
    const auto motionAt = text.find("Frame Time: 0.05\r\n") + 18;
    text = text.substr(0, motionAt) + "0.5 1 2 10 20 30 0 10 1 40 -50 60 15 -25 35\r\n"
                                      "-1 2 0.3 -70 80 -90 1 11 -1 -30 20 170 -45 60 -120\r\n"
                                      "2 0 1 100 -10 45 0.5 9 0 5 95 -5 80 -80 10\r\n";
    mp::saveFileAtomically(path, text);
    const mp::BvhMotion motion = mp::readBvh(path);
    const auto imported = mp::test::importWithAssimp(path.string(), {"Hips", "Chest", "LeftLeg"},
                                                     motion.numFrames, motion.fps());
    std::filesystem::remove(path);
    for (int f = 0; f < motion.numFrames; ++f) {
        const auto pose = mp::bvhGlobalPose(motion, f);
        for (int j = 0; j < motion.numJoints(); ++j)
            expectNear(imported.positions.at(motion.joints[j].name)[f], pose.positions[j], 1e-4);
    }
}
