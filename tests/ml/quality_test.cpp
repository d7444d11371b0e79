#include "ml/core/error.h"
#include "ml/motion/quality.h"
#include "ml/motion/quaternion.h"
#include "ml/motion/skeleton.h"

#include <gtest/gtest.h>

namespace {

// The rest pose standing on y = 0, translated by step (m per frame) each frame.
torch::Tensor standing(int64_t frames, double stepX, double lift = 0.0)
{
    const auto &s = mp::smpl22();
    auto rest = s.restPositions(torch::kFloat64);
    rest.select(-1, 1) += s.restRootHeightM() + lift;
    const auto t = torch::arange(frames, torch::kFloat64);
    const auto shift = torch::stack({stepX * t, torch::zeros_like(t), torch::zeros_like(t)}, -1);
    return rest.unsqueeze(0) + shift.unsqueeze(1);
}

} // namespace

TEST(Quality, PlantedFeetDoNotSkate)
{
    EXPECT_EQ(mp::footSkatingRatio(standing(40, 0.0)), 0.0);
}

TEST(Quality, SlidingOnTheFloorSkatesEveryFrame)
{
    // 5 cm per frame = 1 m/s, twice GMD's threshold: even the edge frames, whose window average
    // includes zeros outside the clip (3/5 of 1 m/s), count.
    EXPECT_DOUBLE_EQ(mp::footSkatingRatio(standing(40, 0.05)), 1.0);
    // 2 cm per frame = 0.4 m/s is below the threshold.
    EXPECT_EQ(mp::footSkatingRatio(standing(40, 0.02)), 0.0);
    // Feet 10 cm above the floor are not in contact.
    EXPECT_EQ(mp::footSkatingRatio(standing(40, 0.05, 0.10)), 0.0);
}

TEST(Quality, OneFootSlidingHalfTheTimeCounts)
{
    auto motion = standing(41, 0.0);
    // Left foot (joint 10) slides 5 cm per frame during the first 20 steps, then stops.
    const auto t = torch::arange(41, torch::kFloat64).clamp_max(20.0);
    motion.select(1, 10).select(-1, 2) += 0.05 * t;
    const double ratio = mp::footSkatingRatio(motion);
    // Steps 0..19 move; the window average also stays above 0.5 m/s there.
    EXPECT_NEAR(ratio, 20.0 / 40.0, 1e-12);
    // Batched: the same per clip.
    const auto both = torch::stack({motion, standing(41, 0.05)});
    const auto ratios = mp::footSkatingRatios(both);
    EXPECT_NEAR(ratios[0].item<double>(), ratio, 1e-12);
    EXPECT_NEAR(ratios[1].item<double>(), 1.0, 1e-12);
}

TEST(Quality, PenetrationFloatingAndJerk)
{
    auto motion = standing(20, 0.0);
    motion.select(-1, 1) -= 0.03;
    auto q = mp::measureQuality(motion);
    EXPECT_NEAR(q.penetrationMeanM, 0.03, 1e-9);
    EXPECT_NEAR(q.penetrationMaxM, 0.03, 1e-9);
    EXPECT_EQ(q.floatingMeanM, 0.0);
    EXPECT_NEAR(q.jerkMeanMPerS3, 0.0, 1e-9);
    // x(t) = t^3 (seconds): jerk is 6 m/s^3 everywhere.
    const double fps = 20.0;
    auto cubic = standing(20, 0.0, 0.5);
    const auto seconds = torch::arange(20, torch::kFloat64) / fps;
    cubic.select(-1, 0) += seconds.pow(3).unsqueeze(1);
    q = mp::measureQuality(cubic, fps);
    EXPECT_NEAR(q.jerkMeanMPerS3, 6.0, 1e-6);
    EXPECT_NEAR(q.jerkMaxMPerS3, 6.0, 1e-6);
    EXPECT_NEAR(q.floatingMeanM, 0.5, 1e-9);
    EXPECT_EQ(q.penetrationMaxM, 0.0);
}

TEST(Quality, BadShapesAreUserErrors)
{
    EXPECT_THROW(mp::footSkatingRatio(torch::zeros({1, 22, 3})), mp::InputError);
    EXPECT_THROW(mp::footSkatingRatio(torch::zeros({10, 21, 3})), mp::InputError);
    EXPECT_THROW(mp::measureQuality(torch::zeros({2, 10, 22, 3})), mp::InputError);
}
