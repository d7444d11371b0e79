#include "ml/train/kto_loss.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "ml/core/error.h"

namespace mp {

KtoLossResult ktoLoss(const at::Tensor &policyChosen, const at::Tensor &refChosen,
                      const at::Tensor &policyRejected, const at::Tensor &refRejected,
                      const at::Tensor &policyKl, const at::Tensor &refKl,
                      const KtoLossOptions &options)
{
    if (!policyChosen.sizes().equals(refChosen.sizes()) ||
        !policyRejected.sizes().equals(refRejected.sizes()) ||
        !policyKl.sizes().equals(refKl.sizes()))
        throw std::invalid_argument("ktoLoss: policy and reference log-probs differ in shape");
    const double beta = options.beta;
    // Detached: the KL estimate is a baseline, not something to optimise (unlike kto_pair).
    const at::Tensor klTensor = (policyKl - refKl).detach().mean().clamp_min(0);
    const double kl = klTensor.to(torch::kDouble).item<double>();

    const at::Tensor chosenLogratio = policyChosen - refChosen.detach();
    const at::Tensor rejectedLogratio = policyRejected - refRejected.detach();
    KtoLossResult result;
    result.kl = kl;
    result.chosenLosses = 1 - torch::sigmoid(beta * (chosenLogratio - klTensor));
    result.rejectedLosses = 1 - torch::sigmoid(beta * (klTensor - rejectedLogratio));
    result.chosenRewards = (beta * chosenLogratio).detach();
    result.rejectedRewards = (beta * rejectedLogratio).detach();
    const at::Tensor all = torch::cat({options.desirableWeight * result.chosenLosses,
                                       options.undesirableWeight * result.rejectedLosses});
    result.loss =
        all.numel() > 0 ? all.mean() : torch::full({}, std::nan(""), policyChosen.options());
    return result;
}

MetricMap ktoMetrics(const KtoLossResult &result, const at::Tensor &policyChosen,
                     const at::Tensor &policyRejected)
{
    MetricMap metrics;
    metrics["kl"] = result.kl;
    const bool hasChosen = result.chosenRewards.numel() > 0;
    const bool hasRejected = result.rejectedRewards.numel() > 0;
    if (hasChosen) {
        metrics["rewards/chosen"] = result.chosenRewards.to(torch::kDouble).mean().item<double>();
        metrics["logps/chosen"] = policyChosen.detach().to(torch::kDouble).mean().item<double>();
    }
    if (hasRejected) {
        metrics["rewards/rejected"] =
            result.rejectedRewards.to(torch::kDouble).mean().item<double>();
        metrics["logps/rejected"] =
            policyRejected.detach().to(torch::kDouble).mean().item<double>();
    }
    if (hasChosen && hasRejected)
        metrics["rewards/margins"] = metrics["rewards/chosen"] - metrics["rewards/rejected"];
    return metrics;
}

std::vector<std::int64_t> ktoMismatchedOrder(std::int64_t numRows, std::int64_t totalBatchSize)
{
    if (totalBatchSize <= 1)
        throw InputError("KTO needs a total batch size above 1 to build mismatched KL pairs");
    std::vector<std::int64_t> order(static_cast<size_t>(std::max<std::int64_t>(numRows, 0)));
    for (std::int64_t start = 0; start < numRows; start += totalBatchSize) {
        const std::int64_t end = std::min(numRows, start + totalBatchSize);
        for (std::int64_t i = start; i < end; ++i)
            order[static_cast<size_t>(i)] = end - 1 - (i - start);
    }
    return order;
}

std::optional<std::string> ktoWeightWarning(std::int64_t numDesirable, std::int64_t numUndesirable,
                                            const KtoLossOptions &options)
{
    if (numDesirable == 0 || numUndesirable == 0)
        return std::nullopt;
    const double ratio = options.desirableWeight * static_cast<double>(numDesirable) /
                         (options.undesirableWeight * static_cast<double>(numUndesirable));
    if (ratio >= 1.0 && ratio <= 4.0 / 3.0)
        return std::nullopt;
    std::ostringstream out;
    out << "KTO weights: desirable_weight*n_desirable / (undesirable_weight*n_undesirable) = "
        << ratio << " lies outside the recommended [1, 4/3]";
    return out.str();
}

} // namespace mp
