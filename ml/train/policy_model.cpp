#include "ml/train/policy_model.h"

#include <torch/torch.h>

namespace mp {

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
