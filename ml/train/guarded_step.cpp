#include "ml/train/guarded_step.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/train/schedule.h"

namespace mp {

bool reduceStep(Distributed *distributed, bool finiteLoss, const std::vector<at::Tensor> &params,
                MetricAverager &metrics)
{
    if (!distributed || !distributed->active())
        return finiteLoss;
    const bool finite = distributed->allTrue(finiteLoss);
    if (finite)
        distributed->allReduceGradients(params);
    metrics.allReduce(*distributed);
    return finite;
}

bool finishOptimizerStep(MetricMap &metrics, bool finiteLoss, const std::vector<at::Tensor> &params,
                         std::optional<double> maxGradNorm, torch::optim::Optimizer &optimizer,
                         LrScheduler &scheduler)
{
    metrics["learning_rate"] = scheduler.currentLr();
    const double gradNorm =
        finiteLoss ? clipGradNorm(params, maxGradNorm) : std::numeric_limits<double>::quiet_NaN();
    metrics["grad_norm"] = gradNorm;
    if (!finiteLoss || !std::isfinite(gradNorm)) {
        optimizer.zero_grad();
        metrics["loss"] = std::numeric_limits<double>::quiet_NaN();
        return false;
    }
    optimizer.step();
    scheduler.step();
    return true;
}

} // namespace mp
