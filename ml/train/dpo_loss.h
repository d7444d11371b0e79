#pragma once
// The DPO family of preference losses on sequence log-probs (spec §1.3-1.4, TRL v0.7.11 with the
// paper's per-example label smoothing, plus the v0.9 losses the spec gives vectors for).

#include <string_view>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"

namespace mp {

class RunningMoments;

enum class DpoLossType { Sigmoid, Hinge, Ipo, KtoPair, Robust, BcoPair, SppoHard, NcaPair };

struct DpoLossName {
    DpoLossType type;
    std::string_view name;
};
// Every loss with its run.json name, in the order forms offer them: the one list the parser, the
// CLI's messages and the Train form read.
inline constexpr DpoLossName kDpoLossNames[] = {
    {DpoLossType::Sigmoid, "sigmoid"},
    {DpoLossType::Hinge, "hinge"},
    {DpoLossType::Ipo, "ipo"},
    {DpoLossType::KtoPair, "kto_pair"},
    {DpoLossType::Robust, "robust"},
    {DpoLossType::BcoPair, "bco_pair"},
    {DpoLossType::SppoHard, "sppo_hard"},
    {DpoLossType::NcaPair, "nca_pair"},
};

// "sigmoid", "hinge", "ipo", "kto_pair", "robust", "bco_pair", "sppo_hard", "nca_pair".
// Throws InputError listing the accepted names.
DpoLossType parseDpoLossType(std::string_view name);
std::string_view dpoLossTypeName(DpoLossType type);

// IPO scores sequences by per-token mean log-probs (policy and reference), every other loss by
// sums.
inline bool usesAverageLogProbs(DpoLossType type)
{
    return type == DpoLossType::Ipo;
}
// Losses whose formula has a label-smoothing ε (TRL warns and ignores it for the others).
bool supportsLabelSmoothing(DpoLossType type);

struct DpoLossOptions {
    DpoLossType type = DpoLossType::Sigmoid;
    double beta = 0.1;           // τ for IPO
    double labelSmoothing = 0.0; // scalar cDPO ε, used when no per-example tensor is given
    bool referenceFree = false;  // reference log-ratio taken as 0 in h
};

struct DpoLossResult {
    at::Tensor losses;          // [B], or [2B] for kto_pair; the trainer's loss is losses.mean()
    at::Tensor chosenRewards;   // β(pc - rc), detached
    at::Tensor rejectedRewards; // β(pr - rr), detached
};

// pc/pr/rc/rr: [B] policy and reference log-probs of chosen and rejected. labelSmoothing, when
// defined, is a per-example ε [B] replacing the scalar (the paper's per-degree smoothing).
// bcoMoments is required for bco_pair (its reward shift δ is a running mean) and updated by it.
DpoLossResult dpoLoss(const at::Tensor &policyChosen, const at::Tensor &policyRejected,
                      const at::Tensor &refChosen, const at::Tensor &refRejected,
                      const DpoLossOptions &options, const at::Tensor &labelSmoothing = {},
                      RunningMoments *bcoMoments = nullptr);

// rewards/{chosen,rejected,accuracies (strict >),margins}, logps/{chosen,rejected} and
// logits/{chosen,rejected} (means of the policy logits of each half, padding included: see
// logitsMean). Unprefixed; the caller adds "eval_".
MetricMap dpoMetrics(const DpoLossResult &result, const at::Tensor &policyChosen,
                     const at::Tensor &policyRejected, double chosenLogitsMean,
                     double rejectedLogitsMean);

} // namespace mp
