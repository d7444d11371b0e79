#pragma once
// Learning-rate schedules as Hugging Face's get_*_schedule_with_warmup define them, applied to a
// LibTorch optimizer's parameter groups; the optimiser factory; gradient clipping and accumulation.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

namespace torch::optim {
class Optimizer;
}

namespace mp {

enum class ScheduleKind { Constant, Linear, Cosine };
// "constant", "linear", "cosine"; InputError otherwise.
ScheduleKind parseScheduleKind(std::string_view name);
std::string_view scheduleKindName(ScheduleKind kind);

// The factor applied to each group's base lr after `step` optimizer steps: linear warmup from 0
// over warmupSteps, then 1 (constant), linear decay to 0 at totalSteps, or half a cosine.
double scheduleMultiplier(ScheduleKind kind, std::int64_t step, std::int64_t warmupSteps,
                          std::int64_t totalSteps, double numCycles = 0.5);

// Like torch's LambdaLR: construction sets lr = base·f(0); each step() advances and sets
// lr = base·f(step). Base lrs are the groups' lrs at construction.
class LrScheduler {
public:
    LrScheduler(torch::optim::Optimizer &optimizer, ScheduleKind kind, std::int64_t warmupSteps,
                std::int64_t totalSteps);

    void step();
    std::int64_t stepCount() const { return m_step; }
    // For resume: jump to `step` and set the lrs it implies.
    void setStepCount(std::int64_t step);
    // The lr of the first group now.
    double currentLr() const;

private:
    void apply();

    torch::optim::Optimizer &m_optimizer;
    ScheduleKind m_kind;
    std::int64_t m_warmup;
    std::int64_t m_total;
    std::int64_t m_step = 0;
    std::vector<double> m_baseLrs;
};

enum class OptimizerKind { AdamW, Adam };
// "adamw", "adam"; InputError otherwise.
OptimizerKind parseOptimizerKind(std::string_view name);
std::string_view optimizerKindName(OptimizerKind kind);

struct OptimizerSettings {
    OptimizerKind kind = OptimizerKind::AdamW;
    double lr = 5e-5; // HF Trainer's default
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 0.0;
    bool operator==(const OptimizerSettings &) const = default;
};

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const std::vector<at::Tensor> &params,
                                                       const OptimizerSettings &settings);

// Total L2 norm of the gradients before clipping; rescales them to maxNorm when it is set and
// exceeded (torch's clip_grad_norm_). Parameters without a gradient are skipped.
double clipGradNorm(const std::vector<at::Tensor> &params, std::optional<double> maxNorm);

// Gradient accumulation as HF Trainer does it: each micro-batch loss is divided by the number of
// accumulation steps, and the optimizer steps after every `steps` micro-batches and after the
// last micro-batch of an epoch.
class GradAccumulation {
public:
    explicit GradAccumulation(std::int64_t steps);
    double lossScale() const { return 1.0 / static_cast<double>(m_steps); }
    // microIndex counts from 0 within the epoch.
    bool isOptimizerStep(std::int64_t microIndex, std::int64_t microBatchesPerEpoch) const;
    // Optimizer steps in one epoch of microBatchesPerEpoch micro-batches.
    std::int64_t optimizerStepsPerEpoch(std::int64_t microBatchesPerEpoch) const;
    std::int64_t steps() const { return m_steps; }

private:
    std::int64_t m_steps;
};

} // namespace mp
