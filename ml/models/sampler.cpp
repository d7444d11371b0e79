#include "ml/models/sampler.h"

#include "ml/core/error.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

namespace mp {

namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

std::string number(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

// Each row's k-th largest logit (rows, 1). For float rows on the CPU by nth_element on a copy:
// torch::topk also sorts and returns the k values and their indices, about 2% of a labeling pair's
// time at k 50 over 884 tokens. Rows with a NaN take torch::topk (which orders NaN first).
at::Tensor kthLargest(const at::Tensor &logits, std::int64_t k)
{
    if (logits.device().is_cpu() && logits.scalar_type() == at::kFloat && logits.dim() == 2 &&
        logits.is_contiguous()) {
        const std::int64_t rows = logits.size(0);
        const std::int64_t width = logits.size(1);
        auto kth = torch::empty({rows, 1}, logits.options());
        std::vector<float> row(static_cast<std::size_t>(width));
        const float *data = logits.data_ptr<float>();
        bool ordered = true;
        for (std::int64_t r = 0; r < rows && ordered; ++r) {
            row.assign(data + r * width, data + (r + 1) * width);
            ordered = std::none_of(row.begin(), row.end(), [](float v) { return std::isnan(v); });
            if (!ordered)
                break;
            std::nth_element(row.begin(), row.begin() + (k - 1), row.end(), std::greater<float>());
            kth.data_ptr<float>()[r] = row[static_cast<std::size_t>(k - 1)];
        }
        if (ordered)
            return kth;
    }
    return std::get<0>(torch::topk(logits, k, -1)).narrow(-1, k - 1, 1);
}

} // namespace

void validateSampleOptions(const SampleOptions &options)
{
    if (!std::isfinite(options.temperature) || options.temperature < 0.0)
        throw InputError("temperature must be a finite number >= 0 (0 = greedy), got " +
                         number(options.temperature));
    if (options.topK < 0)
        throw InputError("top-k must be >= 0 (0 = off), got " + std::to_string(options.topK));
    if (!(options.topP > 0.0 && options.topP <= 1.0))
        throw InputError("top-p must be in (0, 1] (1 = off), got " + number(options.topP));
}

at::Tensor applyTemperature(const at::Tensor &logits, double temperature)
{
    if (temperature <= 0.0)
        throw std::invalid_argument("temperature must be positive (use greedy for 0)");
    return temperature == 1.0 ? logits : logits / temperature;
}

at::Tensor applyTopK(const at::Tensor &logits, std::int64_t k)
{
    if (k <= 0 || k >= logits.size(-1))
        return logits;
    return logits.masked_fill(logits < kthLargest(logits, k), kMinusInf);
}

at::Tensor applyTopP(const at::Tensor &logits, double p)
{
    if (p >= 1.0)
        return logits;
    if (p <= 0.0)
        throw std::invalid_argument("top-p must be in (0, 1]");
    const auto [sorted, indices] = torch::sort(logits, -1, /*descending=*/false);
    const auto cumulative = torch::softmax(sorted.to(torch::kFloat), -1).cumsum(-1);
    auto remove = cumulative <= (1.0 - p);
    // Keep at least the most likely token.
    remove.narrow(-1, remove.size(-1) - 1, 1).fill_(false);
    const auto removeOriginal = torch::zeros_like(remove).scatter(-1, indices, remove);
    return logits.masked_fill(removeOriginal, kMinusInf);
}

at::Tensor greedyPick(const at::Tensor &logits)
{
    return logits.argmax(-1);
}

std::int64_t drawIndex(const at::Tensor &probabilities, double u)
{
    const auto probs = probabilities.to(torch::kCPU, torch::kDouble).contiguous();
    const auto *p = probs.data_ptr<double>();
    const auto n = probs.numel();
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
        total += p[i] > 0.0 ? p[i] : 0.0;
    if (!(total > 0.0))
        throw std::runtime_error("sampling: no token has positive probability (NaN logits?)");
    const double target = u * total;
    double cumulative = 0.0;
    std::int64_t last = -1;
    for (std::int64_t i = 0; i < n; ++i) {
        if (!(p[i] > 0.0))
            continue;
        cumulative += p[i];
        last = i;
        if (target < cumulative)
            return i;
    }
    return last; // rounding left target at the very end
}

Sampler::Sampler(const SampleOptions &options, const std::vector<std::uint64_t> &seeds)
    : m_options(options)
{
    for (auto seed : seeds)
        m_generators.push_back(at::make_generator<at::CPUGeneratorImpl>(seed));
}

at::Tensor Sampler::warp(const at::Tensor &logits) const
{
    auto warped = applyTemperature(logits.to(torch::kFloat), m_options.temperature);
    warped = applyTopK(warped, m_options.topK);
    return applyTopP(warped, m_options.topP);
}

at::Tensor Sampler::sample(const at::Tensor &logits)
{
    if (logits.dim() != 2 || logits.size(0) != static_cast<std::int64_t>(m_generators.size()))
        throw std::invalid_argument("Sampler: expected logits (" +
                                    std::to_string(m_generators.size()) + ", V)");
    std::vector<std::int64_t> rows(m_generators.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        rows[i] = static_cast<std::int64_t>(i);
    return sampleRows(logits, rows);
}

at::Tensor Sampler::sampleRows(const at::Tensor &logits, const std::vector<std::int64_t> &rows)
{
    if (logits.dim() != 2 || logits.size(0) != static_cast<std::int64_t>(rows.size()))
        throw std::invalid_argument("Sampler: expected logits (" + std::to_string(rows.size()) +
                                    ", V)");
    for (auto row : rows)
        if (row < 0 || row >= static_cast<std::int64_t>(m_generators.size()))
            throw std::invalid_argument("Sampler: row " + std::to_string(row) +
                                        " has no generator");
    if (m_options.greedy || m_options.temperature <= 0.0)
        return greedyPick(logits);
    const auto probs = torch::softmax(warp(logits), -1).to(torch::kCPU);
    auto tokens = torch::empty({logits.size(0)}, torch::kLong);
    auto *out = tokens.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < logits.size(0); ++i) {
        // One uniform per row per step from the row's own generator.
        auto &generator = m_generators[static_cast<std::size_t>(rows[i])];
        const double u = torch::rand({1}, generator, torch::kDouble).item<double>();
        out[i] = drawIndex(probs[i], u);
    }
    return tokens.to(logits.device());
}

} // namespace mp
