#include "ml/models/t5_single_query.h"

#include "ml/core/parallel_for.h"

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

void singleQueryAttentionRaw(const SingleQueryView &query, const SingleQueryView &key,
                             const SingleQueryView &value, const SingleQueryView &bias, float *out,
                             std::int64_t outRowStride, std::int64_t outHeadStride,
                             std::int64_t batch, std::int64_t heads, std::int64_t length,
                             std::int64_t dim)
{
    // A thread gets at least about 32K multiply-adds: a pair's few (row, head) products per step
    // cost less than waking a second thread (at two threads the default-size pair took 40% longer
    // with a grain of one).
    const std::int64_t grain =
        std::max<std::int64_t>(1, 32768 / std::max<std::int64_t>(1, 2 * length * dim));
    parallelFor(0, batch * heads, grain, [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> weights(static_cast<std::size_t>(length));
        for (std::int64_t bh = begin; bh < end; ++bh) {
            const auto row = bh / heads;
            const auto head = bh % heads;
            const float *qRow = query.data + row * query.row + head * query.head;
            const float *kHead = key.data + row * key.row + head * key.head;
            const float *vHead = value.data + row * value.row + head * value.head;
            const float *bHead =
                bias.data ? bias.data + row * bias.row + head * bias.head : nullptr;
            float top = -std::numeric_limits<float>::infinity();
            for (std::int64_t t = 0; t < length; ++t) {
                float score = dot(qRow, kHead + t * key.position, dim);
                if (bHead)
                    score += bHead[t * bias.position];
                weights[static_cast<std::size_t>(t)] = score;
                top = std::max(top, score);
            }
            float total = 0.0f;
            for (auto &w : weights) {
                w = std::exp(w - top);
                total += w;
            }
            float *outRow = out + row * outRowStride + head * outHeadStride;
            std::fill(outRow, outRow + dim, 0.0f);
            const float scale = 1.0f / total;
            for (std::int64_t t = 0; t < length; ++t) {
                const float w = weights[static_cast<std::size_t>(t)] * scale;
                addScaled(outRow, vHead + t * value.position, w, dim);
            }
        }
    });
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
    const auto view = [](const at::Tensor &t) {
        return SingleQueryView{t.data_ptr<float>(), t.stride(0), t.stride(1), t.stride(2)};
    };
    const SingleQueryView biasView =
        b.defined() ? SingleQueryView{b.data_ptr<float>(), b.stride(0), b.stride(1), b.stride(3)}
                    : SingleQueryView{};
    singleQueryAttentionRaw(view(q), view(key), view(value), biasView, out.data_ptr<float>(),
                            out.stride(0), out.stride(1), batch, heads, length, dim);
    return out;
}

} // namespace mp
