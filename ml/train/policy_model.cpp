#include "ml/train/policy_model.h"

#include <torch/torch.h>

namespace mp {

ScoredLabels PolicyModel::scoreLabels(const at::Tensor &encoderIds, const at::Tensor &encoderMask,
                                      const at::Tensor &labels, const LogProbOptions &options)
{
    const at::Tensor logits = forward(encoderIds, encoderMask, labels);
    ScoredLabels out;
    out.tokens = tokenLogProbs(logits, labels, options);
    out.logitSums = logits.detach().to(torch::kDouble).sum({1, 2});
    out.logitsPerRow = logits.size(1) * logits.size(2);
    return out;
}

void PolicyModel::saveState(torch::serialize::OutputArchive &archive)
{
    module().save(archive);
}

void PolicyModel::loadState(torch::serialize::InputArchive &archive)
{
    module().load(archive);
}

AdapterDisabledScope::AdapterDisabledScope(PolicyModel &policy)
    : m_policy(policy), m_previous(policy.adapterEnabled())
{
    m_policy.setAdapterEnabled(false);
}

AdapterDisabledScope::~AdapterDisabledScope()
{
    m_policy.setAdapterEnabled(m_previous);
}

} // namespace mp
