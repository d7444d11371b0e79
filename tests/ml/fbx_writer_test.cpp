// FBX export through Assimp: the ASCII variant re-imported by Assimp reproduces the joint
// positions (1e-4 m) at the right times; the binary variant passes the structural check of its
// node records (the nested-list null records Assimp 5.2 leaves out are put back).

#include "app/export/bvh_motion.h"
#include "app/export/bvh_reader.h"
#include "app/export/fbx_binary_fix.h"
#include "app/export/fbx_writer.h"
#include "app/export/save_file.h"
#include "ml/core/error.h"

#include "assimp_fk.h"

#include "temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace {

namespace fs = std::filesystem;

using mp::test::TempDir;

// A small rig in metres with a moving root, mixed rotation orders and random rotations.
mp::BvhMotion randomMotion(int frames, double fps, unsigned seed)
{
    std::string text =
        "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0.9 0\n"
        "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n"
        "JOINT Spine\n{\nOFFSET 0 0.2 0.01\nCHANNELS 3 Xrotation Yrotation Zrotation\n"
        "JOINT Head\n{\nOFFSET 0 0.3 0\nCHANNELS 3 Yrotation Zrotation Xrotation\n"
        "End Site\n{\nOFFSET 0 0.1 0\n}\n}\n"
        "JOINT LeftArm\n{\nOFFSET 0.2 0.25 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n"
        "JOINT LeftHand\n{\nOFFSET 0.3 0 0\nCHANNELS 3 Zrotation Yrotation Xrotation\n"
        "End Site\n{\nOFFSET 0.1 0 0\n}\n}\n}\n}\n"
        "JOINT RightLeg\n{\nOFFSET -0.1 -0.05 0\nCHANNELS 3 Zrotation Yrotation Xrotation\n"
        "End Site\n{\nOFFSET 0 -0.8 0\n}\n}\n}\n"
        "MOTION\nFrames: 0\nFrame Time: 0.05\n";
    mp::BvhMotion motion = mp::parseBvh(text, "rig.bvh");
    motion.numFrames = frames;
    motion.frameTimeS = 1.0 / fps;
    motion.metresPerUnit = 1.0;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> angle(-170.0, 170.0), step(-0.05, 0.05);
    motion.values.resize(static_cast<std::size_t>(frames) * motion.numChannels);
    for (int f = 0; f < frames; ++f) {
        double *line = motion.values.data() + static_cast<std::size_t>(f) * motion.numChannels;
        for (int c = 0; c < motion.numChannels; ++c)
            line[c] = angle(rng);
        line[0] = 0.1 * f + step(rng);
        line[1] = 0.9 + step(rng);
        line[2] = -0.05 * f;
    }
    return motion;
}

void expectSamePositions(const mp::BvhMotion &motion, const mp::test::ImportedAnimation &imported,
                         double tolerance)
{
    double worst = 0;
    for (int f = 0; f < motion.numFrames; ++f) {
        const auto pose = mp::bvhGlobalPose(motion, f);
        for (int j = 0; j < motion.numJoints(); ++j) {
            const auto &p = imported.positions.at(motion.joints[j].name)[f];
            for (int k = 0; k < 3; ++k) {
                const double e = std::abs(p[k] - pose.positions[j][k]);
                if (e > tolerance)
                    ADD_FAILURE() << "frame " << f << " joint " << motion.joints[j].name << " axis "
                                  << k << ": " << p[k] << " vs " << pose.positions[j][k];
                worst = std::max(worst, e);
            }
        }
    }
    EXPECT_LT(worst, tolerance);
}

std::vector<std::string> jointNames(const mp::BvhMotion &motion)
{
    std::vector<std::string> names;
    for (const auto &joint : motion.joints)
        names.push_back(joint.name);
    return names;
}

// A minimal binary FBX 7500 built by hand: node "A" {child "B" (one int property)}, no null
// records anywhere (as Assimp 5.2 writes them), then the standard footer.
std::string brokenBinary()
{
    std::string out("Kaydara FBX Binary  \0\x1a\0", 23);
    const auto le = [&](std::uint64_t v, int width) {
        for (int i = 0; i < width; ++i, v >>= 8)
            out += static_cast<char>(v & 0xff);
    };
    le(7500, 4);
    const std::size_t a = out.size();
    const std::size_t aEnd = a + 25 + 1 + (25 + 1 + 5);
    le(aEnd, 8), le(0, 8), le(0, 8), out += '\1', out += 'A';
    const std::size_t bEnd = out.size() + 25 + 1 + 5;
    le(bEnd, 8), le(1, 8), le(5, 8), out += '\1', out += 'B', out += 'I', le(42, 4);
    EXPECT_EQ(out.size(), aEnd);
    out += std::string("\xfa\xbc\xab\x09\xd0\xc8\xd4\x66\xb1\x76\xfb\x83\x1c\xf7\x26\x7e", 16);
    out.append(16 - out.size() % 16, '\0');
    out.append(4, '\0');
    le(7500, 4);
    out.append(120, '\0');
    out += std::string("\xf8\x5a\x8c\x6a\xde\xf5\xd9\x7e\xec\xe9\x0c\xe3\x75\x8f\x29\x0b", 16);
    return out;
}

} // namespace

TEST(FbxBinaryFix, AddsMissingNullRecordsIdempotently)
{
    const std::string broken = brokenBinary();
    const mp::FbxBinaryCheck before = mp::checkFbxBinary(broken);
    EXPECT_FALSE(before.valid);
    EXPECT_NE(before.problem.find("null record"), std::string::npos) << before.problem;

    const std::string fixed = mp::addFbxNullRecords(broken);
    const mp::FbxBinaryCheck after = mp::checkFbxBinary(fixed);
    EXPECT_TRUE(after.valid) << after.problem;
    EXPECT_EQ(after.version, 7500u);
    EXPECT_EQ(after.numNodes, 2);
    EXPECT_EQ(after.numNestedLists, 1);
    EXPECT_EQ(mp::addFbxNullRecords(fixed), fixed);
}

TEST(FbxBinaryFix, RejectsGarbage)
{
    EXPECT_FALSE(mp::checkFbxBinary("not an fbx").valid);
    EXPECT_THROW(mp::addFbxNullRecords("; FBX 7.5.0 project file"), std::runtime_error);
    std::string truncated = mp::addFbxNullRecords(brokenBinary());
    truncated.resize(60);
    EXPECT_FALSE(mp::checkFbxBinary(truncated).valid);
}

TEST(FbxWriter, QuirksFollowTheLinkedAssimp)
{
    const mp::AssimpFbxQuirks quirks = mp::assimpFbxQuirks();
    EXPECT_FALSE(quirks.version.empty());
    if (quirks.version.rfind("5.2.", 0) == 0) {
        EXPECT_TRUE(quirks.keyTimesInSeconds);
        EXPECT_TRUE(quirks.missingNullRecords);
        EXPECT_FALSE(quirks.keyTimesTruncated);
    }
}

TEST(FbxWriter, AsciiRoundTripThroughAssimpKeepsPositionsAndTiming)
{
    TempDir dir;
    const mp::BvhMotion motion = randomMotion(25, 20.0, 7);
    const auto path = dir / "motion.fbxa";
    mp::writeFbx(path, motion, {.format = mp::FbxFormat::Ascii});
    const auto imported = mp::test::importWithAssimp(path.string(), jointNames(motion),
                                                     motion.numFrames, motion.fps());
    EXPECT_EQ(imported.numChannels >= motion.numJoints(), true);
    expectSamePositions(motion, imported, 1e-4);
    // Keys were found at f / fps seconds, so the clip plays at the right speed; the stack stop
    // covers the last key.
    EXPECT_GE(imported.duration / imported.ticksPerSecond, 24 / 20.0 - 1e-6);
}

TEST(FbxWriter, AsciiAtThirtyFpsAndCentimetres)
{
    TempDir dir;
    mp::BvhMotion motion = randomMotion(10, 30.0, 11);
    for (auto &joint : motion.joints)
        for (double &v : joint.offset)
            v *= 100.0;
    for (int f = 0; f < motion.numFrames; ++f)
        for (int c = 0; c < 3; ++c)
            motion.values[static_cast<std::size_t>(f) * motion.numChannels + c] *= 100.0;
    motion.metresPerUnit = 0.01;
    const auto path = dir / "cm.fbxa";
    mp::writeFbx(path, motion, {.format = mp::FbxFormat::Ascii});
    const std::string text = mp::readWholeFile(path);
    EXPECT_NE(text.find("\"UnitScaleFactor\", \"double\", \"Number\", \"\", 1\n"),
              std::string::npos);
    const auto imported = mp::test::importWithAssimp(path.string(), jointNames(motion),
                                                     motion.numFrames, motion.fps());
    expectSamePositions(motion, imported, 1e-2); // 1e-4 m in centimetres
}

TEST(FbxWriter, BinaryIsStructurallyValidAndDeclaresMetres)
{
    TempDir dir;
    const mp::BvhMotion motion = randomMotion(12, 20.0, 3);
    const auto path = dir / "motion.fbx";
    mp::writeFbx(path, motion, {.format = mp::FbxFormat::Binary});
    const std::string bytes = mp::readWholeFile(path);
    const mp::FbxBinaryCheck check = mp::checkFbxBinary(bytes);
    ASSERT_TRUE(check.valid) << check.problem;
    EXPECT_GE(check.version, 7400u);
    EXPECT_GT(check.numNestedLists, 10);
    EXPECT_GT(check.numNodes, 100);
    // Every joint is a LimbNode model, and the units are metres (UnitScaleFactor 100).
    std::size_t limbs = 0;
    for (std::size_t at = bytes.find("LimbNode"); at != std::string::npos;
         at = bytes.find("LimbNode", at + 1))
        ++limbs;
    EXPECT_GE(limbs, static_cast<std::size_t>(motion.numJoints()));
    EXPECT_NE(bytes.find("UnitScaleFactor"), std::string::npos);
    // Assimp reads the repaired file (its 5.2 tokenizer rejects the unrepaired one).
    Assimp::Importer importer;
    const aiScene *scene = importer.ReadFile(path.string(), 0);
    ASSERT_NE(scene, nullptr) << importer.GetErrorString();
    EXPECT_NE(scene->mRootNode->FindNode("LeftHand"), nullptr);
    EXPECT_NE(scene->mRootNode->FindNode("Armature"), nullptr);
}

TEST(FbxWriter, ZeroFramesWritesTheSkeletonOnly)
{
    TempDir dir;
    const mp::BvhMotion motion = randomMotion(0, 20.0, 1);
    mp::writeFbx(dir / "rest.fbx", motion);
    EXPECT_TRUE(mp::checkFbxBinary(mp::readWholeFile(dir / "rest.fbx")).valid);
}

TEST(FbxWriter, UnwritablePathIsAUserError)
{
    const mp::BvhMotion motion = randomMotion(2, 20.0, 1);
    EXPECT_THROW(mp::writeFbx("/nonexistent/dir/x.fbx", motion), mp::InputError);
}
