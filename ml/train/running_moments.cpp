#include "ml/train/running_moments.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace mp {

RunningMoments::BatchMoments RunningMoments::update(const at::Tensor &values)
{
    const at::Tensor x = values.detach().to(torch::kDouble).reshape(-1);
    const double n = static_cast<double>(x.numel());
    if (n == 0)
        throw std::invalid_argument("RunningMoments::update: empty batch");
    const double batchMean = x.mean().item<double>();
    const double batchVar = x.var(/*unbiased=*/false).item<double>();

    const double delta = batchMean - m_mean;
    const double total = m_count + n;
    m_var = (m_var * m_count + delta * delta * m_count * n / total + batchVar * n) / total;
    m_mean += delta * n / total;
    m_std = std::sqrt(m_var * total / (total - 1.0));
    m_count = total;
    const double batchStd = n > 1 ? std::sqrt(batchVar * n / (n - 1.0)) : std::nan("");
    return {batchMean, batchStd};
}

void RunningMoments::setState(double mean, double var, double std, double count)
{
    m_mean = mean;
    m_var = var;
    m_std = std;
    m_count = count;
}

} // namespace mp
