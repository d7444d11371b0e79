#pragma once
// The end of an optimizer step shared by the trainers: after the backward passes, report the
// learning rate and the clipped gradient norm, then step optimizer and scheduler, unless the
// loss or the gradient is not finite. Then the gradients are dropped (the weights stay the last
// good ones) and "loss" is reported as NaN, so the run's divergence guard stops it.

#include <cstdint>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"

namespace torch::optim {
class Optimizer;
}

namespace mp {

class Distributed;
class LrScheduler;

// A data-parallel rank's part of one optimizer step (ml/core/distributed.h): its micro-batches are
// its shards of the step's micro-batches, each loss scaled by the shard's share of its
// micro-batch's examples and divided by the step's micro-batch count, so that the sum of every
// rank's gradients is the gradient one process computes on the whole step. The default is one
// process holding every micro-batch whole.
struct StepShards {
    Distributed *distributed = nullptr;
    std::vector<double> shares; // per local micro-batch; empty: 1 each
    std::int64_t numMicro = 0;  // the step's micro-batches, equal on all ranks; 0: the local count

    double share(std::size_t local) const { return shares.empty() ? 1.0 : shares.at(local); }
    std::int64_t microCount(std::size_t localCount) const
    {
        return numMicro > 0 ? numMicro : static_cast<std::int64_t>(localCount);
    }
};

// Between the backward passes and finishOptimizerStep: every rank learns whether all losses were
// finite (the returned value); when they were, the gradients of params are summed over the ranks.
// The metrics are reduced to every rank's weighted mean either way. A no-op for one process.
bool reduceStep(Distributed *distributed, bool finiteLoss, const std::vector<at::Tensor> &params,
                MetricAverager &metrics);

// Adds "learning_rate" and "grad_norm" to metrics. Returns whether the optimizer stepped.
bool finishOptimizerStep(MetricMap &metrics, bool finiteLoss, const std::vector<at::Tensor> &params,
                         std::optional<double> maxGradNorm, torch::optim::Optimizer &optimizer,
                         LrScheduler &scheduler);

} // namespace mp
