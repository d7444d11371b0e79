#include "ml/models/gated_gelu.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <array>
#include <cstring>

namespace mp {

namespace {

// Sixteen lanes; GCC lowers them to one AVX-512 register, two AVX2 registers or four SSE
// registers, depending on the clone target_clones picks at load time.
typedef float Floats16 __attribute__((vector_size(64)));
typedef int Ints16 __attribute__((vector_size(64)));

constexpr float kSqrtTwoOverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

// Elements per parallel chunk: a chunk's four arrays stay in L2.
constexpr std::int64_t kGrain = 16384;

// exp(x) lane by lane: x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor series to r^7
// (truncation below 6e-9 relative), 2^n built in the exponent bits. Inputs are clamped to
// [-87, 88], where 2^n stays a normal float.
__attribute__((always_inline)) inline void expInPlace(Floats16 &x)
{
    const Floats16 low = Floats16{} - 87.0f;
    const Floats16 high = Floats16{} + 88.0f;
    x = x < low ? low : x;
    x = x > high ? high : x;
    // Round to nearest by adding and subtracting 1.5 * 2^23.
    const Floats16 shifter = Floats16{} + 12582912.0f;
    const Floats16 n = (x * 1.44269504088896341f + shifter) - shifter;
    // ln2 in two parts, so n * ln2's rounding does not reach r.
    const Floats16 r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    Floats16 p = r * (1.0f / 5040.0f) + (1.0f / 720.0f);
    p = p * r + (1.0f / 120.0f);
    p = p * r + (1.0f / 24.0f);
    p = p * r + (1.0f / 6.0f);
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const Ints16 bits = (__builtin_convertvector(n, Ints16) + 127) << 23;
    Floats16 scale;
    std::memcpy(&scale, &bits, sizeof scale);
    x = p * scale;
}

// sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) = (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
// By reference: a 64-byte vector passed by value would take another ABI in the default clone.
__attribute__((always_inline)) inline void halfOnePlusTanh(const Floats16 &x, Floats16 &s)
{
    s = -2.0f * kSqrtTwoOverPi * (x + kCubic * x * x * x);
    expInPlace(s);
    s = 1.0f / (1.0f + s);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
forwardLanes(const float *gate, const float *linear, float *out, std::int64_t count)
{
    for (std::int64_t i = 0; i < count; i += 16) {
        Floats16 a, b;
        std::memcpy(&a, gate + i, sizeof a);
        std::memcpy(&b, linear + i, sizeof b);
        Floats16 s;
        halfOnePlusTanh(a, s);
        const Floats16 y = a * s * b;
        std::memcpy(out + i, &y, sizeof y);
    }
}

// d/da [a s(a)] = s + a s (1 - s) 2 sqrt(2/pi) (1 + 3 * 0.044715 a^2), with s the sigmoid above.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
backwardLanes(const float *grad, const float *gate, const float *linear, float *gradGate,
              float *gradLinear, std::int64_t count)
{
    for (std::int64_t i = 0; i < count; i += 16) {
        Floats16 g, a, b;
        std::memcpy(&g, grad + i, sizeof g);
        std::memcpy(&a, gate + i, sizeof a);
        std::memcpy(&b, linear + i, sizeof b);
        Floats16 s;
        halfOnePlusTanh(a, s);
        const Floats16 slope = 2.0f * kSqrtTwoOverPi * (1.0f + 3.0f * kCubic * a * a);
        const Floats16 dGelu = s + a * s * (1.0f - s) * slope;
        const Floats16 ga = g * b * dGelu;
        const Floats16 gb = g * a * s;
        if (gradGate)
            std::memcpy(gradGate + i, &ga, sizeof ga);
        if (gradLinear)
            std::memcpy(gradLinear + i, &gb, sizeof gb);
    }
}

// Runs `lanes` over [begin, end) of every array in whole vectors; the last partial vector goes
// through a zero-padded copy, so every element takes the same arithmetic.
template <std::size_t Inputs, std::size_t Outputs, typename Lanes>
void overChunks(std::int64_t total, const float *const (&in)[Inputs], float *const (&out)[Outputs],
                Lanes lanes)
{
    at::parallel_for(0, total, kGrain, [&](std::int64_t begin, std::int64_t end) {
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
