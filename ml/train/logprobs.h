#pragma once
// Sequence log-probabilities of label tokens under a model's logits (TRL get_batch_logps, spec
// §1.2), and the token log-prob gathering PPO uses (§4.3).

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace mp {

// TRL's label_pad_token_id: labels equal to it are not scored.
inline constexpr std::int64_t kIgnoreLabel = -100;

enum class LabelAlignment {
    EncoderDecoder, // logits[t] predicts labels[t] (T5: decoder input = shift_right(labels))
    DecoderOnly,    // logits[t] predicts labels[t+1]: drop the first label and the last logit
};

struct LogProbOptions {
    LabelAlignment alignment = LabelAlignment::EncoderDecoder;
    bool average = false; // per-token mean instead of sum (TRL: true only for IPO)
    std::int64_t ignoreIndex = kIgnoreLabel;
    // Whether the caller reads ScoredLabels' logit sums (TRL's logits/* metric, which counts the
    // padding); without them a policy may leave each row's padding out of the decoder.
    bool logitSums = true;
};

// Per-token log-probs of the (aligned) labels and the mask of scored positions, both [N,T'].
// Unscored positions hold 0 in `logps`.
struct TokenLogProbs {
    at::Tensor logps;
    at::Tensor mask; // same dtype as logits, 1 where scored
};

// logits [N,T,V] (any float dtype), labels [N,T] int64. Throws std::invalid_argument on shapes.
TokenLogProbs tokenLogProbs(const at::Tensor &logits, const at::Tensor &labels,
                            const LogProbOptions &options = {});

// [N]: Σ_t logp_t·mask_t, or that divided by Σ_t mask_t when options.average (a row with no
// scored token gives 0/0 = NaN there, as in TRL).
at::Tensor sequenceLogProbs(const at::Tensor &logits, const at::Tensor &labels,
                            const LogProbOptions &options = {});
// The same from token log-probs already gathered (options.average read, the rest ignored).
at::Tensor sequenceLogProbs(const TokenLogProbs &tokens, const LogProbOptions &options = {});

// TRL's logits/* metric: the plain mean of every entry of the logits tensor, padding included.
double logitsMean(const at::Tensor &logits);

// PPO's logprobs_from_logits: log_softmax(logits)[..., ids] for every position, no masking.
// logits [N,L,V], ids [N,L] -> [N,L].
at::Tensor gatherLogProbs(const at::Tensor &logits, const at::Tensor &ids);

// Entropy of the softmax of logits along the last dim: logsumexp(z) - Σ softmax(z)·z.
at::Tensor entropyFromLogits(const at::Tensor &logits);

} // namespace mp
