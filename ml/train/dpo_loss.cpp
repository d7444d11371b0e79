#include "ml/train/dpo_loss.h"

#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/train/running_moments.h"

namespace mp {

namespace {

void checkSameShape(const at::Tensor &a, const at::Tensor &b, const char *what)
{
    if (a.dim() != 1 || !a.sizes().equals(b.sizes()))
        throw std::invalid_argument(std::string("dpoLoss: ") + what +
                                    " must be 1-D tensors of one length");
}

} // namespace

DpoLossType parseDpoLossType(std::string_view name)
{
    std::string accepted;
    for (const DpoLossName &entry : kDpoLossNames) {
        if (entry.name == name)
            return entry.type;
        accepted += (accepted.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw InputError("unknown DPO loss type '" + std::string(name) + "' (expected one of " +
                     accepted + ")");
}

std::string_view dpoLossTypeName(DpoLossType type)
{
    for (const DpoLossName &entry : kDpoLossNames) {
        if (entry.type == type)
            return entry.name;
    }
    return "sigmoid";
}

bool supportsLabelSmoothing(DpoLossType type)
{
    return type == DpoLossType::Sigmoid || type == DpoLossType::Robust;
}

DpoLossResult dpoLoss(const at::Tensor &policyChosen, const at::Tensor &policyRejected,
                      const at::Tensor &refChosen, const at::Tensor &refRejected,
                      const DpoLossOptions &options, const at::Tensor &labelSmoothing,
                      RunningMoments *bcoMoments)
{
    checkSameShape(policyChosen, policyRejected, "policy log-probs");
    checkSameShape(policyChosen, refChosen, "policy and reference log-probs");
    checkSameShape(refChosen, refRejected, "reference log-probs");
    const double beta = options.beta;
    // The reference has no gradient in any case (a frozen copy or the adapter-disabled pass).
    const at::Tensor rc = refChosen.detach().to(policyChosen.scalar_type());
    const at::Tensor rr = refRejected.detach().to(policyChosen.scalar_type());

    const at::Tensor chosenLogratio = policyChosen - rc;
    const at::Tensor rejectedLogratio = policyRejected - rr;
    const at::Tensor piLogratio = policyChosen - policyRejected;
    const at::Tensor refLogratio = options.referenceFree ? torch::zeros_like(piLogratio) : rc - rr;
    const at::Tensor h = piLogratio - refLogratio;

    at::Tensor eps;
    if (labelSmoothing.defined()) {
        if (!labelSmoothing.sizes().equals(policyChosen.sizes()))
            throw std::invalid_argument("dpoLoss: per-example label smoothing must be [B]");
        eps = labelSmoothing.detach().to(policyChosen.options());
    } else {
        eps = torch::full_like(policyChosen, options.labelSmoothing);
    }

    at::Tensor losses;
    switch (options.type) {
    case DpoLossType::Sigmoid:
        losses = -(1 - eps) * torch::log_sigmoid(beta * h) - eps * torch::log_sigmoid(-beta * h);
        break;
    case DpoLossType::Robust:
        losses = (-(1 - eps) * torch::log_sigmoid(beta * h) + eps * torch::log_sigmoid(-beta * h)) /
                 (1 - 2 * eps);
        break;
    case DpoLossType::Hinge:
        losses = torch::relu(1 - beta * h);
        break;
    case DpoLossType::Ipo:
        losses = (h - 1 / (2 * beta)).pow(2);
        break;
    case DpoLossType::KtoPair: {
        // Batch KL estimates, clamped at 0 and deliberately not detached (TRL's kto_pair).
        const at::Tensor chosenKl = chosenLogratio.mean().clamp_min(0);
        const at::Tensor rejectedKl = rejectedLogratio.mean().clamp_min(0);
        losses = torch::cat({1 - torch::sigmoid(beta * (chosenLogratio - rejectedKl)),
                             1 - torch::sigmoid(beta * (chosenKl - rejectedLogratio))});
        break;
    }
    case DpoLossType::BcoPair: {
        if (!bcoMoments)
            throw std::invalid_argument("dpoLoss: bco_pair needs RunningMoments");
        const at::Tensor rewards =
            torch::cat({beta * chosenLogratio, beta * rejectedLogratio}).mean().detach();
        bcoMoments->update(rewards);
        const double delta = bcoMoments->mean();
        losses = -torch::log_sigmoid(beta * chosenLogratio - delta) -
                 torch::log_sigmoid(-(beta * rejectedLogratio - delta));
        break;
    }
    case DpoLossType::SppoHard:
        losses =
            (chosenLogratio - 1 / (2 * beta)).pow(2) + (rejectedLogratio + 1 / (2 * beta)).pow(2);
        break;
    case DpoLossType::NcaPair:
        losses = -torch::log_sigmoid(beta * chosenLogratio) -
                 0.5 * torch::log_sigmoid(-beta * chosenLogratio) -
                 0.5 * torch::log_sigmoid(-beta * rejectedLogratio);
        break;
    }
    return {losses, (beta * chosenLogratio).detach(), (beta * rejectedLogratio).detach()};
}

MetricMap dpoMetrics(const DpoLossResult &result, const at::Tensor &policyChosen,
                     const at::Tensor &policyRejected, double chosenLogitsMean,
                     double rejectedLogitsMean)
{
    const at::Tensor chosen = result.chosenRewards.to(torch::kDouble);
    const at::Tensor rejected = result.rejectedRewards.to(torch::kDouble);
    MetricMap metrics;
    metrics["rewards/chosen"] = chosen.mean().item<double>();
    metrics["rewards/rejected"] = rejected.mean().item<double>();
    // Strict: a tie is not an accuracy hit (unlike the reward model's eval accuracy).
    metrics["rewards/accuracies"] = (chosen > rejected).to(torch::kDouble).mean().item<double>();
    metrics["rewards/margins"] = (chosen - rejected).mean().item<double>();
    metrics["logps/chosen"] = policyChosen.detach().to(torch::kDouble).mean().item<double>();
    metrics["logps/rejected"] = policyRejected.detach().to(torch::kDouble).mean().item<double>();
    metrics["logits/chosen"] = chosenLogitsMean;
    metrics["logits/rejected"] = rejectedLogitsMean;
    return metrics;
}

} // namespace mp
