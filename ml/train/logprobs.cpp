#include "ml/train/logprobs.h"

#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "ml/train/picked_log_probs.h"

namespace mp {

namespace {

std::string shapeText(const at::Tensor &t)
{
    std::string out = "(";
    for (std::int64_t i = 0; i < t.dim(); ++i)
        out += (i ? "," : "") + std::to_string(t.size(i));
    return out + ")";
}

} // namespace

TokenLogProbs tokenLogProbs(const at::Tensor &logits, const at::Tensor &labels,
                            const LogProbOptions &options)
{
    if (logits.dim() != 3 || labels.dim() != 2 || logits.size(0) != labels.size(0) ||
        logits.size(1) != labels.size(1))
        throw std::invalid_argument(
            "tokenLogProbs: expected logits (N,T,V) and labels (N,T), got " + shapeText(logits) +
            " and " + shapeText(labels));
    at::Tensor alignedLogits = logits;
    at::Tensor alignedLabels = labels.to(torch::kLong);
    if (options.alignment == LabelAlignment::DecoderOnly) {
        alignedLabels = alignedLabels.slice(1, 1);
        alignedLogits = alignedLogits.slice(1, 0, logits.size(1) - 1);
    }
    const at::Tensor scored = alignedLabels != options.ignoreIndex;
    // Unscored labels index a dummy token 0; their log-prob is masked out below.
    const at::Tensor index = alignedLabels.masked_fill(scored.logical_not(), 0);
    const at::Tensor perToken = pickedLogProbs(alignedLogits, index);
    const at::Tensor mask = scored.to(perToken.scalar_type());
    return {perToken * mask, mask};
}

at::Tensor sequenceLogProbs(const at::Tensor &logits, const at::Tensor &labels,
                            const LogProbOptions &options)
{
    return sequenceLogProbs(tokenLogProbs(logits, labels, options), options);
}

at::Tensor sequenceLogProbs(const TokenLogProbs &tokens, const LogProbOptions &options)
{
    const at::Tensor sum = tokens.logps.sum(1);
    if (options.average)
        return sum / tokens.mask.sum(1);
    return sum;
}

double logitsMean(const at::Tensor &logits)
{
    return logits.detach().to(torch::kDouble).mean().item<double>();
}

at::Tensor gatherLogProbs(const at::Tensor &logits, const at::Tensor &ids)
{
    if (logits.dim() != 3 || ids.dim() != 2 || logits.size(0) != ids.size(0) ||
        logits.size(1) != ids.size(1))
        throw std::invalid_argument("gatherLogProbs: expected logits (N,L,V) and ids (N,L), got " +
                                    shapeText(logits) + " and " + shapeText(ids));
    return pickedLogProbs(logits, ids.to(torch::kLong));
}

at::Tensor entropyFromLogits(const at::Tensor &logits)
{
    const at::Tensor probs = torch::softmax(logits, -1);
    return torch::logsumexp(logits, -1) - (probs * logits).sum(-1);
}

} // namespace mp
