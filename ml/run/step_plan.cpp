#include "ml/run/step_plan.h"

#include <algorithm>

namespace mp {
namespace {

std::int64_t ceilDiv(std::int64_t a, std::int64_t b)
{
    return (a + b - 1) / b;
}

} // namespace

StepPlan::StepPlan(std::int64_t trainPairs, std::int64_t batch, std::int64_t accumulation,
                   std::int64_t epochs)
    : batchSize(std::max<std::int64_t>(1, batch)),
      gradAccum(std::max<std::int64_t>(1, accumulation))
{
    microPerEpoch = std::max<std::int64_t>(1, ceilDiv(trainPairs, batchSize));
    stepsPerEpoch = ceilDiv(microPerEpoch, gradAccum);
    totalSteps = stepsPerEpoch * std::max<std::int64_t>(1, epochs);
}

std::vector<std::vector<PreferencePair>> stepMicroBatches(const std::vector<PreferencePair> &train,
                                                          const StepPlan &plan, std::int64_t step,
                                                          std::uint64_t seed)
{
    std::vector<std::int64_t> order(train.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<std::int64_t>(i);
    shufflePairIds(order, seed + static_cast<std::uint64_t>(plan.epochOf(step)));
    const std::int64_t firstMicro = (step % plan.stepsPerEpoch) * plan.gradAccum;
    const std::int64_t lastMicro = std::min(firstMicro + plan.gradAccum, plan.microPerEpoch);
    std::vector<std::vector<PreferencePair>> micro;
    for (std::int64_t m = firstMicro; m < lastMicro; ++m) {
        std::vector<PreferencePair> batch;
        const auto begin = m * plan.batchSize;
        const auto end =
            std::min<std::int64_t>(begin + plan.batchSize, static_cast<std::int64_t>(order.size()));
        for (auto i = begin; i < end; ++i)
            batch.push_back(train[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
        if (!batch.empty())
            micro.push_back(std::move(batch));
    }
    return micro;
}

} // namespace mp
