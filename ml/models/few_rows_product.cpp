#include "ml/models/few_rows_product.h"

#include "ml/core/parallel_for.h"
#include "ml/models/vector16.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

namespace mp {

namespace {

__attribute__((always_inline)) inline float sum16(const Floats16 &v)
{
    // A tree of additions, halving the vector each time.
    float half[8];
    for (int i = 0; i < 8; ++i)
        half[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; ++i)
        half[i] += half[i + 4];
    return (half[0] + half[2]) + (half[1] + half[3]);
}

// How many weight rows ahead block() prefetches.
constexpr std::int64_t kPrefetchRows = 16;

// out[r][j] = sum_k x[r][k] * w[j][k] for Rows input rows and the Outs weight rows starting at j,
// over the first `vectorised` inputs (a multiple of 16), plus the scalar tail up to n.
template <int Rows, int Outs>
__attribute__((always_inline)) inline void block(const float *const *x, const float *w,
                                                 std::int64_t wStride, std::int64_t n,
                                                 float (&out)[Rows][Outs])
{
    Floats16 acc[Rows][Outs] = {};
    const float *xs[Rows];
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r)
        xs[r] = x[r];
    const std::int64_t vectorised = n - n % 16;
    for (std::int64_t k = 0; k < vectorised; k += 16) {
        Floats16 wv[Outs];
#pragma GCC unroll 16
        for (int o = 0; o < Outs; ++o) {
            load16(wv[o], w + o * wStride + k);
            // The weight rows 16 ahead: the weights come from memory (a model's step reads more
            // than the L2 holds), and the hardware prefetcher alone left the kernel waiting
            // (2 rows, 1024x256: 111 -> 55 us, 884x256: 74 -> 49 us, cold weights).
            __builtin_prefetch(w + (o + kPrefetchRows) * wStride + k);
        }
#pragma GCC unroll 16
        for (int r = 0; r < Rows; ++r) {
            Floats16 xv;
            load16(xv, xs[r] + k);
#pragma GCC unroll 16
            for (int o = 0; o < Outs; ++o)
                acc[r][o] += xv * wv[o];
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 16
        for (int o = 0; o < Outs; ++o) {
            float total = sum16(acc[r][o]);
            for (std::int64_t k = vectorised; k < n; ++k)
                total += x[r][k] * w[o * wStride + k];
            out[r][o] = total;
        }
}

// Output columns [begin, end) for Rows rows of x; sixteen accumulators in flight.
template <int Rows>
__attribute__((target_clones("avx512f", "avx2", "default"))) void
columns(const float *const *x, float *const *y, const float *w, std::int64_t wStride,
        const float *bias, std::int64_t n, std::int64_t begin, std::int64_t end)
{
    constexpr int Outs = 16 / Rows > 8 ? 8 : 16 / Rows;
    std::int64_t j = begin;
    for (; j + Outs <= end; j += Outs) {
        float out[Rows][Outs];
        block<Rows, Outs>(x, w + j * wStride, wStride, n, out);
        for (int r = 0; r < Rows; ++r)
            for (int o = 0; o < Outs; ++o)
                y[r][j + o] = out[r][o] + (bias ? bias[j + o] : 0.0f);
    }
    for (; j < end; ++j) {
        float out[Rows][1];
        block<Rows, 1>(x, w + j * wStride, wStride, n, out);
        for (int r = 0; r < Rows; ++r)
            y[r][j] = out[r][0] + (bias ? bias[j] : 0.0f);
    }
}

void rowsBlock(int rows, const float *const *x, float *const *y, const float *w,
               std::int64_t wStride, const float *bias, std::int64_t n, std::int64_t begin,
               std::int64_t end)
{
    switch (rows) {
    case 1:
        columns<1>(x, y, w, wStride, bias, n, begin, end);
        break;
    case 2:
        columns<2>(x, y, w, wStride, bias, n, begin, end);
        break;
    case 3:
        columns<3>(x, y, w, wStride, bias, n, begin, end);
        break;
    default:
        columns<4>(x, y, w, wStride, bias, n, begin, end);
        break;
    }
}

} // namespace

bool canUseFewRowsLinear(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias)
{
    if (at::GradMode::is_enabled() || !input.defined() || !weight.defined() || input.dim() < 1 ||
        weight.dim() != 2 || !input.device().is_cpu() || !weight.device().is_cpu() ||
        input.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat ||
        weight.stride(1) != 1 || input.size(-1) != weight.size(1))
        return false;
    if (bias.defined() && (bias.dim() != 1 || !bias.device().is_cpu() ||
                           bias.scalar_type() != at::kFloat || bias.size(0) != weight.size(0)))
        return false;
    // Where it pays (per shape, one thread, against torch::linear and W @ x^T, both OpenBLAS):
    // from four rows on every weight of 64 inputs or more; at two or three rows a weight of 512K
    // values or more (768x768: 0.07 against 0.20-0.28 ms, flan-t5's 768x32615 head: 8.3 against
    // 19 ms), below that W @ x^T is as fast; at one row, where OpenBLAS runs a GEMV, 1M values or
    // more (2048x768: 0.25 against 0.66 ms).
    const auto in = weight.size(1);
    const auto rows = input.numel() / std::max<std::int64_t>(1, in);
    const auto values = weight.numel();
    if (in < 64 || rows < 1 || rows > kFewRowsProductMaxRows)
        return false;
    if (rows >= 4)
        return true;
    return values >= (rows == 1 ? std::int64_t(1) << 20 : std::int64_t(1) << 19);
}

void fewRowsProduct(const float *x, std::int64_t xStride, std::int64_t count, const float *w,
                    std::int64_t wStride, std::int64_t outFeatures, std::int64_t in,
                    const float *bias, float *y, std::int64_t yStride)
{
    // A thread gets at least about 256K weight values, so small weights stay on one thread.
    const auto grain =
        std::max<std::int64_t>(64, (std::int64_t(1) << 18) / std::max<std::int64_t>(1, in));
    // Columns in tiles whose weight rows stay in the L2 cache while every block of four input
    // rows passes over them: the weight comes from memory once per call at any row count.
    const auto tile =
        std::max<std::int64_t>(16, (std::int64_t(1) << 15) / std::max<std::int64_t>(1, in));
    parallelFor(0, outFeatures, grain, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t t = begin; t < end; t += tile) {
            const auto tileEnd = std::min(end, t + tile);
            for (std::int64_t r = 0; r < count; r += 4) {
                const int block = static_cast<int>(std::min<std::int64_t>(4, count - r));
                const float *xs[4];
                float *ys[4];
                for (int i = 0; i < block; ++i) {
                    xs[i] = x + (r + i) * xStride;
                    ys[i] = y + (r + i) * yStride;
                }
                rowsBlock(block, xs, ys, w, wStride, bias, in, t, tileEnd);
            }
        }
    });
}

at::Tensor fewRowsLinear(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias)
{
    const auto in = weight.size(1);
    const auto outFeatures = weight.size(0);
    const auto rows = input.reshape({-1, in}).contiguous();
    const auto count = rows.size(0);
    auto result = torch::empty({count, outFeatures}, input.options());
    const auto b = bias.defined() ? bias.contiguous() : at::Tensor();
    fewRowsProduct(rows.data_ptr<float>(), in, count, weight.data_ptr<float>(), weight.stride(0),
                   outFeatures, in, b.defined() ? b.data_ptr<float>() : nullptr,
                   result.data_ptr<float>(), outFeatures);
    auto sizes = input.sizes().vec();
    sizes.back() = outFeatures;
    return result.view(sizes);
}

} // namespace mp
