#pragma once
// The end of an optimizer step shared by the trainers: after the backward passes, report the
// learning rate and the clipped gradient norm, then step optimizer and scheduler, unless the
// loss or the gradient is not finite. Then the gradients are dropped (the weights stay the last
// good ones) and "loss" is reported as NaN, so the run's divergence guard stops it.

#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"

namespace torch::optim {
class Optimizer;
}

namespace mp {

class LrScheduler;

// Adds "learning_rate" and "grad_norm" to metrics. Returns whether the optimizer stepped.
bool finishOptimizerStep(MetricMap &metrics, bool finiteLoss, const std::vector<at::Tensor> &params,
                         std::optional<double> maxGradNorm, torch::optim::Optimizer &optimizer,
                         LrScheduler &scheduler);

} // namespace mp
