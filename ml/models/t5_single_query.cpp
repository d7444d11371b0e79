#include "ml/models/t5_single_query.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace mp {

namespace {

// Eight independent partial sums, so the compiler can keep them in one vector register without
// reassociating a single sum (which strict float semantics forbid); target_clones adds an AVX2
// copy chosen at load time where the CPU has it.
__attribute__((target_clones("avx2", "default"))) float dot(const float *a, const float *b,
                                                            std::int64_t n)
{
    float partial[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j)
            partial[j] += a[i + j] * b[i + j];
    float sum = 0.0f;
    for (; i < n; ++i)
        sum += a[i] * b[i];
    for (float p : partial)
        sum += p;
    return sum;
}

__attribute__((target_clones("avx2", "default"))) void addScaled(float *out, const float *x,
                                                                 float scale, std::int64_t n)
{
    for (std::int64_t i = 0; i < n; ++i)
        out[i] += scale * x[i];
}

} // namespace

bool canUseSingleQueryAttention(const at::Tensor &query, const at::Tensor &key,
                                const at::Tensor &value, const at::Tensor &bias)
{
    const auto isFloatCpu = [](const at::Tensor &t) {
        return !t.defined() || (t.device().is_cpu() && t.scalar_type() == at::kFloat);
    };
    return !at::GradMode::is_enabled() && query.dim() == 4 && query.size(2) == 1 &&
           key.dim() == 4 && value.dim() == 4 && key.stride(3) == 1 && value.stride(3) == 1 &&
           isFloatCpu(query) && isFloatCpu(key) && isFloatCpu(value) && isFloatCpu(bias) &&
           (!bias.defined() || bias.dim() == 4);
}

at::Tensor singleQueryAttention(const at::Tensor &query, const at::Tensor &key,
                                const at::Tensor &value, const at::Tensor &bias)
{
    const auto batch = query.size(0);
    const auto heads = query.size(1);
    const auto dim = query.size(3);
    const auto length = key.size(2);
    const auto q = query.contiguous();
    // (B or 1, H or 1, 1, T) with explicit zero strides where it broadcasts.
    const auto b = bias.defined() ? bias.expand({batch, heads, 1, length}) : at::Tensor();
    auto out = torch::empty({batch, heads, 1, dim}, query.options());
    const float *qData = q.data_ptr<float>();
    const float *kData = key.data_ptr<float>();
    const float *vData = value.data_ptr<float>();
    const float *bData = b.defined() ? b.data_ptr<float>() : nullptr;
    float *outData = out.data_ptr<float>();
    at::parallel_for(0, batch * heads, 1, [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> weights(static_cast<std::size_t>(length));
        for (std::int64_t bh = begin; bh < end; ++bh) {
            const auto row = bh / heads;
            const auto head = bh % heads;
            const float *qRow = qData + bh * dim;
            const float *kHead = kData + row * key.stride(0) + head * key.stride(1);
            const float *vHead = vData + row * value.stride(0) + head * value.stride(1);
            float top = -std::numeric_limits<float>::infinity();
            for (std::int64_t t = 0; t < length; ++t) {
                const float *kRow = kHead + t * key.stride(2);
                float score = dot(qRow, kRow, dim);
                if (bData)
                    score += bData[row * b.stride(0) + head * b.stride(1) + t * b.stride(3)];
                weights[static_cast<std::size_t>(t)] = score;
                top = std::max(top, score);
            }
            float total = 0.0f;
            for (auto &w : weights) {
                w = std::exp(w - top);
                total += w;
            }
            float *outRow = outData + bh * dim;
            std::fill(outRow, outRow + dim, 0.0f);
            const float scale = 1.0f / total;
            for (std::int64_t t = 0; t < length; ++t) {
                const float w = weights[static_cast<std::size_t>(t)] * scale;
                addScaled(outRow, vHead + t * value.stride(2), w, dim);
            }
        }
    });
    return out;
}

} // namespace mp
