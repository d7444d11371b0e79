#include "ml/models/weight_int8.h"

#include "ml/core/parallel_for.h"
#include "ml/models/few_rows_product.h"
#include "ml/models/vector16.h"

#include <torch/torch.h>

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mp {

namespace {

// Int8 weights widened to float lanes, per instruction set: 16 lanes in one AVX-512 register, 8
// in one AVX2 register (a 16-lane vector there spills: 5x slower), 16 in generic vectors
// otherwise. GCC's own vector conversion of int8 lanes is scalarised (2x slower than the float
// kernel instead of faster), hence the intrinsics. The kernels take the widening as a template
// parameter and are instantiated inside functions compiled for its instruction set; a widening is
// an ordinary inline function with a target attribute, which GCC inlines once the kernel has been
// inlined into a function of the same target.
typedef float Floats8 __attribute__((vector_size(32)));

struct WidenAvx512 {
    using Vector = Floats16;
    static constexpr int kLanes = 16;
    static constexpr int kAccumulators = 16; // of 32 registers
    __attribute__((target("avx512f"))) static inline void load(Floats16 &out, const std::int8_t *p)
    {
        const __m512 f = _mm512_cvtepi32_ps(
            _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))));
        std::memcpy(&out, &f, sizeof out);
    }
};

struct WidenAvx2 {
    using Vector = Floats8;
    static constexpr int kLanes = 8;
    static constexpr int kAccumulators = 8; // of 16 registers
    __attribute__((target("avx2,fma"))) static inline void load(Floats8 &out, const std::int8_t *p)
    {
        const __m256 f = _mm256_cvtepi32_ps(
            _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p))));
        std::memcpy(&out, &f, sizeof out);
    }
};

struct WidenScalar {
    using Vector = Floats16;
    static constexpr int kLanes = 16;
    static constexpr int kAccumulators = 8;
    static inline void load(Floats16 &out, const std::int8_t *p)
    {
        for (int i = 0; i < 16; ++i)
            out[i] = static_cast<float>(p[i]);
    }
};

// The lanes' sum as a tree of additions, halving the vector each time.
template <class Vector, int Lanes>
__attribute__((always_inline)) inline float int8LaneSum(const Vector &v)
{
    float part[Lanes];
    std::memcpy(part, &v, sizeof part);
#pragma GCC unroll 16
    for (int width = Lanes / 2; width >= 1; width /= 2)
#pragma GCC unroll 16
        for (int i = 0; i < width; ++i)
            part[i] += part[i + width];
    return part[0];
}

// How many weight rows ahead int8Block prefetches (as the float product: the weights come from
// memory, a model's step reads more than the caches hold).
constexpr std::int64_t kInt8PrefetchRows = 16;

// out[r][o] = sum_k x[r][k] * q[o][k] for Rows input rows and the Outs int8 weight rows at w.
template <class Widen, int Rows, int Outs>
__attribute__((always_inline)) inline void int8Block(const float *const *x, const std::int8_t *w,
                                                     std::int64_t wStride, std::int64_t n,
                                                     float (&out)[Rows][Outs])
{
    using Vector = typename Widen::Vector;
    constexpr int lanes = Widen::kLanes;
    Vector acc[Rows][Outs] = {};
    const std::int64_t vectorised = n - n % lanes;
    for (std::int64_t k = 0; k < vectorised; k += lanes) {
        Vector wv[Outs];
#pragma GCC unroll 16
        for (int o = 0; o < Outs; ++o) {
            Widen::load(wv[o], w + o * wStride + k);
            // One prefetch per 64-byte line of int8 weights.
            if ((k & 63) == 0)
                __builtin_prefetch(w + (o + kInt8PrefetchRows) * wStride + k);
        }
#pragma GCC unroll 16
        for (int r = 0; r < Rows; ++r) {
            Vector xv;
            std::memcpy(&xv, x[r] + k, sizeof xv);
#pragma GCC unroll 16
            for (int o = 0; o < Outs; ++o)
                acc[r][o] += xv * wv[o];
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 16
        for (int o = 0; o < Outs; ++o) {
            float total = int8LaneSum<Vector, lanes>(acc[r][o]);
            for (std::int64_t k = vectorised; k < n; ++k)
                total += x[r][k] * static_cast<float>(w[o * wStride + k]);
            out[r][o] = total;
        }
}

// Output columns [begin, end) for Rows (1 to 4) rows of x, straight from the int8 rows.
template <class Widen, int Rows>
__attribute__((always_inline)) inline void
int8Columns(const float *const *x, float *const *y, const std::int8_t *w, const float *scales,
            std::int64_t n, const float *bias, std::int64_t begin, std::int64_t end)
{
    // Accumulators for every (row, output) pair in registers.
    constexpr int Outs = std::clamp(Widen::kAccumulators / Rows, 1, 8);
    std::int64_t j = begin;
    for (; j + Outs <= end; j += Outs) {
        float out[Rows][Outs];
        int8Block<Widen, Rows, Outs>(x, w + j * n, n, n, out);
        for (int r = 0; r < Rows; ++r)
            for (int o = 0; o < Outs; ++o)
                y[r][j + o] = out[r][o] * scales[j + o] + (bias ? bias[j + o] : 0.0f);
    }
    for (; j < end; ++j) {
        float out[Rows][1];
        int8Block<Widen, Rows, 1>(x, w + j * n, n, n, out);
        for (int r = 0; r < Rows; ++r)
            y[r][j] = out[r][0] * scales[j] + (bias ? bias[j] : 0.0f);
    }
}

template <class Widen>
__attribute__((always_inline)) inline void
int8RowsBlock(int rows, const float *const *x, float *const *y, const std::int8_t *w,
              const float *scales, std::int64_t n, const float *bias, std::int64_t begin,
              std::int64_t end)
{
    switch (rows) {
    case 1:
        int8Columns<Widen, 1>(x, y, w, scales, n, bias, begin, end);
        break;
    case 2:
        int8Columns<Widen, 2>(x, y, w, scales, n, bias, begin, end);
        break;
    case 3:
        int8Columns<Widen, 3>(x, y, w, scales, n, bias, begin, end);
        break;
    default:
        int8Columns<Widen, 4>(x, y, w, scales, n, bias, begin, end);
        break;
    }
}

// Rows [begin, end) of the weight as floats, scales[j] * q[j][k], into out (row-major).
template <class Widen>
__attribute__((always_inline)) inline void dequantizeInto(const std::int8_t *q, const float *scales,
                                                          std::int64_t n, std::int64_t begin,
                                                          std::int64_t end, float *out)
{
    using Vector = typename Widen::Vector;
    constexpr int lanes = Widen::kLanes;
    const std::int64_t vectorised = n - n % lanes;
    for (std::int64_t j = begin; j < end; ++j) {
        const std::int8_t *row = q + j * n;
        float *dst = out + (j - begin) * n;
        const float scale = scales[j];
        for (std::int64_t k = 0; k < vectorised; k += lanes) {
            Vector v;
            Widen::load(v, row + k);
            v *= scale;
            std::memcpy(dst + k, &v, sizeof v);
        }
        for (std::int64_t k = vectorised; k < n; ++k)
            dst[k] = scale * static_cast<float>(row[k]);
    }
}

// The kernels for each instruction set; flatten so that the widening is inlined too.
__attribute__((target("avx512f"), flatten)) void
int8RowsAvx512(int rows, const float *const *x, float *const *y, const std::int8_t *w,
               const float *scales, std::int64_t n, const float *bias, std::int64_t begin,
               std::int64_t end)
{
    int8RowsBlock<WidenAvx512>(rows, x, y, w, scales, n, bias, begin, end);
}

__attribute__((target("avx2,fma"), flatten)) void
int8RowsAvx2(int rows, const float *const *x, float *const *y, const std::int8_t *w,
             const float *scales, std::int64_t n, const float *bias, std::int64_t begin,
             std::int64_t end)
{
    int8RowsBlock<WidenAvx2>(rows, x, y, w, scales, n, bias, begin, end);
}

void int8RowsScalar(int rows, const float *const *x, float *const *y, const std::int8_t *w,
                    const float *scales, std::int64_t n, const float *bias, std::int64_t begin,
                    std::int64_t end)
{
    int8RowsBlock<WidenScalar>(rows, x, y, w, scales, n, bias, begin, end);
}

__attribute__((target("avx512f"), flatten)) void
dequantizeAvx512(const std::int8_t *q, const float *scales, std::int64_t n, std::int64_t begin,
                 std::int64_t end, float *out)
{
    dequantizeInto<WidenAvx512>(q, scales, n, begin, end, out);
}

__attribute__((target("avx2,fma"), flatten)) void dequantizeAvx2(const std::int8_t *q,
                                                                 const float *scales,
                                                                 std::int64_t n, std::int64_t begin,
                                                                 std::int64_t end, float *out)
{
    dequantizeInto<WidenAvx2>(q, scales, n, begin, end, out);
}

void dequantizeScalar(const std::int8_t *q, const float *scales, std::int64_t n, std::int64_t begin,
                      std::int64_t end, float *out)
{
    dequantizeInto<WidenScalar>(q, scales, n, begin, end, out);
}

enum class Int8Isa { Avx512, Avx2, Scalar };

Int8Isa int8Isa()
{
    static const Int8Isa isa = __builtin_cpu_supports("avx512f") ? Int8Isa::Avx512
                               : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                                   ? Int8Isa::Avx2
                                   : Int8Isa::Scalar;
    return isa;
}

void int8Rows(int rows, const float *const *x, float *const *y, const std::int8_t *w,
              const float *scales, std::int64_t n, const float *bias, std::int64_t begin,
              std::int64_t end)
{
    switch (int8Isa()) {
    case Int8Isa::Avx512:
        return int8RowsAvx512(rows, x, y, w, scales, n, bias, begin, end);
    case Int8Isa::Avx2:
        return int8RowsAvx2(rows, x, y, w, scales, n, bias, begin, end);
    case Int8Isa::Scalar:
        break;
    }
    int8RowsScalar(rows, x, y, w, scales, n, bias, begin, end);
}

void dequantizeTile(const std::int8_t *q, const float *scales, std::int64_t n, std::int64_t begin,
                    std::int64_t end, float *out)
{
    switch (int8Isa()) {
    case Int8Isa::Avx512:
        return dequantizeAvx512(q, scales, n, begin, end, out);
    case Int8Isa::Avx2:
        return dequantizeAvx2(q, scales, n, begin, end, out);
    case Int8Isa::Scalar:
        break;
    }
    dequantizeScalar(q, scales, n, begin, end, out);
}

void checkRows(const Int8Rows &weight)
{
    if (weight.outFeatures < 0 || weight.inFeatures < 0 ||
        weight.values.size() != static_cast<std::size_t>(weight.outFeatures * weight.inFeatures) ||
        weight.scales.size() != static_cast<std::size_t>(weight.outFeatures))
        throw std::invalid_argument("int8 weight: " + std::to_string(weight.values.size()) +
                                    " values and " + std::to_string(weight.scales.size()) +
                                    " scales for (" + std::to_string(weight.outFeatures) + ", " +
                                    std::to_string(weight.inFeatures) + ")");
}

} // namespace

Int8Rows quantizeRows(const at::Tensor &weight)
{
    if (!weight.defined() || weight.dim() != 2 || !weight.device().is_cpu() ||
        weight.scalar_type() != at::kFloat)
        throw std::invalid_argument("quantizeRows: a (out, in) float32 CPU weight is needed");
    const auto w = weight.contiguous();
    Int8Rows q;
    q.outFeatures = w.size(0);
    q.inFeatures = w.size(1);
    q.values.resize(static_cast<std::size_t>(q.outFeatures * q.inFeatures));
    q.scales.resize(static_cast<std::size_t>(q.outFeatures));
    const float *data = w.data_ptr<float>();
    const auto n = q.inFeatures;
    parallelFor(0, q.outFeatures, 64, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t j = begin; j < end; ++j) {
            const float *row = data + j * n;
            float largest = 0.0f;
            for (std::int64_t k = 0; k < n; ++k)
                largest = std::max(largest, std::fabs(row[k]));
            const float scale = largest / 127.0f;
            q.scales[static_cast<std::size_t>(j)] = scale;
            std::int8_t *out = q.values.data() + j * n;
            for (std::int64_t k = 0; k < n; ++k) {
                // Nearest (ties to even), in double so that w / scale is not rounded first.
                const double level =
                    scale > 0.0f
                        ? std::nearbyint(static_cast<double>(row[k]) / static_cast<double>(scale))
                        : 0.0;
                out[k] = static_cast<std::int8_t>(std::clamp(level, -127.0, 127.0));
            }
        }
    });
    return q;
}

at::Tensor dequantizeRows(const Int8Rows &weight)
{
    checkRows(weight);
    auto out = torch::empty({weight.outFeatures, weight.inFeatures}, torch::kFloat);
    dequantizeTile(weight.values.data(), weight.scales.data(), weight.inFeatures, 0,
                   weight.outFeatures, out.data_ptr<float>());
    return out;
}

void int8RowsProduct(const float *x, std::int64_t xStride, std::int64_t count,
                     const Int8Rows &weight, const float *bias, float *y, std::int64_t yStride)
{
    const auto n = weight.inFeatures;
    const auto outFeatures = weight.outFeatures;
    if (count <= 0 || outFeatures <= 0)
        return;
    // As fewRowsProduct: a thread gets at least about 256K weights; a tile of columns is as many
    // rows as 32K floats hold, so its float copy stays in the L2 cache.
    const auto grain =
        std::max<std::int64_t>(64, (std::int64_t(1) << 18) / std::max<std::int64_t>(1, n));
    const auto tile =
        std::max<std::int64_t>(16, (std::int64_t(1) << 15) / std::max<std::int64_t>(1, n));
    const std::int8_t *q = weight.values.data();
    const float *scales = weight.scales.data();
    if (count > kFewRowsProductMaxRows) {
        // Many rows: a GEMM's packing pays for itself, as in the float decoding step; the weight
        // is widened a block of 256K values at a time (1 MB, in the L2 cache) and multiplied by
        // OpenBLAS (single-threaded in the app, as the float step's at::mm_out).
        const auto block =
            std::max<std::int64_t>(16, (std::int64_t(1) << 18) / std::max<std::int64_t>(1, n));
        const auto input =
            torch::from_blob(const_cast<float *>(x), {count, n}, {xStride, 1}, torch::kFloat);
        auto floats = torch::empty({std::min(block, outFeatures), n}, torch::kFloat);
        auto part = torch::empty({count, std::min(block, outFeatures)}, torch::kFloat);
        for (std::int64_t t = 0; t < outFeatures; t += block) {
            const auto width = std::min(outFeatures, t + block) - t;
            dequantizeTile(q, scales, n, t, t + width, floats.data_ptr<float>());
            auto out = width == part.size(1) ? part : torch::empty({count, width}, torch::kFloat);
            at::mm_out(out, input, floats.narrow(0, 0, width).t());
            const float *o = out.data_ptr<float>();
            for (std::int64_t r = 0; r < count; ++r)
                for (std::int64_t j = 0; j < width; ++j)
                    y[r * yStride + t + j] = o[r * width + j] + (bias ? bias[t + j] : 0.0f);
        }
        return;
    }
    parallelFor(0, outFeatures, grain, [&](std::int64_t begin, std::int64_t end) {
        if (count <= 4) {
            // Few rows: each int8 weight is widened once per call anyway.
            const float *xs[4];
            float *ys[4];
            for (std::int64_t i = 0; i < count; ++i) {
                xs[i] = x + i * xStride;
                ys[i] = y + i * yStride;
            }
            int8Rows(static_cast<int>(count), xs, ys, q, scales, n, bias, begin, end);
            return;
        }
        // More rows: widen a tile once, then every block of four rows reads the floats.
        std::vector<float> floats(static_cast<std::size_t>(std::min(tile, end - begin) * n));
        for (std::int64_t t = begin; t < end; t += tile) {
            const auto tileEnd = std::min(end, t + tile);
            dequantizeTile(q, scales, n, t, tileEnd, floats.data());
            fewRowsProduct(x, xStride, count, floats.data(), n, tileEnd - t, n,
                           bias ? bias + t : nullptr, y + t, yStride);
        }
    });
}

at::Tensor int8Linear(const at::Tensor &input, const Int8Rows &weight, const at::Tensor &bias)
{
    checkRows(weight);
    const auto in = weight.inFeatures;
    if (!input.defined() || input.dim() < 1 || input.size(-1) != in || !input.device().is_cpu() ||
        input.scalar_type() != at::kFloat)
        throw std::invalid_argument("int8Linear: the input is not (..., " + std::to_string(in) +
                                    ") float32 on the CPU");
    if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.outFeatures ||
                           bias.scalar_type() != at::kFloat || !bias.device().is_cpu()))
        throw std::invalid_argument("int8Linear: the bias is not (" +
                                    std::to_string(weight.outFeatures) + ") float32 on the CPU");
    const auto rows = input.reshape({-1, in}).contiguous();
    const auto count = rows.size(0);
    auto result = torch::empty({count, weight.outFeatures}, input.options());
    const auto b = bias.defined() ? bias.contiguous() : at::Tensor();
    int8RowsProduct(rows.data_ptr<float>(), in, count, weight,
                    b.defined() ? b.data_ptr<float>() : nullptr, result.data_ptr<float>(),
                    weight.outFeatures);
    auto sizes = input.sizes().vec();
    sizes.back() = weight.outFeatures;
    return result.view(sizes);
}

} // namespace mp
