#include "ml/train/picked_log_probs.h"

#include "ml/core/parallel_for.h"
#include "ml/models/vector16.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace mp {

namespace {

// Rows per parallel chunk: about 16K logits.
std::int64_t pickedRowGrain(std::int64_t width)
{
    return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(width, 1));
}

// For each row of `width` logits, with m its maximum and s = log(sum_j exp(x[r, j] - m)):
// picked[r] = (x[r, target[r]] - m) - s, and shifts[r] = {m, s} for the backward. m and s apart,
// not m + s in one float: with logits near 1000 that sum would round by 3e-5.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
pickedForwardRows(const float *logits, const std::int64_t *targets, float *picked, float *shifts,
                  std::int64_t rows, std::int64_t width)
{
    const std::int64_t vectorised = width - width % 16;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float *x = logits + r * width;
        float maximum = -std::numeric_limits<float>::infinity();
        if (vectorised > 0) {
            Floats16 most;
            load16(most, x);
            for (std::int64_t j = 16; j < vectorised; j += 16) {
                Floats16 v;
                load16(v, x + j);
                most = v > most ? v : most;
            }
            for (int lane = 0; lane < 16; ++lane)
                maximum = std::max(maximum, most[lane]);
        }
        for (std::int64_t j = vectorised; j < width; ++j)
            maximum = std::max(maximum, x[j]);
        // exp(x - max) <= 1: a sum that never overflows; float lanes, a double total.
        Floats16 lanes = {};
        for (std::int64_t j = 0; j < vectorised; j += 16) {
            Floats16 v, e;
            load16(v, x + j);
            v -= maximum;
            exp16(e, v);
            lanes += e;
        }
        double sum = 0.0;
        for (int lane = 0; lane < 16; ++lane)
            sum += lanes[lane];
        for (std::int64_t j = vectorised; j < width; ++j)
            sum += std::exp(static_cast<double>(x[j] - maximum));
        const float logSum = static_cast<float>(std::log(sum));
        shifts[2 * r] = maximum;
        shifts[2 * r + 1] = logSum;
        picked[r] = (x[targets[r]] - maximum) - logSum;
    }
}

// Gradients below float's normal range are written as 0: subnormal floats make every later
// product on them crawl (the flan-size head's backward GEMM, K = 32615, ran at 0.8 GFLOP/s
// instead of 130 with them), and exp16 would turn each probability below e^-87 into e^-87.
constexpr float kSmallestNormal = 1.17549435e-38f;
constexpr float kSmallestExponent = -87.0f;

__attribute__((always_inline)) inline float flushTiny(float value)
{
    return std::fabs(value) < kSmallestNormal ? 0.0f : value;
}

// d picked[r] / d x[r, j] = onehot(target[r])_j - exp((x[r, j] - m) - s).
__attribute__((target_clones("avx512f", "avx2", "default"))) void
pickedBackwardRows(const float *grad, const float *logits, const std::int64_t *targets,
                   const float *shifts, float *gradLogits, std::int64_t rows, std::int64_t width)
{
    const std::int64_t vectorised = width - width % 16;
    for (std::int64_t r = 0; r < rows; ++r) {
        const float *x = logits + r * width;
        float *out = gradLogits + r * width;
        const float g = grad[r];
        const float maximum = shifts[2 * r];
        const float logSum = shifts[2 * r + 1];
        for (std::int64_t j = 0; j < vectorised; j += 16) {
            Floats16 v, e;
            load16(v, x + j);
            v = (v - maximum) - logSum;
            exp16(e, v);
            e = v < kSmallestExponent ? 0.0f : e * -g;
            const Floats16 magnitude = e < 0.0f ? -e : e;
            e = magnitude < kSmallestNormal ? 0.0f : e;
            store16(out + j, e);
        }
        for (std::int64_t j = vectorised; j < width; ++j)
            out[j] = flushTiny(-g * std::exp((x[j] - maximum) - logSum));
        out[targets[r]] = flushTiny(out[targets[r]] + g);
    }
}

class PickedLogProbsFunction : public torch::autograd::Function<PickedLogProbsFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *context, const at::Tensor &logits,
                              const at::Tensor &targets)
    {
        const std::int64_t width = logits.size(-1);
        const std::int64_t rows = targets.numel();
        auto picked = at::empty(targets.sizes(), logits.options());
        auto shifts = at::empty({rows, 2}, logits.options());
        const float *xp = logits.data_ptr<float>();
        const std::int64_t *tp = targets.data_ptr<std::int64_t>();
        float *pp = picked.data_ptr<float>();
        float *sp = shifts.data_ptr<float>();
        parallelFor(0, rows, pickedRowGrain(width), [&](std::int64_t begin, std::int64_t end) {
            pickedForwardRows(xp + begin * width, tp + begin, pp + begin, sp + 2 * begin,
                              end - begin, width);
        });
        context->save_for_backward({logits, targets, shifts});
        return picked;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *context,
                                                   torch::autograd::variable_list grads)
    {
        if (!context->needs_input_grad(0))
            return {at::Tensor(), at::Tensor()};
        const auto saved = context->get_saved_variables();
        const auto &logits = saved[0];
        const auto &targets = saved[1];
        const auto &shifts = saved[2];
        const auto grad = grads[0].contiguous();
        const std::int64_t width = logits.size(-1);
        const std::int64_t rows = targets.numel();
        auto gradLogits = at::empty_like(logits);
        const float *gp = grad.data_ptr<float>();
        const float *xp = logits.data_ptr<float>();
        const std::int64_t *tp = targets.data_ptr<std::int64_t>();
        const float *sp = shifts.data_ptr<float>();
        float *op = gradLogits.data_ptr<float>();
        parallelFor(0, rows, pickedRowGrain(width), [&](std::int64_t begin, std::int64_t end) {
            pickedBackwardRows(gp + begin, xp + begin * width, tp + begin, sp + 2 * begin,
                               op + begin * width, end - begin, width);
        });
        return {gradLogits, at::Tensor()};
    }
};

} // namespace

bool canFusePickedLogProbs(const at::Tensor &logits, const at::Tensor &targets)
{
    return logits.device().is_cpu() && targets.device().is_cpu() &&
           logits.scalar_type() == at::kFloat && targets.scalar_type() == at::kLong &&
           logits.dim() >= 1 && logits.dim() == targets.dim() + 1 && logits.size(-1) > 0 &&
           logits.sizes().slice(0, targets.dim()) == targets.sizes() && logits.is_contiguous();
}

at::Tensor pickedLogProbs(const at::Tensor &logits, const at::Tensor &targets)
{
    if (!canFusePickedLogProbs(logits, targets))
        return torch::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);
    const auto contiguousTargets = targets.contiguous();
    const std::int64_t width = logits.size(-1);
    const auto [low, high] = contiguousTargets.numel() ? contiguousTargets.aminmax()
                                                       : std::tuple<at::Tensor, at::Tensor>{};
    if (low.defined() && (low.item<std::int64_t>() < 0 || high.item<std::int64_t>() >= width))
        throw std::out_of_range("pickedLogProbs: a target outside [0, " + std::to_string(width) +
                                ")");
    return PickedLogProbsFunction::apply(logits, contiguousTargets);
}

} // namespace mp
