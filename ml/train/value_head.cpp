#include "ml/train/value_head.h"

#include <torch/torch.h>

namespace mp {

ValueHeadImpl::ValueHeadImpl(std::int64_t hiddenSize, double dropoutRate)
{
    dropout = register_module("dropout", torch::nn::Dropout(dropoutRate));
    summary = register_module("summary", torch::nn::Linear(hiddenSize, 1));
}

at::Tensor ValueHeadImpl::forward(const at::Tensor &states)
{
    return summary->forward(dropout->forward(states).to(summary->weight.scalar_type())).squeeze(-1);
}

} // namespace mp
