#include "ml/models/fused_attention.h"

#include "ml/core/parallel_for.h"
#include "ml/models/vector16.h"

#include <ATen/ExpandUtils.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

// The Fortran BLAS that LibTorch itself calls (OpenBLAS on Debian): every BLAS has it, and it
// takes a leading dimension, so a head's columns of a projection need no copy.
extern "C" void sgemm_(const char *transa, const char *transb, const int *m, const int *n,
                       const int *k, const float *alpha, const float *a, const int *lda,
                       const float *b, const int *ldb, const float *beta, float *c, const int *ldc);

namespace mp {

namespace {

// Row-major c (m x n, leading dimension ldc) = op(a) op(b), each operand row-major with its own
// leading dimension. Column-major BLAS sees every row-major matrix transposed, so it computes
// c^T = op(b)^T op(a)^T: the operands swap.
void rowMajorProduct(bool transposeA, bool transposeB, std::int64_t m, std::int64_t n,
                     std::int64_t k, const float *a, std::int64_t lda, const float *b,
                     std::int64_t ldb, float *c, std::int64_t ldc)
{
    const char transA = transposeA ? 'T' : 'N';
    const char transB = transposeB ? 'T' : 'N';
    const int rows = static_cast<int>(n);
    const int columns = static_cast<int>(m);
    const int inner = static_cast<int>(k);
    const int leadA = static_cast<int>(lda);
    const int leadB = static_cast<int>(ldb);
    const int leadC = static_cast<int>(ldc);
    const float one = 1.0f;
    const float zero = 0.0f;
    sgemm_(&transB, &transA, &rows, &columns, &inner, &one, b, &leadB, a, &leadA, &zero, c, &leadC);
}

// scores[r] = softmax(scores[r] + bias[r]) for `rows` rows of `width`; bias row r starts at
// bias + r * biasRowStride (a stride of 0 repeats one row), or no bias. Probabilities whose
// exponent is below -87 are exactly 0, as LibTorch's softmax gives them (a masked key's bias is
// float's lowest).
__attribute__((target_clones("avx512f", "avx2", "default"))) void
softmaxRows(float *scores, const float *bias, std::int64_t biasRowStride, std::int64_t rows,
            std::int64_t width)
{
    const std::int64_t vectorised = width - width % 16;
    for (std::int64_t r = 0; r < rows; ++r) {
        float *row = scores + r * width;
        float largest = -std::numeric_limits<float>::infinity();
        if (bias) {
            const float *biasRow = bias + r * biasRowStride;
            for (std::int64_t j = 0; j < width; ++j) {
                row[j] += biasRow[j];
                largest = std::max(largest, row[j]);
            }
        } else {
            for (std::int64_t j = 0; j < width; ++j)
                largest = std::max(largest, row[j]);
        }
        Floats16 sums = {};
        for (std::int64_t j = 0; j < vectorised; j += 16) {
            Floats16 x, e;
            load16(x, row + j);
            x -= largest;
            exp16(e, x);
            e = x < -87.0f ? 0.0f : e;
            sums += e;
            store16(row + j, e);
        }
        float sum = 0.0f;
        for (int lane = 0; lane < 16; ++lane)
            sum += sums[lane];
        for (std::int64_t j = vectorised; j < width; ++j) {
            row[j] = std::exp(row[j] - largest);
            sum += row[j];
        }
        const float inverse = 1.0f / sum;
        for (std::int64_t j = 0; j < width; ++j)
            row[j] *= inverse;
    }
}

// In place: gradient[r] = p[r] * (gradient[r] - <gradient[r], p[r]>), softmax's backward.
__attribute__((target_clones("avx512f", "avx2", "default"))) void
softmaxBackwardRows(float *gradient, const float *probabilities, std::int64_t rows,
                    std::int64_t width)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        float *g = gradient + r * width;
        const float *p = probabilities + r * width;
        float dot = 0.0f;
        for (std::int64_t j = 0; j < width; ++j)
            dot += g[j] * p[j];
        for (std::int64_t j = 0; j < width; ++j)
            g[j] = p[j] * (g[j] - dot);
    }
}

struct Shape {
    std::int64_t batch, queries, keys, heads, dKv;
    std::int64_t width() const { return heads * dKv; }
};

Shape shapeOf(const at::Tensor &query, const at::Tensor &key, std::int64_t numHeads)
{
    return {query.size(0), query.size(1), key.size(1), numHeads, query.size(2) / numHeads};
}

// (row, head) pairs per parallel chunk: about 64K score elements.
std::int64_t pairGrain(const Shape &s)
{
    return std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(s.queries * s.keys, 1));
}

// The bias as (B, H, L, S) strides (0 where it broadcasts), or undefined for no bias (an empty
// tensor).
at::Tensor expandedBias(const at::Tensor &bias, const Shape &s)
{
    return bias.numel() > 0 ? bias.expand({s.batch, s.heads, s.queries, s.keys}) : at::Tensor();
}

// probabilities (B, H, L, S) and out (B, L, H*D), every (row, head) pair.
void attentionForward(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                      const at::Tensor &bias, const Shape &s, float *probabilities, float *out)
{
    const float *q = query.data_ptr<float>();
    const float *k = key.data_ptr<float>();
    const float *v = value.data_ptr<float>();
    const at::Tensor expanded = expandedBias(bias, s);
    const float *biasData = expanded.defined() ? expanded.data_ptr<float>() : nullptr;
    const std::int64_t width = s.width();
    const std::int64_t scoreSize = s.queries * s.keys;
    parallelFor(0, s.batch * s.heads, pairGrain(s), [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t pair = begin; pair < end; ++pair) {
            const std::int64_t b = pair / s.heads;
            const std::int64_t h = pair % s.heads;
            float *scores = probabilities + pair * scoreSize;
            const float *qHead = q + b * s.queries * width + h * s.dKv;
            const float *kHead = k + b * s.keys * width + h * s.dKv;
            const float *vHead = v + b * s.keys * width + h * s.dKv;
            rowMajorProduct(false, true, s.queries, s.keys, s.dKv, qHead, width, kHead, width,
                            scores, s.keys);
            const float *biasHead =
                biasData ? biasData + b * expanded.stride(0) + h * expanded.stride(1) : nullptr;
            softmaxRows(scores, biasHead, biasData ? expanded.stride(2) : 0, s.queries, s.keys);
            rowMajorProduct(false, false, s.queries, s.dKv, s.keys, scores, s.keys, vHead, width,
                            out + b * s.queries * width + h * s.dKv, width);
        }
    });
}

class FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *context, const at::Tensor &query,
                              const at::Tensor &key, const at::Tensor &value,
                              const at::Tensor &bias, std::int64_t numHeads)
    {
        const Shape s = shapeOf(query, key, numHeads);
        auto out = at::empty_like(query);
        auto probabilities = at::empty({s.batch, s.heads, s.queries, s.keys}, query.options());
        attentionForward(query, key, value, bias, s, probabilities.data_ptr<float>(),
                         out.data_ptr<float>());
        context->save_for_backward({query, key, value, probabilities});
        context->saved_data["heads"] = numHeads;
        context->saved_data["bias_sizes"] = bias.sizes().vec();
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *context,
                                                   torch::autograd::variable_list grads)
    {
        const auto saved = context->get_saved_variables();
        const auto &query = saved[0];
        const auto &key = saved[1];
        const auto &value = saved[2];
        const auto &probabilities = saved[3];
        const Shape s = shapeOf(query, key, context->saved_data["heads"].toInt());
        const auto grad = grads[0].contiguous();
        const bool wantQuery = context->needs_input_grad(0);
        const bool wantKey = context->needs_input_grad(1);
        const bool wantValue = context->needs_input_grad(2);
        // No bias travels as an empty tensor that wants no gradient.
        const bool wantBias = context->needs_input_grad(3);
        at::Tensor gradQuery = wantQuery ? at::empty_like(query) : at::Tensor();
        at::Tensor gradKey = wantKey ? at::empty_like(key) : at::Tensor();
        at::Tensor gradValue = wantValue ? at::empty_like(value) : at::Tensor();
        at::Tensor gradScores =
            wantBias ? at::empty({s.batch, s.heads, s.queries, s.keys}, query.options())
                     : at::Tensor();

        const std::int64_t width = s.width();
        const std::int64_t scoreSize = s.queries * s.keys;
        const float *q = query.data_ptr<float>();
        const float *k = key.data_ptr<float>();
        const float *v = value.data_ptr<float>();
        const float *p = probabilities.data_ptr<float>();
        const float *g = grad.data_ptr<float>();
        parallelFor(0, s.batch * s.heads, pairGrain(s), [&](std::int64_t begin, std::int64_t end) {
            std::vector<float> scratch(wantBias ? 0 : scoreSize);
            for (std::int64_t pair = begin; pair < end; ++pair) {
                const std::int64_t b = pair / s.heads;
                const std::int64_t h = pair % s.heads;
                const std::int64_t queryOffset = b * s.queries * width + h * s.dKv;
                const std::int64_t keyOffset = b * s.keys * width + h * s.dKv;
                const float *pHead = p + pair * scoreSize;
                float *dScores =
                    wantBias ? gradScores.data_ptr<float>() + pair * scoreSize : scratch.data();
                // dP = dOut V^T; dV = P^T dOut.
                rowMajorProduct(false, true, s.queries, s.keys, s.dKv, g + queryOffset, width,
                                v + keyOffset, width, dScores, s.keys);
                if (wantValue)
                    rowMajorProduct(true, false, s.keys, s.dKv, s.queries, pHead, s.keys,
                                    g + queryOffset, width, gradValue.data_ptr<float>() + keyOffset,
                                    width);
                softmaxBackwardRows(dScores, pHead, s.queries, s.keys);
                // dQ = dS K; dK = dS^T Q.
                if (wantQuery)
                    rowMajorProduct(false, false, s.queries, s.dKv, s.keys, dScores, s.keys,
                                    k + keyOffset, width, gradQuery.data_ptr<float>() + queryOffset,
                                    width);
                if (wantKey)
                    rowMajorProduct(true, false, s.keys, s.dKv, s.queries, dScores, s.keys,
                                    q + queryOffset, width, gradKey.data_ptr<float>() + keyOffset,
                                    width);
            }
        });
        at::Tensor gradBias;
        if (wantBias)
            gradBias = at::sum_to(gradScores, context->saved_data["bias_sizes"].toIntVector());
        return {gradQuery, gradKey, gradValue, gradBias, at::Tensor()};
    }
};

bool isFloatCpuContiguous(const at::Tensor &x)
{
    return x.defined() && x.device().is_cpu() && x.scalar_type() == at::kFloat && x.is_contiguous();
}

} // namespace

bool canFuseAttention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                      const at::Tensor &bias, std::int64_t numHeads)
{
    if (!isFloatCpuContiguous(query) || !isFloatCpuContiguous(key) ||
        !isFloatCpuContiguous(value) || query.dim() != 3 || key.dim() != 3 ||
        !key.sizes().equals(value.sizes()) || numHeads <= 0)
        return false;
    const std::int64_t batch = query.size(0);
    const std::int64_t keys = key.size(1);
    if (key.size(0) != batch || query.size(2) != key.size(2) || query.size(2) % numHeads != 0 ||
        query.size(1) == 0 || keys == 0 || batch == 0)
        return false;
    // The BLAS takes int sizes and leading dimensions.
    constexpr std::int64_t kIntLimit = std::numeric_limits<int>::max();
    if (query.size(2) > kIntLimit || query.size(1) > kIntLimit || keys > kIntLimit)
        return false;
    if (!bias.defined())
        return true;
    if (!bias.device().is_cpu() || bias.scalar_type() != at::kFloat || bias.dim() < 1 ||
        bias.dim() > 4)
        return false;
    const std::vector<std::int64_t> target{batch, numHeads, query.size(1), keys};
    return bias.size(-1) == keys && at::is_expandable_to(bias.sizes(), target);
}

at::Tensor fusedAttention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                          const at::Tensor &bias, std::int64_t numHeads)
{
    // The kernel reads bias rows as contiguous runs (T5's position bias is a permuted view).
    const bool rowsContiguous = !bias.defined() || bias.stride(-1) == 1;
    // LibTorch's custom functions take no undefined input: no bias travels as an empty tensor.
    const at::Tensor biasInput = !bias.defined()  ? at::empty({0}, query.options())
                                 : rowsContiguous ? bias
                                                  : bias.contiguous();
    return FusedAttentionFunction::apply(query, key, value, biasInput, numHeads);
}

} // namespace mp
