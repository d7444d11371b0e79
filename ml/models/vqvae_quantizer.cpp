#include "ml/models/vqvae_quantizer.h"

#include <torch/torch.h>

#include <cmath>

namespace mp {

QuantizeEmaResetImpl::QuantizeEmaResetImpl(std::int64_t numCodes, std::int64_t codeDim, double mu)
    : m_numCodes(numCodes), m_codeDim(codeDim), m_mu(mu)
{
    codebook = register_buffer("codebook", torch::zeros({numCodes, codeDim}));
}

void QuantizeEmaResetImpl::setCodebook(const at::Tensor &values)
{
    torch::NoGradGuard noGrad;
    codebook.copy_(values);
    m_codeSum = codebook.clone();
    m_codeCount = torch::ones({m_numCodes}, codebook.options());
    m_initialized = true;
}

void QuantizeEmaResetImpl::setEmaState(const at::Tensor &codeSum, const at::Tensor &codeCount)
{
    m_codeSum = codeSum.to(codebook.options()).clone();
    m_codeCount = codeCount.to(codebook.options()).clone();
    m_initialized = true;
}

at::Tensor QuantizeEmaResetImpl::tile(const at::Tensor &rows) const
{
    const auto count = rows.size(0);
    if (count >= m_numCodes)
        return rows;
    const auto repeats = (m_numCodes + count - 1) / count;
    const double std = 0.01 / std::sqrt(static_cast<double>(m_codeDim));
    auto out = rows.repeat({repeats, 1});
    return out + torch::randn_like(out) * std;
}

at::Tensor QuantizeEmaResetImpl::quantize(const at::Tensor &rows) const
{
    const auto k = codebook.t();
    const auto distance =
        rows.pow(2).sum(-1, true) - 2 * torch::matmul(rows, k) + k.pow(2).sum(0, true);
    return std::get<1>(distance.min(-1));
}

at::Tensor QuantizeEmaResetImpl::dequantize(const at::Tensor &codes) const
{
    return torch::embedding(codebook, codes);
}

at::Tensor QuantizeEmaResetImpl::perplexity(const at::Tensor &codes) const
{
    const auto counts = torch::bincount(codes.flatten(), {}, m_numCodes).to(codebook.scalar_type());
    const auto prob = counts / counts.sum();
    return torch::exp(-(prob * torch::log(prob + 1e-7)).sum());
}

at::Tensor QuantizeEmaResetImpl::updateCodebook(const at::Tensor &rows, const at::Tensor &codes)
{
    torch::NoGradGuard noGrad;
    const auto x = rows.detach();
    auto onehot = torch::zeros({m_numCodes, x.size(0)}, x.options());
    onehot.scatter_(0, codes.view({1, -1}), 1.0);
    const auto batchSum = torch::matmul(onehot, x);
    const auto batchCount = onehot.sum(-1);
    const auto random = tile(x).narrow(0, 0, m_numCodes);

    m_codeSum = m_mu * m_codeSum + (1.0 - m_mu) * batchSum;
    m_codeCount = m_mu * m_codeCount + (1.0 - m_mu) * batchCount;
    // A code whose EMA count fell below one is dead: it takes a random encoder output instead.
    const auto usage = (m_codeCount.view({m_numCodes, 1}) >= 1.0).to(x.scalar_type());
    const auto updated = m_codeSum / m_codeCount.view({m_numCodes, 1});
    codebook.copy_(usage * updated + (1.0 - usage) * random);

    const auto prob = batchCount / batchCount.sum();
    return torch::exp(-(prob * torch::log(prob + 1e-7)).sum());
}

QuantizerOutput QuantizeEmaResetImpl::forward(const at::Tensor &x)
{
    const auto batch = x.size(0);
    const auto length = x.size(2);
    // (N, C, T) -> (N*T, C)
    const auto rows = x.permute({0, 2, 1}).contiguous().view({-1, x.size(1)});
    if (is_training() && !m_initialized)
        setCodebook(tile(rows.detach()).narrow(0, 0, m_numCodes));
    const auto codes = quantize(rows.detach());
    const auto picked = dequantize(codes);
    QuantizerOutput out;
    out.perplexity = is_training() ? updateCodebook(rows, codes) : perplexity(codes);
    out.commitLoss = torch::mse_loss(rows, picked.detach());
    const auto straightThrough = rows + (picked - rows).detach();
    out.quantized = straightThrough.view({batch, length, -1}).permute({0, 2, 1}).contiguous();
    out.codes = codes.view({batch, length});
    return out;
}

} // namespace mp
