#include "ml/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include <torch/torch.h>

#include "ml/core/named.h"

namespace mp {

namespace {

constexpr Named<ScheduleKind> kSchedules[] = {{ScheduleKind::Constant, "constant"},
                                              {ScheduleKind::Linear, "linear"},
                                              {ScheduleKind::Cosine, "cosine"}};
constexpr Named<OptimizerKind> kOptimizers[] = {{OptimizerKind::AdamW, "adamw"},
                                                {OptimizerKind::Adam, "adam"}};

} // namespace

ScheduleKind parseScheduleKind(std::string_view name)
{
    return parseNamed(kSchedules, name, "schedule");
}

std::string_view scheduleKindName(ScheduleKind kind)
{
    return nameOf(kSchedules, kind);
}

OptimizerKind parseOptimizerKind(std::string_view name)
{
    return parseNamed(kOptimizers, name, "optimizer");
}

std::string_view optimizerKindName(OptimizerKind kind)
{
    return nameOf(kOptimizers, kind);
}

double scheduleMultiplier(ScheduleKind kind, std::int64_t step, std::int64_t warmupSteps,
                          std::int64_t totalSteps, double numCycles)
{
    const auto s = static_cast<double>(step);
    if (step < warmupSteps)
        return s / static_cast<double>(std::max<std::int64_t>(1, warmupSteps));
    const double remaining =
        static_cast<double>(std::max<std::int64_t>(1, totalSteps - warmupSteps));
    switch (kind) {
    case ScheduleKind::Constant:
        return 1.0;
    case ScheduleKind::Linear:
        return std::max(0.0, static_cast<double>(totalSteps - step) / remaining);
    case ScheduleKind::Cosine: {
        const double progress = static_cast<double>(step - warmupSteps) / remaining;
        return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * numCycles * 2.0 * progress)));
    }
    }
    return 1.0;
}

LrScheduler::LrScheduler(torch::optim::Optimizer &optimizer, ScheduleKind kind,
                         std::int64_t warmupSteps, std::int64_t totalSteps)
    : m_optimizer(optimizer), m_kind(kind), m_warmup(warmupSteps), m_total(totalSteps)
{
    for (auto &group : m_optimizer.param_groups())
        m_baseLrs.push_back(group.options().get_lr());
    apply();
}

void LrScheduler::step()
{
    ++m_step;
    apply();
}

void LrScheduler::setStepCount(std::int64_t step)
{
    m_step = step;
    apply();
}

double LrScheduler::currentLr() const
{
    return m_optimizer.param_groups().front().options().get_lr();
}

void LrScheduler::apply()
{
    const double factor = scheduleMultiplier(m_kind, m_step, m_warmup, m_total);
    auto &groups = m_optimizer.param_groups();
    for (size_t i = 0; i < groups.size() && i < m_baseLrs.size(); ++i)
        groups[i].options().set_lr(m_baseLrs[i] * factor);
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const std::vector<at::Tensor> &params,
                                                       const OptimizerSettings &settings)
{
    if (settings.lr <= 0)
        throw InputError("optimizer: the learning rate must be positive");
    const auto betas = std::make_tuple(settings.beta1, settings.beta2);
    switch (settings.kind) {
    case OptimizerKind::AdamW:
        return std::make_unique<torch::optim::AdamW>(params,
                                                     torch::optim::AdamWOptions(settings.lr)
                                                         .betas(betas)
                                                         .eps(settings.eps)
                                                         .weight_decay(settings.weightDecay));
    case OptimizerKind::Adam:
        return std::make_unique<torch::optim::Adam>(params,
                                                    torch::optim::AdamOptions(settings.lr)
                                                        .betas(betas)
                                                        .eps(settings.eps)
                                                        .weight_decay(settings.weightDecay));
    }
    throw std::logic_error("makeOptimizer: unhandled kind");
}

double clipGradNorm(const std::vector<at::Tensor> &params, std::optional<double> maxNorm)
{
    std::vector<at::Tensor> grads;
    for (const auto &p : params) {
        if (p.grad().defined())
            grads.push_back(p.grad());
    }
    if (grads.empty())
        return 0.0;
    std::vector<at::Tensor> norms;
    norms.reserve(grads.size());
    for (const auto &g : grads)
        norms.push_back(g.detach().to(torch::kDouble).norm());
    const double total = torch::stack(norms).norm().item<double>();
    if (maxNorm && std::isfinite(total)) {
        // torch's clip_grad_norm_: scale by max/(total + 1e-6) when that is below 1.
        const double coef = *maxNorm / (total + 1e-6);
        if (coef < 1.0) {
            for (auto &g : grads)
                g.mul_(coef);
        }
    }
    return total;
}

GradAccumulation::GradAccumulation(std::int64_t steps) : m_steps(steps)
{
    if (steps < 1)
        throw InputError("gradient accumulation steps must be at least 1");
}

bool GradAccumulation::isOptimizerStep(std::int64_t microIndex,
                                       std::int64_t microBatchesPerEpoch) const
{
    return (microIndex + 1) % m_steps == 0 || microIndex + 1 == microBatchesPerEpoch;
}

std::int64_t GradAccumulation::optimizerStepsPerEpoch(std::int64_t microBatchesPerEpoch) const
{
    return (microBatchesPerEpoch + m_steps - 1) / m_steps;
}

} // namespace mp
