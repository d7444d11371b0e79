#pragma once
// The fixed schedule of a run over its training pairs: micro-batches per epoch, optimizer steps
// per epoch and in all, and which pairs each step sees. A step's batches depend only on the seed
// and the step, so a resumed run sees exactly the batches the uninterrupted one would have.

#include <cstdint>
#include <vector>

#include "ml/train/preference_data.h"

namespace mp {

struct StepPlan {
    std::int64_t batchSize = 1;
    std::int64_t gradAccum = 1;
    std::int64_t microPerEpoch = 1;
    std::int64_t stepsPerEpoch = 1;
    std::int64_t totalSteps = 1;

    StepPlan(std::int64_t trainPairs, std::int64_t batchSize, std::int64_t gradAccum,
             std::int64_t epochs);
    std::int64_t epochOf(std::int64_t step) const { return step / stepsPerEpoch; }
    bool endsEpoch(std::int64_t stepsDone) const { return stepsDone % stepsPerEpoch == 0; }
    double epochAt(std::int64_t stepsDone) const
    {
        return static_cast<double>(stepsDone) / static_cast<double>(stepsPerEpoch);
    }
};

// The pairs of optimizer step `step` (0-based): the epoch's seeded order, then the step's
// micro-batches.
std::vector<std::vector<PreferencePair>> stepMicroBatches(const std::vector<PreferencePair> &train,
                                                          const StepPlan &plan, std::int64_t step,
                                                          std::uint64_t seed);

} // namespace mp
