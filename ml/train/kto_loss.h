#pragma once
// KTOTrainer's loss (TRL v0.8.x, spec §2): unpaired desirable/undesirable completions against a
// detached batch KL estimate from mismatched (prompt, completion) pairs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"

namespace mp {

struct KtoLossOptions {
    double beta = 0.1;
    double desirableWeight = 1.0;   // λ_D
    double undesirableWeight = 1.0; // λ_U
};

struct KtoLossResult {
    at::Tensor loss;         // mean(cat[λ_D·L_chosen, λ_U·L_rejected]); NaN when both are empty
    at::Tensor chosenLosses; // [n_D], unweighted
    at::Tensor rejectedLosses;  // [n_U], unweighted
    at::Tensor chosenRewards;   // β(pc - rc), detached
    at::Tensor rejectedRewards; // β(pr - rr), detached
    double kl = 0.0;            // clamp_min(mean(policyKl - refKl), 0), detached
};

// pc/rc: desirable rows [n_D]; pr/rr: undesirable rows [n_U] (either may be empty, as in v0.8.6);
// policyKl/refKl: log-probs of the mismatched completions [n].
KtoLossResult ktoLoss(const at::Tensor &policyChosen, const at::Tensor &refChosen,
                      const at::Tensor &policyRejected, const at::Tensor &refRejected,
                      const at::Tensor &policyKl, const at::Tensor &refKl,
                      const KtoLossOptions &options = {});

// rewards/{chosen,rejected,margins}, kl, logps/{chosen,rejected}; sides that are empty are left
// out.
MetricMap ktoMetrics(const KtoLossResult &result, const at::Tensor &policyChosen,
                     const at::Tensor &policyRejected);

// The KL dataset's completion order: within consecutive blocks of totalBatchSize rows (the last
// may be shorter) completions are reversed, giving mismatched pairs (x_i, y_{n-1-i}). A total
// batch size of 1 has no mismatch and is an InputError.
std::vector<std::int64_t> ktoMismatchedOrder(std::int64_t numRows, std::int64_t totalBatchSize);

// TRL's warning band: λ_D·n_D / (λ_U·n_U) should lie in [1, 4/3]. A message when it does not.
std::optional<std::string> ktoWeightWarning(std::int64_t numDesirable, std::int64_t numUndesirable,
                                            const KtoLossOptions &options);

} // namespace mp
