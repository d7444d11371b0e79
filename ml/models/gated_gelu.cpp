#include "ml/models/gated_gelu.h"

#include "ml/core/parallel_for.h"
#include "ml/models/vector16.h"

#include <torch/torch.h>

#include <array>
#include <cstring>

namespace mp {

namespace {

constexpr float kSqrtTwoOverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

// Elements per parallel chunk: a chunk's four arrays stay in L2.
constexpr std::int64_t kGrain = 16384;

// sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) = (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
// By reference: a 64-byte vector passed by value would take another ABI in the default clone.
__attribute__((always_inline)) inline void halfOnePlusTanh(const Floats16 &x, Floats16 &s)
{
    const Floats16 twiceInner = 2.0f * kSqrtTwoOverPi * (x + kCubic * x * x * x);
    sigmoid16(s, twiceInner);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
forwardLanes(const float *gate, const float *linear, float *out, std::int64_t count)
{
    for (std::int64_t i = 0; i < count; i += 16) {
        Floats16 a, b;
        load16(a, gate + i);
        load16(b, linear + i);
        Floats16 s;
        halfOnePlusTanh(a, s);
        const Floats16 y = a * s * b;
        store16(out + i, y);
    }
}

// d/da [a s(a)] = s + a s (1 - s) 2 sqrt(2/pi) (1 + 3 * 0.044715 a^2), with s the sigmoid above.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
backwardLanes(const float *grad, const float *gate, const float *linear, float *gradGate,
              float *gradLinear, std::int64_t count)
{
    for (std::int64_t i = 0; i < count; i += 16) {
        Floats16 g, a, b;
        load16(g, grad + i);
        load16(a, gate + i);
        load16(b, linear + i);
        Floats16 s;
        halfOnePlusTanh(a, s);
        const Floats16 slope = 2.0f * kSqrtTwoOverPi * (1.0f + 3.0f * kCubic * a * a);
        const Floats16 dGelu = s + a * s * (1.0f - s) * slope;
        const Floats16 ga = g * b * dGelu;
        const Floats16 gb = g * a * s;
        if (gradGate)
            store16(gradGate + i, ga);
        if (gradLinear)
            store16(gradLinear + i, gb);
    }
}

// Runs `lanes` over [begin, end) of every array in whole vectors; the last partial vector goes
// through a zero-padded copy, so every element takes the same arithmetic.
template <std::size_t Inputs, std::size_t Outputs, typename Lanes>
void overChunks(std::int64_t total, const float *const (&in)[Inputs], float *const (&out)[Outputs],
                Lanes lanes)
{
    parallelFor(0, total, kGrain, [&](std::int64_t begin, std::int64_t end) {
        const std::int64_t whole = begin + (end - begin) / 16 * 16;
        const auto offset = [](auto *base, std::int64_t at) { return base ? base + at : base; };
        std::array<const float *, Inputs> inPtr;
        std::array<float *, Outputs> outPtr;
        for (std::size_t i = 0; i < Inputs; ++i)
            inPtr[i] = in[i] + begin;
        for (std::size_t i = 0; i < Outputs; ++i)
            outPtr[i] = offset(out[i], begin);
        lanes(inPtr, outPtr, whole - begin);
        if (whole == end)
            return;
        float inTail[Inputs][16] = {};
        float outTail[Outputs][16];
        for (std::size_t i = 0; i < Inputs; ++i) {
            std::memcpy(inTail[i], in[i] + whole, (end - whole) * sizeof(float));
            inPtr[i] = inTail[i];
        }
        for (std::size_t i = 0; i < Outputs; ++i)
            outPtr[i] = out[i] ? outTail[i] : nullptr;
        lanes(inPtr, outPtr, 16);
        for (std::size_t i = 0; i < Outputs; ++i)
            if (out[i])
                std::memcpy(out[i] + whole, outTail[i], (end - whole) * sizeof(float));
    });
}

class GatedGeluFunction : public torch::autograd::Function<GatedGeluFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *context, const at::Tensor &gate,
                              const at::Tensor &linear)
    {
        auto out = at::empty_like(gate);
        gatedGeluTanhRaw(gate.data_ptr<float>(), linear.data_ptr<float>(), out.data_ptr<float>(),
                         gate.numel());
        context->save_for_backward({gate, linear});
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *context,
                                                   torch::autograd::variable_list grads)
    {
        const auto saved = context->get_saved_variables();
        const auto &gate = saved[0];
        const auto &linear = saved[1];
        const auto grad = grads[0].contiguous();
        at::Tensor gradGate, gradLinear;
        if (context->needs_input_grad(0))
            gradGate = at::empty_like(gate);
        if (context->needs_input_grad(1))
            gradLinear = at::empty_like(linear);
        const auto pointer = [](at::Tensor &t) {
            return t.defined() ? t.data_ptr<float>() : nullptr;
        };
        overChunks<3, 2>(gate.numel(),
                         {grad.data_ptr<float>(), gate.data_ptr<float>(), linear.data_ptr<float>()},
                         {pointer(gradGate), pointer(gradLinear)},
                         [](const auto &in, const auto &o, auto count) {
                             backwardLanes(in[0], in[1], in[2], o[0], o[1], count);
                         });
        return {gradGate, gradLinear};
    }
};

} // namespace

void gatedGeluTanhRaw(const float *gate, const float *linear, float *out, std::int64_t count)
{
    overChunks<2, 1>(count, {gate, linear}, {out}, [](const auto &in, const auto &o, auto n) {
        forwardLanes(in[0], in[1], o[0], n);
    });
}

bool canFuseGatedGelu(const at::Tensor &gate, const at::Tensor &linear)
{
    return gate.device().is_cpu() && linear.device().is_cpu() && gate.scalar_type() == at::kFloat &&
           linear.scalar_type() == at::kFloat && gate.sizes() == linear.sizes() &&
           gate.is_contiguous() && linear.is_contiguous();
}

at::Tensor gatedGeluTanh(const at::Tensor &gate, const at::Tensor &linear)
{
    if (!canFuseGatedGelu(gate, linear))
        return torch::gelu(gate, "tanh") * linear;
    return GatedGeluFunction::apply(gate, linear);
}

} // namespace mp
