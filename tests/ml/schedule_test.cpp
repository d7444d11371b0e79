// Schedules (HF get_*_schedule_with_warmup), optimiser factory, clipping and accumulation.
#include "ml/core/error.h"
#include "ml/train/schedule.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

namespace {

using mp::ScheduleKind;

TEST(Schedule, WarmupIsLinearFromZero)
{
    for (auto kind : {ScheduleKind::Constant, ScheduleKind::Linear, ScheduleKind::Cosine}) {
        EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(kind, 0, 150, 1000), 0.0);
        EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(kind, 75, 150, 1000), 0.5);
        EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(kind, 150, 150, 1000), 1.0);
    }
}

TEST(Schedule, DecayShapes)
{
    EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(ScheduleKind::Constant, 900, 150, 1000), 1.0);
    EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(ScheduleKind::Linear, 60, 10, 110), 0.5);
    EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(ScheduleKind::Linear, 110, 10, 110), 0.0);
    EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(ScheduleKind::Linear, 200, 10, 110), 0.0);
    EXPECT_NEAR(mp::scheduleMultiplier(ScheduleKind::Cosine, 575, 150, 1000), 0.5, 1e-12);
    EXPECT_NEAR(mp::scheduleMultiplier(ScheduleKind::Cosine, 1000, 150, 1000), 0.0, 1e-12);
    // Quarter of the way through the decay: 0.5·(1 + cos(π/4)).
    EXPECT_NEAR(mp::scheduleMultiplier(ScheduleKind::Cosine, 50, 0, 200),
                0.5 * (1 + std::cos(M_PI / 4)), 1e-12);
    // No warmup: the first step already has the full rate (HF: max(1, warmup) guards 0/0).
    EXPECT_DOUBLE_EQ(mp::scheduleMultiplier(ScheduleKind::Linear, 0, 0, 100), 1.0);
}

TEST(Schedule, SchedulerDrivesParamGroups)
{
    auto weight = torch::zeros({2}, torch::requires_grad());
    auto optimizer = mp::makeOptimizer({weight}, {.kind = mp::OptimizerKind::AdamW, .lr = 1e-3});
    mp::LrScheduler scheduler(*optimizer, ScheduleKind::Cosine, 10, 110);
    EXPECT_DOUBLE_EQ(scheduler.currentLr(), 0.0);
    for (int i = 0; i < 5; ++i)
        scheduler.step();
    EXPECT_DOUBLE_EQ(scheduler.currentLr(), 5e-4);
    scheduler.setStepCount(60);
    EXPECT_NEAR(scheduler.currentLr(), 5e-4, 1e-15);
    EXPECT_EQ(scheduler.stepCount(), 60);
}

TEST(Schedule, OptimizerFactoryAndNames)
{
    auto weight = torch::ones({1}, torch::requires_grad());
    auto adamw = mp::makeOptimizer({weight}, {.kind = mp::OptimizerKind::AdamW, .lr = 0.1});
    auto &options = static_cast<torch::optim::AdamWOptions &>(adamw->param_groups()[0].options());
    EXPECT_DOUBLE_EQ(options.weight_decay(), 0.0); // HF's default, not LibTorch's 1e-2
    EXPECT_DOUBLE_EQ(options.eps(), 1e-8);
    auto adam = mp::makeOptimizer({weight}, {.kind = mp::OptimizerKind::Adam, .lr = 1e-5});
    EXPECT_NE(dynamic_cast<torch::optim::Adam *>(adam.get()), nullptr);
    // One Adam step moves a weight by ≈ lr against the gradient sign.
    weight.mutable_grad() = torch::ones({1});
    adam->step();
    EXPECT_NEAR(weight.item<double>(), 1.0 - 1e-5, 1e-7); // float32 spacing near 1
    EXPECT_EQ(mp::parseOptimizerKind("adam"), mp::OptimizerKind::Adam);
    EXPECT_EQ(mp::parseScheduleKind("cosine"), ScheduleKind::Cosine);
    EXPECT_THROW(mp::parseScheduleKind("cosine_with_restarts"), mp::InputError);
    EXPECT_THROW(mp::parseOptimizerKind("sgd"), mp::InputError);
    EXPECT_THROW(mp::makeOptimizer({weight}, {.lr = 0}), mp::InputError);
}

TEST(Schedule, ClipGradNorm)
{
    auto a = torch::zeros({2}, torch::requires_grad());
    auto b = torch::zeros({1}, torch::requires_grad());
    auto unused = torch::zeros({1}, torch::requires_grad());
    a.mutable_grad() = torch::tensor({3.0f, 0.0f});
    b.mutable_grad() = torch::tensor({4.0f});
    EXPECT_NEAR(mp::clipGradNorm({a, b, unused}, std::nullopt), 5.0, 1e-6);
    EXPECT_FLOAT_EQ(b.grad().item<float>(), 4.0f);
    EXPECT_NEAR(mp::clipGradNorm({a, b, unused}, 1.0), 5.0, 1e-6);
    EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-6);
    EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-6);
    EXPECT_NEAR(mp::clipGradNorm({a, b}, 10.0), 1.0, 1e-5); // below the bound: untouched
    EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-6);
}

TEST(Schedule, GradAccumulation)
{
    const mp::GradAccumulation accumulation(4);
    EXPECT_DOUBLE_EQ(accumulation.lossScale(), 0.25);
    std::vector<std::int64_t> steps;
    for (std::int64_t i = 0; i < 10; ++i) {
        if (accumulation.isOptimizerStep(i, 10))
            steps.push_back(i);
    }
    EXPECT_EQ(steps, (std::vector<std::int64_t>{3, 7, 9}));
    EXPECT_EQ(accumulation.optimizerStepsPerEpoch(10), 3);
    EXPECT_THROW(mp::GradAccumulation(0), mp::InputError);
}

} // namespace
