#pragma once
// Sixteen float (or int) lanes for the hand-written CPU kernels (few-rows product, fused gated
// gelu and RMS norm, the inference GRU). GCC lowers the operations to one AVX-512 register, two
// AVX2 or four SSE registers, depending on the clone target_clones picks at load time. Vectors go
// by reference throughout: a 64-byte vector passed by value would take another ABI in the default
// clone.

#include <cstdint>
#include <cstring>

namespace mp {

typedef float Floats16 __attribute__((vector_size(64)));
typedef std::int32_t Ints16 __attribute__((vector_size(64)));

__attribute__((always_inline)) inline void load16(Floats16 &v, const float *p)
{
    std::memcpy(&v, p, sizeof v);
}

__attribute__((always_inline)) inline void store16(float *p, const Floats16 &v)
{
    std::memcpy(p, &v, sizeof v);
}

// exp(x) as Cephes' expf computes it (x = n ln2 + r, a degree-6 polynomial in r, times 2^n), within
// about 1 ulp of std::exp. x is clamped to +-87 so 2^n stays a normal float.
__attribute__((always_inline)) inline void exp16(Floats16 &out, const Floats16 &in)
{
    Floats16 x = in;
    x = x > 87.0f ? 87.0f : x;
    x = x < -87.0f ? -87.0f : x;
    const Floats16 fx = x * 1.44269504088896341f + 0.5f;
    // floor(fx): truncate, then one less where truncation rounded up (negative fx).
    Ints16 n = __builtin_convertvector(fx, Ints16);
    n += __builtin_convertvector(n, Floats16) > fx; // true is -1
    const Floats16 nf = __builtin_convertvector(n, Floats16);
    x -= nf * 0.693359375f;
    x -= nf * -2.12194440e-4f;
    const Floats16 x2 = x * x;
    Floats16 p = 1.9875691500e-4f * x + 1.3981999507e-3f;
    p = p * x + 8.3334519073e-3f;
    p = p * x + 4.1665795894e-2f;
    p = p * x + 1.6666665459e-1f;
    p = p * x + 5.0000001201e-1f;
    p = p * x2 + x + 1.0f;
    const Ints16 scale = (n + 127) << 23;
    Floats16 twoToN;
    std::memcpy(&twoToN, &scale, sizeof twoToN);
    out = p * twoToN;
}

// 1 / (1 + exp(-x)).
__attribute__((always_inline)) inline void sigmoid16(Floats16 &out, const Floats16 &x)
{
    Floats16 e;
    exp16(e, -x);
    out = 1.0f / (1.0f + e);
}

} // namespace mp
