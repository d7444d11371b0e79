#include "ml/models/rms_norm.h"

#include "ml/core/parallel_for.h"
#include "ml/models/vector16.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>

namespace mp {

namespace {

// Rows per parallel chunk: about 16K elements.
std::int64_t rowGrain(std::int64_t width)
{
    return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(width, 1));
}

// sum_i a[i] * b[i] in double: sixteen float partial sums per vector block, then the tail.
__attribute__((always_inline)) inline double doubleDot(const float *a, const float *b,
                                                       std::int64_t n)
{
    Floats16 acc = {};
    const std::int64_t vectorised = n - n % 16;
    for (std::int64_t i = 0; i < vectorised; i += 16) {
        Floats16 va, vb;
        load16(va, a + i);
        load16(vb, b + i);
        acc += va * vb;
    }
    double total = 0.0;
    for (int lane = 0; lane < 16; ++lane)
        total += acc[lane];
    for (std::int64_t i = vectorised; i < n; ++i)
        total += static_cast<double>(a[i]) * b[i];
    return total;
}

// y = w * (x * scale) for `rows` rows of `width`; scale[r] = 1 / sqrt(mean(x[r]^2) + eps), kept
// when scale is not null.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
forwardRows(const float *x, const float *w, float *y, float *scale, std::int64_t rows,
            std::int64_t width, double eps)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * width;
        float *yr = y + r * width;
        const float s = static_cast<float>(1.0 / std::sqrt(doubleDot(xr, xr, width) / width + eps));
        if (scale)
            scale[r] = s;
        for (std::int64_t i = 0; i < width; ++i)
            yr[i] = w[i] * (xr[i] * s);
    }
}

// With u = x * scale and gw = grad * w: dx = scale * (gw - u * sum(gw * u) / width); the
// weight's gradient is added into gradWeight (each chunk has its own row of partial sums) when
// wanted.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
backwardRows(const float *grad, const float *x, const float *w, const float *scale, float *gradX,
             float *gradWeight, std::int64_t rows, std::int64_t width, float *scratch)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        const float *gr = grad + r * width;
        const float *xr = x + r * width;
        const float s = scale[r];
        for (std::int64_t i = 0; i < width; ++i)
            scratch[i] = gr[i] * w[i];
        const float projection = static_cast<float>(doubleDot(scratch, xr, width) * s * s / width);
        if (gradX) {
            float *dx = gradX + r * width;
            for (std::int64_t i = 0; i < width; ++i)
                dx[i] = s * (scratch[i] - xr[i] * projection);
        }
        if (gradWeight)
            for (std::int64_t i = 0; i < width; ++i)
                gradWeight[i] += gr[i] * (xr[i] * s);
    }
}

class RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *context, const at::Tensor &x,
                              const at::Tensor &weight, double eps)
    {
        const std::int64_t width = weight.numel();
        const std::int64_t rows = width ? x.numel() / width : 0;
        auto y = at::empty_like(x);
        auto scale = at::empty({rows}, x.options());
        const float *xp = x.data_ptr<float>();
        const float *wp = weight.data_ptr<float>();
        float *yp = y.data_ptr<float>();
        float *sp = scale.data_ptr<float>();
        parallelFor(0, rows, rowGrain(width), [&](std::int64_t begin, std::int64_t end) {
            forwardRows(xp + begin * width, wp, yp + begin * width, sp + begin, end - begin, width,
                        eps);
        });
        context->save_for_backward({x, weight, scale});
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *context,
                                                   torch::autograd::variable_list grads)
    {
        const auto saved = context->get_saved_variables();
        const auto &x = saved[0];
        const auto &weight = saved[1];
        const auto &scale = saved[2];
        const auto grad = grads[0].contiguous();
        const std::int64_t width = weight.numel();
        const std::int64_t rows = width ? x.numel() / width : 0;
        at::Tensor gradX, gradWeight;
        if (context->needs_input_grad(0))
            gradX = at::empty_like(x);
        const bool wantWeight = context->needs_input_grad(1);
        // One partial weight gradient per chunk, summed after (chunks run in parallel).
        const std::int64_t grain = rowGrain(width);
        const std::int64_t chunks = rows ? (rows + grain - 1) / grain : 0;
        at::Tensor partial =
            wantWeight ? at::zeros({std::max<std::int64_t>(chunks, 1), width}, x.options())
                       : at::Tensor();
        parallelFor(0, chunks, 1, [&](std::int64_t firstChunk, std::int64_t endChunk) {
            std::vector<float> scratch(width);
            for (std::int64_t chunk = firstChunk; chunk < endChunk; ++chunk) {
                const std::int64_t begin = chunk * grain;
                const std::int64_t count = std::min(grain, rows - begin);
                backwardRows(grad.data_ptr<float>() + begin * width,
                             x.data_ptr<float>() + begin * width, weight.data_ptr<float>(),
                             scale.data_ptr<float>() + begin,
                             gradX.defined() ? gradX.data_ptr<float>() + begin * width : nullptr,
                             wantWeight ? partial.data_ptr<float>() + chunk * width : nullptr,
                             count, width, scratch.data());
            }
        });
        if (wantWeight)
            gradWeight = partial.sum(0);
        return {gradX, gradWeight, at::Tensor()};
    }
};

} // namespace

void rmsNormRows(const float *x, const float *weight, float *out, std::int64_t rows,
                 std::int64_t width, double eps)
{
    forwardRows(x, weight, out, nullptr, rows, width, eps);
}

bool canFuseRmsNorm(const at::Tensor &x, const at::Tensor &weight)
{
    return x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == at::kFloat &&
           weight.scalar_type() == at::kFloat && weight.dim() == 1 && x.dim() >= 1 &&
           x.size(-1) == weight.size(0) && x.is_contiguous() && weight.is_contiguous();
}

at::Tensor rmsNorm(const at::Tensor &x, const at::Tensor &weight, double eps)
{
    if (canFuseRmsNorm(x, weight))
        return RmsNormFunction::apply(x, weight, eps);
    const auto variance = x.to(torch::kFloat).pow(2).mean(-1, /*keepdim=*/true);
    auto normed = x * torch::rsqrt(variance + eps);
    if (weight.scalar_type() == torch::kHalf || weight.scalar_type() == torch::kBFloat16)
        normed = normed.to(weight.scalar_type());
    return weight * normed;
}

} // namespace mp
