// Real HumanML3D clips in the dataset's own layout (issue 25). AMASS's licence forbids
// redistributing the motions, so none are committed: the test reads the copy that
// MP_HUMANML3D_DIR names (a user's HumanML3D/ directory, or the handful of public clips that
// tests/reference/humanml3d_real.py assembles) and is skipped without it.
//
// HumanML3D's motion_representation.ipynb wrote new_joints/NAME.npy as recover_from_ric of the
// float32 features it wrote to new_joint_vecs/NAME.npy, so recovering the features must give the
// released joints, frame for frame. Tolerance 2e-6 of the clip's largest coordinate: about 16
// float32 ulps, room for summing the root's per-frame steps in another order than
// torch.cumsum (measured on the six public clips: 1.2e-7 m, one ulp).

#include "ml/data/humanml3d_dataset.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "tests/ml/reference_compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace {

constexpr double kJointTolerance = 2e-6;
// Clips checked per split: a full HumanML3D copy has some 29,000; the first ones suffice.
constexpr int64_t kMaxClips = 8;

class HumanMl3dRealTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        const char *dir = std::getenv("MP_HUMANML3D_DIR");
        if (!dir || !*dir)
            GTEST_SKIP() << "MP_HUMANML3D_DIR is not set: point it at a HumanML3D directory "
                            "(or run tests/reference/humanml3d_real.py to assemble six public "
                            "clips in /tmp/mp-humanml3d-real)";
        m_root = dir;
        ASSERT_TRUE(fs::is_directory(m_root / "new_joint_vecs")) << m_root;
    }

    // The split's items, feature files read on access (a full copy is gigabytes).
    mp::HumanMl3dDataset open(const std::string &split) const
    {
        return mp::HumanMl3dDataset::open(m_root, {.split = split, .preload = false});
    }

    fs::path m_root;
};

bool isWholeClip(const mp::MotionRecord &record)
{
    return record.name == record.file && record.startFrame == 0;
}

} // namespace

TEST_F(HumanMl3dRealTest, ReadsSplitsCaptionsAndFeatures)
{
    int64_t seen = 0;
    for (const std::string split : {"train", "test"}) {
        const auto dataset = open(split);
        ASSERT_GT(dataset.size(), 0) << split << ".txt gave no item";
        for (int64_t i = 0; i < std::min(dataset.size(), kMaxClips); ++i, ++seen) {
            const auto &record = dataset.record(i);
            ASSERT_FALSE(record.captions.empty()) << record.name;
            for (const auto &caption : record.captions) {
                EXPECT_FALSE(caption.text.empty()) << record.name;
                ASSERT_FALSE(caption.tokens.empty()) << record.name;
                EXPECT_NE(caption.tokens.front().find('/'), std::string::npos)
                    << record.name << ": token '" << caption.tokens.front() << "' is not word/POS";
                EXPECT_LE(caption.startS, caption.endS) << record.name;
            }
            EXPECT_GE(record.numFrames, 40) << record.name;
            EXPECT_LT(record.numFrames, 200) << record.name;
            const auto features = dataset.features(i);
            ASSERT_EQ(features.sizes(), (at::IntArrayRef{record.numFrames, mp::kFeatureDim}))
                << record.name;
            EXPECT_TRUE(features.isfinite().all().item<bool>()) << record.name;
            // A sub-clip is the feature rows its caption's times name.
            const auto file = mp::npy::read(m_root / "new_joint_vecs" / (record.file + ".npy"));
            EXPECT_TRUE(features.equal(file.narrow(0, record.startFrame, record.numFrames)))
                << record.name;
        }
    }
    EXPECT_GT(seen, 1);

    // HumanML3D's statistics, when the copy has them, are 263-d with positive deviations.
    const auto dataset = open("train");
    if (fs::exists(m_root / "Mean.npy")) {
        EXPECT_EQ(dataset.normalizer().dim(), mp::kFeatureDim);
        EXPECT_GT(dataset.normalizer().std().min().item<double>(), 0.0);
    }
}

TEST_F(HumanMl3dRealTest, RecoveredJointsEqualReleasedNewJoints)
{
    int64_t compared = 0;
    for (const std::string split : {"train", "test"}) {
        const auto dataset = open(split);
        for (int64_t i = 0; i < dataset.size() && compared < kMaxClips; ++i) {
            const auto &record = dataset.record(i);
            if (!isWholeClip(record))
                continue;
            const auto released = mp::npy::read(m_root / "new_joints" / (record.file + ".npy"));
            const auto ours = mp::recoverFromRic(dataset.features(i));
            // Same frame count: new_joints holds the recovery, not the T + 1 source frames.
            mp::reference::expectClose(record.name + " vs new_joints", ours, released,
                                       kJointTolerance);
            mp::reference::expectClose(record.name + " dataset joints", dataset.joints(i), released,
                                       0.0);
            // HumanML3D's own recover_from_ric, where humanml3d_real.py ran it.
            const auto original = m_root / "original_recover" / (record.file + ".npy");
            if (fs::exists(original))
                mp::reference::expectClose(record.name + " vs original recover_from_ric", ours,
                                           mp::npy::read(original), kJointTolerance);
            ++compared;
        }
    }
    EXPECT_GT(compared, 0) << "no whole clip in train.txt or test.txt";
}
