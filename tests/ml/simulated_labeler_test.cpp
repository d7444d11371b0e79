// The simulated labeler: match scores, choice and degree, noise, determinism.
#include "ml/core/error.h"
#include "ml/simulate/simulated_labeler.h"

#include <gtest/gtest.h>

namespace {

using mp::PreferenceDegree;

mp::PromptIntent walkFastThreeSteps()
{
    // "a person walks quickly forward for three steps"
    return {.prompt = "a person walks quickly forward for three steps",
            .targets = {{"action:walk", {.value = 1.0, .scale = 0.5, .weight = 3.0}},
                        {"speed_mps", {.value = 1.8, .scale = 0.5, .weight = 1.0}},
                        {"repetitions", {.value = 3.0, .scale = 1.0, .weight = 1.0}}}};
}

TEST(SimulatedLabeler, MatchScore)
{
    const auto intent = walkFastThreeSteps();
    const mp::MotionDescriptor exact{
        {{"action:walk", 1.0}, {"speed_mps", 1.8}, {"repetitions", 3}}};
    EXPECT_DOUBLE_EQ(mp::matchScore(intent, exact), 0.0);
    // Speed off by 0.5 (one unit, weight 1 of 5): -0.2.
    const mp::MotionDescriptor slow{{{"action:walk", 1.0}, {"speed_mps", 1.3}, {"repetitions", 3}}};
    EXPECT_NEAR(mp::matchScore(intent, slow), -0.2, 1e-12);
    // Wrong action (capped at 3 units, weight 3) and a missing feature (3 units, weight 1).
    const mp::MotionDescriptor wrong{{{"action:walk", 0.0}, {"speed_mps", 1.8}}};
    EXPECT_NEAR(mp::matchScore(intent, wrong), -(3 * 2 + 3) / 5.0, 1e-12);
    EXPECT_DOUBLE_EQ(mp::matchScore({}, wrong), 0.0);
}

TEST(SimulatedLabeler, NoiselessChoiceAndDegree)
{
    const mp::SimulatedLabeler labeler({.noiseStd = 0.0});
    const auto intent = walkFastThreeSteps();
    const mp::MotionDescriptor exact{
        {{"action:walk", 1.0}, {"speed_mps", 1.8}, {"repetitions", 3}}};
    const mp::MotionDescriptor slow{{{"action:walk", 1.0}, {"speed_mps", 1.3}, {"repetitions", 3}}};
    const mp::MotionDescriptor slightlySlow{
        {{"action:walk", 1.0}, {"speed_mps", 1.55}, {"repetitions", 3}}};
    const mp::MotionDescriptor wrong{
        {{"action:walk", 0.0}, {"speed_mps", 1.8}, {"repetitions", 3}}};

    auto label = labeler.label(intent, exact, slow, 1);
    EXPECT_EQ(label.choice, 0);
    EXPECT_EQ(label.degree, PreferenceDegree::Better); // Δ = 0.2
    label = labeler.label(intent, slightlySlow, exact, 2);
    EXPECT_EQ(label.choice, 1);
    EXPECT_EQ(label.degree, PreferenceDegree::SlightlyBetter); // Δ = 0.1
    label = labeler.label(intent, wrong, exact, 3);
    EXPECT_EQ(label.choice, 1);
    EXPECT_EQ(label.degree, PreferenceDegree::MuchBetter); // Δ = 1.8
    label = labeler.label(intent, exact, exact, 4);
    EXPECT_EQ(label.degree, PreferenceDegree::Unsure);
    EXPECT_FALSE(label.skipped);
}

TEST(SimulatedLabeler, NoiseFlipsCloseCallsButNotClearOnes)
{
    const mp::SimulatedLabeler labeler({.noiseStd = 0.1, .seed = 11});
    const auto intent = walkFastThreeSteps();
    const mp::MotionDescriptor exact{
        {{"action:walk", 1.0}, {"speed_mps", 1.8}, {"repetitions", 3}}};
    const mp::MotionDescriptor close{
        {{"action:walk", 1.0}, {"speed_mps", 1.7}, {"repetitions", 3}}};
    const mp::MotionDescriptor wrong{
        {{"action:walk", 0.0}, {"speed_mps", 1.8}, {"repetitions", 3}}};
    int closeAgree = 0, clearAgree = 0;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
        closeAgree += labeler.label(intent, exact, close, i).choice == 0;
        clearAgree += labeler.label(intent, exact, wrong, i).choice == 0;
    }
    // Δ = 0.04 against a difference noise of std 0.1·√2: P(agree) = Φ(0.283) ≈ 0.61.
    EXPECT_GT(closeAgree, n * 0.55);
    EXPECT_LT(closeAgree, n * 0.68);
    EXPECT_EQ(clearAgree, n);
}

TEST(SimulatedLabeler, DeterministicPerSeedAndPair)
{
    const auto intent = walkFastThreeSteps();
    const mp::MotionDescriptor a{{{"action:walk", 1.0}, {"speed_mps", 1.6}}};
    const mp::MotionDescriptor b{{{"action:walk", 1.0}, {"speed_mps", 1.9}}};
    const mp::SimulatedLabeler one({.noiseStd = 0.2, .seed = 5});
    const mp::SimulatedLabeler same({.noiseStd = 0.2, .seed = 5});
    const mp::SimulatedLabeler other({.noiseStd = 0.2, .seed = 6});
    int differs = 0;
    for (std::uint64_t id = 0; id < 50; ++id) {
        EXPECT_EQ(one.label(intent, a, b, id).noisyDifference,
                  same.label(intent, a, b, id).noisyDifference);
        differs += one.label(intent, a, b, id).noisyDifference !=
                   other.label(intent, a, b, id).noisyDifference;
    }
    EXPECT_GT(differs, 45);
}

TEST(SimulatedLabeler, SkipsAndLapses)
{
    const auto intent = walkFastThreeSteps();
    const mp::MotionDescriptor exact{
        {{"action:walk", 1.0}, {"speed_mps", 1.8}, {"repetitions", 3}}};
    const mp::MotionDescriptor wrong{{{"action:walk", 0.0}}};
    const mp::SimulatedLabeler skipper({.skipProbability = 0.3, .seed = 2});
    const mp::SimulatedLabeler careless({.lapseProbability = 0.4, .seed = 2});
    int skipped = 0, wrongChoice = 0;
    for (int i = 0; i < 1000; ++i) {
        skipped += skipper.label(intent, exact, wrong, i).skipped;
        wrongChoice += careless.label(intent, exact, wrong, i).choice == 1;
    }
    EXPECT_NEAR(skipped, 300, 60);
    EXPECT_NEAR(wrongChoice, 200, 50); // half of the lapses pick the worse motion
    EXPECT_THROW(mp::SimulatedLabeler({.unsureBelow = 0.5, .slightlyBelow = 0.1}), mp::InputError);
    EXPECT_THROW(mp::SimulatedLabeler({.skipProbability = 2}), mp::InputError);
}

TEST(SimulatedLabeler, CustomScoreFunction)
{
    // A score that only looks at one feature, e.g. fed from another measure.
    const mp::SimulatedLabeler labeler({.noiseStd = 0.0},
                                       [](const mp::PromptIntent &, const mp::MotionDescriptor &m) {
                                           return m.features.at("quality");
                                       });
    const auto label = labeler.label({}, {{{"quality", 0.2}}}, {{{"quality", 0.9}}}, 0);
    EXPECT_EQ(label.choice, 1);
    EXPECT_EQ(label.degree, PreferenceDegree::MuchBetter);
}

} // namespace
