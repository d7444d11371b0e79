#pragma once
// PPO's tensor math as TRL v0.7.11-v0.8.6 computes it (spec §4.3-4.7): KL penalties, per-token
// rewards, masked statistics, GAE, the clipped losses and the logged stats. Pure functions on
// [B,L] tensors; the trainer owns models, batching and optimisation.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/metrics.h"

namespace mp {

class RunningMoments;

enum class KlPenalty {
    Kl,   // lp - ref
    Abs,  // |lp - ref|
    Mse,  // ½(lp - ref)²
    K3,   // e^r - r - 1 with r = lp - ref (the paper's separate-critic PPO)
    Full, // Σ_v exp(lp_v)(lp_v - ref_v) over full log-softmax tensors [..., V]
};

// PPO's value function (the paper has the first two, spec §1.6).
enum class PpoCritic {
    Separate,  // a T5 of its own from the reward model, zero value head (ppo_sep_critic.py)
    ValueHead, // a value head on the policy's decoder states (ppo.py; TRL's default)
    None,      // no critic: every value 0
};
// "separate", "value_head", "none"; InputError otherwise.
PpoCritic parsePpoCritic(std::string_view name);
std::string_view ppoCriticName(PpoCritic critic);

// "kl", "abs", "mse", "k3", "full"; InputError otherwise.
KlPenalty parseKlPenalty(std::string_view name);
std::string_view klPenaltyName(KlPenalty penalty);

// Per-token KL estimate. For Full, logprobs/refLogprobs are log-softmax tensors [..., V] and the
// result drops the last dim.
at::Tensor klPenalty(const at::Tensor &logprobs, const at::Tensor &refLogprobs, KlPenalty penalty);

// Σx·m / Σm over everything, or along `dim`.
at::Tensor maskedMean(const at::Tensor &values, const at::Tensor &mask,
                      std::optional<std::int64_t> dim = std::nullopt);
// Unbiased (n/(n-1)) masked variance over everything; throws std::invalid_argument when Σm = 0.
at::Tensor maskedVar(const at::Tensor &values, const at::Tensor &mask);
// (x - μ)·rsqrt(var + 1e-8); with shiftMean false μ is added back.
at::Tensor maskedWhiten(const at::Tensor &values, const at::Tensor &mask, bool shiftMean = true);

struct PerTokenRewards {
    at::Tensor rewards;         // [B,L]: -kl_coef·kl, plus the score at each row's last mask index
    at::Tensor nonScoreRewards; // [B,L]: -kl_coef·kl
    at::Tensor kls;             // [B,L]: the per-token penalty
};

// scores [B]; masks [B,L]. For KlPenalty::Full the log-probs are [B,L,V]. Throws
// std::invalid_argument when a row has no mask position.
PerTokenRewards computeRewards(const at::Tensor &scores, const at::Tensor &logprobs,
                               const at::Tensor &refLogprobs, const at::Tensor &masks,
                               double klCoef, KlPenalty penalty = KlPenalty::Kl);

struct GaeOptions {
    double gamma = 1.0;
    double lam = 0.95;
    bool whitenRewards = false; // masked whitening of rewards (no mean shift) before GAE
};

struct Advantages {
    at::Tensor values;        // values·mask, as used in the value loss
    at::Tensor rawAdvantages; // GAE before whitening
    at::Tensor advantages;    // masked-whitened, detached
    at::Tensor returns;       // raw advantages + values
};

Advantages computeAdvantages(const at::Tensor &values, const at::Tensor &rewards,
                             const at::Tensor &mask, const GaeOptions &options = {});

struct PpoLossOptions {
    double cliprange = 0.2;
    double cliprangeValue = 0.2;
    double vfCoef = 0.1;
    double ratioThreshold = 10.0; // a mini-batch whose mean ratio exceeds it contributes 0 loss
};

// Scalars under TRL's names without the "ppo/" prefix ("loss/policy", "val/error", ...), and the
// flattened distributions ("policy/advantages", "policy/ratio").
struct PpoLossStats {
    MetricMap scalars;
    std::map<std::string, at::Tensor> distributions;
};

struct PpoLossResult {
    at::Tensor pgLoss;
    at::Tensor vfLoss;    // unscaled by vfCoef, as logged
    at::Tensor loss;      // pgLoss + vfCoef·vfLoss; zeroed when skipped
    bool skipped = false; // the ratio threshold fired
    PpoLossStats stats;
};

// oldLogprobs/oldValues come from the pre-update pass (oldValues = Advantages::values);
// logprobs/vpreds from the current forward; logits [B,L,V] (may be undefined: no entropy stat).
PpoLossResult ppoLoss(const at::Tensor &oldLogprobs, const at::Tensor &oldValues,
                      const at::Tensor &logits, const at::Tensor &vpreds,
                      const at::Tensor &logprobs, const at::Tensor &mask,
                      const at::Tensor &advantages, const at::Tensor &returns,
                      const PpoLossOptions &options = {});

// Averages mini-batch stats over all mini-batches of all PPO epochs (TRL stacks then means).
class PpoStatsAccumulator {
public:
    void add(const PpoLossStats &stats);
    // "ppo/"-prefixed scalars and "ppo/val/var_explained"; distributions concatenated.
    PpoLossStats mean() const;

private:
    MetricAverager m_scalars;
    std::map<std::string, std::vector<at::Tensor>> m_distributions;
};

struct PpoStepInputs {
    at::Tensor scores;      // [B] after scaling and clipping
    at::Tensor logprobs;    // [B,L] old policy log-probs
    at::Tensor refLogprobs; // [B,L]
    at::Tensor masks;       // [B,L]
    at::Tensor kls;         // [B,L] from computeRewards
    at::Tensor nonScoreRewards;
    at::Tensor queryLengths;    // [B] (optional)
    at::Tensor responseLengths; // [B] (optional)
    at::Tensor rawScores;       // [B] user scores before transforms (optional): env/reward_*
    double klCoef = 0.0;        // the coefficient the rewards used (pre-update)
    double learningRate = 0.0;
};

struct PpoStepStats {
    PpoLossStats stats;                // objective/*, ppo/mean_*, tokens/* + the given train stats
    std::vector<std::string> warnings; // e.g. the negative-KL warning
};

// TRL's record_step_stats: merges the step-level stats with `train` (from the accumulator).
PpoStepStats ppoStepStats(const PpoStepInputs &inputs, const PpoLossStats &train);

// Encoder-decoder response mask (spec §4.3): 1 for t in [1, len-2] of the L-1 log-prob positions,
// where len counts the decoder start token and the response up to its first EOS.
at::Tensor encoderDecoderResponseMask(const std::vector<std::int64_t> &responseLengths,
                                      std::int64_t numPositions);

// PPO's score transforms (§4.2): running scaling, optional normalisation, then clipping.
struct ScoreTransformOptions {
    bool useScaling = false;
    bool useNorm = false;            // only with useScaling
    std::optional<double> clip = {}; // symmetric bound
};
at::Tensor transformScores(const at::Tensor &scores, RunningMoments &running,
                           const ScoreTransformOptions &options);

// The KL coefficient: adaptive (Ziegler et al.) or fixed.
class KlController {
public:
    static KlController adaptive(double initValue, double target, double horizon);
    static KlController fixed(double value);

    double value() const { return m_value; }
    bool isAdaptive() const { return m_adaptive; }
    // current = the step's objective/kl; nSteps = batch size × processes.
    void update(double current, std::int64_t nSteps);
    void setValue(double value) { m_value = value; } // for resume

private:
    KlController(bool adaptive, double value, double target, double horizon);
    bool m_adaptive;
    double m_value;
    double m_target;
    double m_horizon;
};

} // namespace mp
