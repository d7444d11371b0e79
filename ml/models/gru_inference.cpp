#include "ml/models/gru_inference.h"

#include "ml/core/parallel_for.h"
#include "ml/models/few_rows_product.h" // kFewRowsProductMaxRows
#include "ml/models/vector16.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace mp {
namespace {

// tanh as Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 - 2 / (exp(2|x|) + 1)
// would lose the small values' digits, and that formula above.
__attribute__((always_inline)) inline void gruTanh16(Floats16 &out, const Floats16 &x)
{
    const Floats16 a = x < 0.0f ? -x : x;
    const Floats16 twice = a + a;
    Floats16 e;
    exp16(e, twice);
    Floats16 large = 1.0f - 2.0f / (e + 1.0f);
    large = x < 0.0f ? -large : large;
    const Floats16 s = x * x;
    Floats16 p = -5.70498872745e-3f * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    const Floats16 small = p * s * x + x;
    out = a < 0.625f ? small : large;
}

// One GRU step for `rows` rows (PyTorch's gate order r, z, n):
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
//   h = (1 - z) * n + z * h,
// gi = W_ih x + b_ih (row i at gi[i], 3H floats), gh = W_hh h + b_hh (row i at gh + i * 3H).
__attribute__((target_clones("avx512f", "avx2", "default"))) void
gruGates(const float *const *gi, const float *gh, float *h, std::int64_t rows, std::int64_t hidden)
{
    const std::int64_t vectorised = hidden - hidden % 16;
    for (std::int64_t i = 0; i < rows; ++i) {
        const float *in = gi[i];
        const float *rec = gh + i * 3 * hidden;
        float *state = h + i * hidden;
        for (std::int64_t j = 0; j < vectorised; j += 16) {
            Floats16 inR, inZ, inN, recR, recZ, recN, old;
            load16(inR, in + j);
            load16(inZ, in + hidden + j);
            load16(inN, in + 2 * hidden + j);
            load16(recR, rec + j);
            load16(recZ, rec + hidden + j);
            load16(recN, rec + 2 * hidden + j);
            load16(old, state + j);
            Floats16 r, z, n;
            sigmoid16(r, inR + recR);
            sigmoid16(z, inZ + recZ);
            gruTanh16(n, inN + r * recN);
            store16(state + j, (1.0f - z) * n + z * old);
        }
        for (std::int64_t j = vectorised; j < hidden; ++j) {
            const float r = 1.0f / (1.0f + std::exp(-(in[j] + rec[j])));
            const float z = 1.0f / (1.0f + std::exp(-(in[hidden + j] + rec[hidden + j])));
            const float n = std::tanh(in[2 * hidden + j] + r * rec[2 * hidden + j]);
            state[j] = (1.0f - z) * n + z * state[j];
        }
    }
}

// Output columns per panel of the packed recurrent weight: two 16-float vectors.
constexpr std::int64_t kGruPanelColumns = 32;
// Rows per pass over a panel: 8 x 2 accumulators fill half of AVX-512's registers.
constexpr int kGruPanelRows = 8;

// The recurrent weight (out, in) rearranged once per call and direction into panels of
// kGruPanelColumns output columns, (panels, in, kGruPanelColumns), zero past `out`: each step then
// reads it front to back, as the hardware prefetcher likes, where OpenBLAS packed it again at every
// step.
at::Tensor packGruPanels(const at::Tensor &weight)
{
    const auto out = weight.size(0);
    const auto in = weight.size(1);
    const auto panels = (out + kGruPanelColumns - 1) / kGruPanelColumns;
    auto padded = torch::zeros({panels * kGruPanelColumns, in}, weight.options());
    padded.narrow(0, 0, out).copy_(weight);
    return padded.view({panels, kGruPanelColumns, in}).transpose(1, 2).contiguous();
}

// y[r][panel p's columns] = x[r] . W^T + bias for Rows rows. prefetch: this block's share of
// the next panel, prefetchStride floats of it per k (the rows' blocks share it out, so the next
// panel arrives spread over the whole of this one instead of stalling on its first loads).
template <int Rows>
__attribute__((target_clones("avx512f", "avx2", "default"))) void
gruPanelRows(const float *const *x, float *const *y, const float *packed, std::int64_t in,
             const float *bias, std::int64_t out, std::int64_t p, const float *prefetch,
             std::int64_t prefetchStride)
{
    const float *panel = packed + p * in * kGruPanelColumns;
    Floats16 acc[Rows][2] = {};
    for (std::int64_t k = 0; k < in; ++k) {
        Floats16 w0, w1;
        load16(w0, panel + k * kGruPanelColumns);
        load16(w1, panel + k * kGruPanelColumns + 16);
        __builtin_prefetch(prefetch + k * prefetchStride);
        if (prefetchStride > 16)
            __builtin_prefetch(prefetch + k * prefetchStride + 16);
#pragma GCC unroll 8
        for (int r = 0; r < Rows; ++r) {
            const float xv = x[r][k];
            acc[r][0] += w0 * xv;
            acc[r][1] += w1 * xv;
        }
    }
    const auto first = p * kGruPanelColumns;
    const auto columns = std::min(kGruPanelColumns, out - first);
    for (int r = 0; r < Rows; ++r) {
        float sums[kGruPanelColumns];
        store16(sums, acc[r][0]);
        store16(sums + 16, acc[r][1]);
        for (std::int64_t c = 0; c < columns; ++c)
            y[r][first + c] = sums[c] + bias[first + c];
    }
}

void gruPanelRowBlock(int rows, const float *const *x, float *const *y, const float *packed,
                      std::int64_t in, const float *bias, std::int64_t out, std::int64_t p,
                      const float *prefetch, std::int64_t prefetchStride)
{
    switch (rows) {
    case 1:
        return gruPanelRows<1>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    case 2:
        return gruPanelRows<2>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    case 3:
        return gruPanelRows<3>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    case 4:
        return gruPanelRows<4>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    case 5:
        return gruPanelRows<5>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    case 6:
        return gruPanelRows<6>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    case 7:
        return gruPanelRows<7>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    default:
        return gruPanelRows<8>(x, y, packed, in, bias, out, p, prefetch, prefetchStride);
    }
}

// gh (count, out) = h (count, in) W^T + bias over the packed weight; the rows pass over each
// panel in blocks of kGruPanelRows while it sits in the L2 cache.
void gruPackedProduct(const float *h, std::int64_t count, const at::Tensor &packed,
                      std::int64_t out, const float *bias, float *gh)
{
    const auto panels = packed.size(0);
    const auto in = packed.size(1);
    const float *packedData = packed.data_ptr<float>();
    const auto panelFloats = in * kGruPanelColumns;
    const auto blocks = (count + kGruPanelRows - 1) / kGruPanelRows;
    // Each block of rows prefetches 1/blocks of the next panel: kGruPanelColumns / blocks floats
    // per k (one or two cache lines for one block).
    const auto prefetchStride = std::max<std::int64_t>(1, kGruPanelColumns / blocks);
    // A thread gets at least 8 panels (256K weight values at in = 1024).
    parallelFor(0, panels, 8, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) {
            // The last panel prefetches itself (already cached), not past the end.
            const float *next = packedData + std::min(p + 1, panels - 1) * panelFloats;
            for (std::int64_t b = 0; b < blocks; ++b) {
                const auto r = b * kGruPanelRows;
                const int block =
                    static_cast<int>(std::min<std::int64_t>(kGruPanelRows, count - r));
                const float *xs[kGruPanelRows];
                float *ys[kGruPanelRows];
                for (int i = 0; i < block; ++i) {
                    xs[i] = h + (r + i) * in;
                    ys[i] = gh + (r + i) * out;
                }
                gruPanelRowBlock(block, xs, ys, packedData, in, bias, out, p,
                                 next + b * (panelFloats / blocks), prefetchStride);
            }
        }
    });
}

const at::Tensor *gruParameter(const torch::nn::GRUImpl &gru, const std::string &name)
{
    return gru.named_parameters(/*recurse=*/false).find(name);
}

bool isFloatCpuGruTensor(const at::Tensor &t)
{
    return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat;
}

// One direction over all rows, in place on `state` (B, H), rows sorted by length, longest first,
// so the rows still running at any step are a prefix. projected (B, T, 3H) contiguous, in the
// callers' row order; sortedRows[i] is the caller's row at sorted position i.
void runGruDirection(const at::Tensor &projected, const std::vector<std::int64_t> &sortedRows,
                     const std::vector<std::int64_t> &sortedLengths, const at::Tensor &weightHh,
                     const at::Tensor &biasHh, bool reverse, at::Tensor &state)
{
    const auto batch = projected.size(0);
    const auto steps = projected.size(1);
    const auto hidden = state.size(1);
    const auto gates = 3 * hidden;
    const float *projectedData = projected.data_ptr<float>();
    float *h = state.data_ptr<float>();
    const float *bias = biasHh.data_ptr<float>();
    auto recurrent = torch::empty({batch, gates}, state.options());
    float *gh = recurrent.data_ptr<float>();
    std::vector<const float *> rowInputs(static_cast<std::size_t>(batch));
    at::Tensor packed; // packed when a step first has few enough rows
    const auto longest = sortedLengths.empty() ? 0 : sortedLengths.front();
    std::int64_t running = 0;
    for (std::int64_t s = 0; s < longest; ++s) {
        // Packed order: step t runs every row longer than t (a prefix of the sorted rows), which
        // shrinks going forward; backward it grows, each row starting at its own last step from
        // h0.
        const auto t = reverse ? longest - 1 - s : s;
        while (running > 0 && sortedLengths[static_cast<std::size_t>(running - 1)] <= t)
            --running;
        while (running < batch && sortedLengths[static_cast<std::size_t>(running)] > t)
            ++running;
        if (running <= kFewRowsProductMaxRows) {
            if (!packed.defined())
                packed = packGruPanels(weightHh);
            gruPackedProduct(h, running, packed, gates, bias, gh);
        } else {
            // Above fewRowsProduct's limit a GEMM's packing pays for itself; kept for the panels
            // too, untimed there (the evaluator's batches have at most 32 rows).
            auto out = recurrent.narrow(0, 0, running);
            at::addmm_out(out, biasHh, state.narrow(0, 0, running), weightHh.t());
        }
        for (std::int64_t i = 0; i < running; ++i)
            rowInputs[static_cast<std::size_t>(i)] =
                projectedData + (sortedRows[static_cast<std::size_t>(i)] * steps + t) * gates;
        gruGates(rowInputs.data(), gh, h, running, hidden);
    }
}

} // namespace

bool canUseInferenceGru(const torch::nn::GRUImpl &gru, const at::Tensor &inputs,
                        const at::Tensor &h0)
{
    const auto &options = gru.options;
    if (at::GradMode::is_enabled() || options.num_layers() != 1 || !options.bias() ||
        !options.batch_first() || !isFloatCpuGruTensor(inputs) || !isFloatCpuGruTensor(h0))
        return false;
    const std::string suffixes[] = {"", "_reverse"};
    for (int d = 0; d < (options.bidirectional() ? 2 : 1); ++d)
        for (const char *name : {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}) {
            const auto *p = gruParameter(gru, name + suffixes[d]);
            if (p == nullptr || !isFloatCpuGruTensor(*p))
                return false;
        }
    return true;
}

at::Tensor inferenceGruLastHidden(const torch::nn::GRUImpl &gru, const at::Tensor &inputs,
                                  const at::Tensor &lengths, const at::Tensor &h0)
{
    const auto directions = gru.options.bidirectional() ? 2 : 1;
    const auto hidden = gru.options.hidden_size();
    if (inputs.dim() != 3 || inputs.size(2) != gru.options.input_size())
        throw std::invalid_argument("inference GRU: expected inputs (B, T, " +
                                    std::to_string(gru.options.input_size()) + "), got " +
                                    std::to_string(inputs.dim()) + " dimensions");
    const auto batch = inputs.size(0);
    const auto steps = inputs.size(1);
    if (h0.dim() != 3 || h0.size(0) != directions || h0.size(1) != batch || h0.size(2) != hidden)
        throw std::invalid_argument("inference GRU: h0 is not (" + std::to_string(directions) +
                                    ", " + std::to_string(batch) + ", " + std::to_string(hidden) +
                                    ")");
    const auto cpuLengths = lengths.to(torch::kCPU, torch::kLong).contiguous();
    if (cpuLengths.numel() != batch)
        throw std::invalid_argument("inference GRU: lengths do not match the batch");
    const auto *lengthData = cpuLengths.data_ptr<std::int64_t>();
    std::vector<std::int64_t> sortedRows(static_cast<std::size_t>(batch));
    std::iota(sortedRows.begin(), sortedRows.end(), 0);
    // Stable, as pack_padded_sequence's sort: ties keep their order (any order gives the same
    // results; this one only keeps runs reproducible).
    std::stable_sort(sortedRows.begin(), sortedRows.end(),
                     [&](auto a, auto b) { return lengthData[a] > lengthData[b]; });
    std::vector<std::int64_t> sortedLengths;
    sortedLengths.reserve(sortedRows.size());
    for (const auto row : sortedRows) {
        const auto length = lengthData[row];
        if (length < 1 || length > steps)
            throw std::invalid_argument("inference GRU: a sequence length is outside 1.." +
                                        std::to_string(steps));
        sortedLengths.push_back(length);
    }
    const auto flatInputs = inputs.reshape({batch * steps, inputs.size(2)});
    const auto order = torch::tensor(sortedRows, torch::kLong);
    auto last = torch::empty({directions, batch, hidden}, inputs.options());
    const std::string suffixes[] = {"", "_reverse"};
    for (int d = 0; d < directions; ++d) {
        const auto &weightIh = *gruParameter(gru, "weight_ih_l0" + suffixes[d]);
        const auto &biasIh = *gruParameter(gru, "bias_ih_l0" + suffixes[d]);
        const auto weightHh = gruParameter(gru, "weight_hh_l0" + suffixes[d])->contiguous();
        const auto biasHh = gruParameter(gru, "bias_hh_l0" + suffixes[d])->contiguous();
        // Every step's input projection in one GEMM, padding included (cheaper than gathering
        // the rows that run).
        const auto projected =
            torch::linear(flatInputs, weightIh, biasIh).view({batch, steps, 3 * hidden});
        auto state = h0[d].index_select(0, order).contiguous();
        runGruDirection(projected, sortedRows, sortedLengths, weightHh, biasHh, /*reverse=*/d == 1,
                        state);
        last[d].index_copy_(0, order, state);
    }
    return last;
}

} // namespace mp
