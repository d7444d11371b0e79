#include "ml/eval/metrics.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace mp {
namespace {

// Added to both covariances when the first Frechet distance is not finite (as T2M/pytorch-fid).
constexpr double kFidEpsilon = 1e-6;
// The z-value of a two-sided 95% interval, as T2M's get_metric_statistics.
constexpr double kConfidenceZ = 1.96;

at::Tensor asDouble2d(const at::Tensor &x, const char *what)
{
    if (x.dim() != 2)
        throw std::invalid_argument(std::string(what) + ": expected a 2-d (N, D) tensor, got " +
                                    std::to_string(x.dim()) + " dims");
    return x.detach().to(torch::kCPU, torch::kFloat64).contiguous();
}

// Square root of a symmetric positive semi-definite matrix by eigendecomposition; negative
// eigenvalues from round-off are clamped to 0.
at::Tensor symmetricSqrt(const at::Tensor &m)
{
    const auto sym = 0.5 * (m + m.transpose(0, 1));
    auto [values, vectors] = at::linalg_eigh(sym, "L");
    return torch::matmul(vectors * values.clamp_min(0.0).sqrt().unsqueeze(0),
                         vectors.transpose(0, 1));
}

// Tr(sqrtm(Sigma1 Sigma2)) via the symmetric similar matrix Sigma1^1/2 Sigma2 Sigma1^1/2.
double traceSqrtProduct(const at::Tensor &cov1, const at::Tensor &cov2)
{
    const auto root1 = symmetricSqrt(cov1);
    const auto inner = torch::matmul(torch::matmul(root1, cov2), root1);
    const auto sym = 0.5 * (inner + inner.transpose(0, 1));
    const auto values = at::linalg_eigvalsh(sym, "L");
    return values.clamp_min(0.0).sqrt().sum().item<double>();
}

// epsilon goes into the square root's argument only, as in T2M's calculate_frechet_distance.
double frechetOnce(const GaussianStats &a, const GaussianStats &b, double epsilon)
{
    auto cov1 = a.cov;
    auto cov2 = b.cov;
    if (epsilon > 0.0) {
        const auto eye = torch::eye(cov1.size(0), cov1.options()) * epsilon;
        cov1 = cov1 + eye;
        cov2 = cov2 + eye;
    }
    const double meanTerm = (a.mean - b.mean).pow(2).sum().item<double>();
    const double traceTerm = a.cov.trace().item<double>() + b.cov.trace().item<double>() -
                             2.0 * traceSqrtProduct(cov1, cov2);
    return meanTerm + traceTerm;
}

at::Tensor indexTensor(const std::vector<std::int64_t> &index, std::int64_t size, const char *what)
{
    for (auto i : index)
        if (i < 0 || i >= size)
            throw std::invalid_argument(std::string(what) + ": index " + std::to_string(i) +
                                        " outside 0.." + std::to_string(size - 1));
    return torch::tensor(index, torch::kLong);
}

} // namespace

std::int64_t uniformBelow(MetricRng &rng, std::int64_t n)
{
    if (n <= 0)
        throw std::invalid_argument("uniformBelow: n must be positive");
    const auto range = static_cast<std::uint64_t>(n);
    // Reject the top partial block so every residue is equally likely.
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                                std::numeric_limits<std::uint64_t>::max() % range;
    std::uint64_t draw = rng();
    while (draw >= limit)
        draw = rng();
    return static_cast<std::int64_t>(draw % range);
}

std::vector<std::int64_t> randomPermutation(std::int64_t n, MetricRng &rng)
{
    std::vector<std::int64_t> order(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(order[i], order[uniformBelow(rng, i + 1)]);
    return order;
}

std::vector<std::int64_t> sampleWithoutReplacement(std::int64_t n, std::int64_t k, MetricRng &rng)
{
    if (k < 0 || k > n)
        throw std::invalid_argument("sampleWithoutReplacement: cannot draw " + std::to_string(k) +
                                    " of " + std::to_string(n));
    // Partial Fisher-Yates: the first k slots are the sample.
    std::vector<std::int64_t> pool(static_cast<std::size_t>(n));
    std::iota(pool.begin(), pool.end(), 0);
    for (std::int64_t i = 0; i < k; ++i)
        std::swap(pool[i], pool[i + uniformBelow(rng, n - i)]);
    pool.resize(static_cast<std::size_t>(k));
    return pool;
}

std::vector<std::vector<std::int64_t>> makeGroups(std::int64_t n, int groupSize, MetricRng &rng)
{
    if (groupSize <= 0)
        throw std::invalid_argument("makeGroups: group size must be positive");
    const auto order = randomPermutation(n, rng);
    std::vector<std::vector<std::int64_t>> groups;
    for (std::int64_t start = 0; start + groupSize <= n; start += groupSize)
        groups.emplace_back(order.begin() + start, order.begin() + start + groupSize);
    return groups;
}

at::Tensor euclideanDistanceMatrix(const at::Tensor &a, const at::Tensor &b)
{
    const auto x = asDouble2d(a, "euclideanDistanceMatrix");
    const auto y = asDouble2d(b, "euclideanDistanceMatrix");
    if (x.size(1) != y.size(1))
        throw std::invalid_argument("euclideanDistanceMatrix: feature sizes differ (" +
                                    std::to_string(x.size(1)) + " vs " + std::to_string(y.size(1)) +
                                    ")");
    // |x|^2 + |y|^2 - 2 x.y, clamped at 0 against round-off before the square root.
    const auto squared = x.pow(2).sum(1, true) + y.pow(2).sum(1).unsqueeze(0) -
                         2.0 * torch::matmul(x, y.transpose(0, 1));
    return squared.clamp_min(0.0).sqrt();
}

std::array<std::int64_t, 3> topKHits(const at::Tensor &distances)
{
    const auto d = asDouble2d(distances, "topKHits");
    const std::int64_t n = d.size(0);
    if (d.size(1) != n)
        throw std::invalid_argument("topKHits: the distance matrix must be square");
    std::array<std::int64_t, 3> hits{};
    const auto acc = d.accessor<double, 2>();
    for (std::int64_t i = 0; i < n; ++i) {
        const double own = acc[i][i];
        std::int64_t rank = 0; // entries that sort before the true one
        for (std::int64_t j = 0; j < n; ++j) {
            if (j == i)
                continue;
            const double other = acc[i][j];
            // NaN distances sort last (MotionGPT maps them to numbers; they never win a rank).
            if (other < own || (other == own && j < i) || (std::isnan(own) && !std::isnan(other)))
                ++rank;
        }
        for (int k = 0; k < 3; ++k)
            if (rank <= k)
                ++hits[k];
    }
    return hits;
}

MatchingResult matchingMetrics(const at::Tensor &textEmbeddings, const at::Tensor &motionEmbeddings,
                               MetricRng &rng, int groupSize)
{
    if (textEmbeddings.size(0) < groupSize)
        throw std::invalid_argument("matchingMetrics: need at least " + std::to_string(groupSize) +
                                    " samples, got " + std::to_string(textEmbeddings.size(0)));
    return matchingMetricsForGroups(textEmbeddings, motionEmbeddings,
                                    makeGroups(textEmbeddings.size(0), groupSize, rng));
}

MatchingResult matchingMetricsForGroups(const at::Tensor &textEmbeddings,
                                        const at::Tensor &motionEmbeddings,
                                        const std::vector<std::vector<std::int64_t>> &groups)
{
    const auto texts = asDouble2d(textEmbeddings, "matchingMetrics: text embeddings");
    const auto motions = asDouble2d(motionEmbeddings, "matchingMetrics: motion embeddings");
    if (texts.size(0) != motions.size(0))
        throw std::invalid_argument("matchingMetrics: " + std::to_string(texts.size(0)) +
                                    " texts but " + std::to_string(motions.size(0)) + " motions");
    if (groups.empty())
        throw std::invalid_argument("matchingMetrics: no complete group");
    MatchingResult result;
    std::array<std::int64_t, 3> hits{};
    double distanceSum = 0.0;
    for (const auto &group : groups) {
        const auto index = torch::tensor(group, torch::kLong);
        const auto d =
            euclideanDistanceMatrix(texts.index_select(0, index), motions.index_select(0, index));
        const auto groupHits = topKHits(d);
        for (int k = 0; k < 3; ++k)
            hits[k] += groupHits[k];
        distanceSum += d.trace().item<double>();
        result.usedIndices.insert(result.usedIndices.end(), group.begin(), group.end());
    }
    result.numEvaluated = static_cast<std::int64_t>(result.usedIndices.size());
    for (int k = 0; k < 3; ++k)
        result.rPrecision[k] = static_cast<double>(hits[k]) / result.numEvaluated;
    result.matchingScore = distanceSum / result.numEvaluated;
    return result;
}

GaussianStats gaussianStats(const at::Tensor &embeddings)
{
    const auto x = asDouble2d(embeddings, "gaussianStats");
    if (x.size(0) < 2)
        throw std::invalid_argument("gaussianStats: need at least 2 samples, got " +
                                    std::to_string(x.size(0)));
    const auto mean = x.mean(0);
    const auto centred = x - mean;
    const auto cov = torch::matmul(centred.transpose(0, 1), centred) / double(x.size(0) - 1);
    return {mean, cov};
}

double frechetDistance(const GaussianStats &a, const GaussianStats &b)
{
    if (a.mean.numel() != b.mean.numel())
        throw std::invalid_argument("frechetDistance: dimensions differ");
    const double first = frechetOnce(a, b, 0.0);
    if (std::isfinite(first))
        return first;
    return frechetOnce(a, b, kFidEpsilon);
}

double fid(const at::Tensor &embeddingsA, const at::Tensor &embeddingsB)
{
    return frechetDistance(gaussianStats(embeddingsA), gaussianStats(embeddingsB));
}

double diversity(const at::Tensor &embeddings, MetricRng &rng, std::int64_t numPairs)
{
    const auto x = asDouble2d(embeddings, "diversity");
    const std::int64_t n = x.size(0);
    const std::int64_t pairs = std::min(numPairs, n);
    if (pairs <= 0)
        throw std::invalid_argument("diversity: no samples");
    const auto first = sampleWithoutReplacement(n, pairs, rng);
    const auto second = sampleWithoutReplacement(n, pairs, rng);
    return diversityOfPairs(x, first, second);
}

double diversityOfPairs(const at::Tensor &embeddings, const std::vector<std::int64_t> &first,
                        const std::vector<std::int64_t> &second)
{
    const auto x = asDouble2d(embeddings, "diversity");
    if (first.size() != second.size() || first.empty())
        throw std::invalid_argument("diversity: the two index sets must be equal and non-empty");
    const auto a = x.index_select(0, indexTensor(first, x.size(0), "diversity"));
    const auto b = x.index_select(0, indexTensor(second, x.size(0), "diversity"));
    return (a - b).pow(2).sum(1).sqrt().mean().item<double>();
}

double multimodality(const at::Tensor &embeddings, MetricRng &rng, std::int64_t numPairs)
{
    if (embeddings.dim() != 3)
        throw std::invalid_argument("multimodality: expected (texts, repeats, D), got " +
                                    std::to_string(embeddings.dim()) + " dims");
    const auto x = embeddings.detach().to(torch::kCPU, torch::kFloat64);
    const std::int64_t repeats = x.size(1);
    if (numPairs > repeats || numPairs <= 0)
        throw std::invalid_argument("multimodality: cannot draw " + std::to_string(numPairs) +
                                    " of " + std::to_string(repeats) + " repeats");
    const auto first = sampleWithoutReplacement(repeats, numPairs, rng);
    const auto second = sampleWithoutReplacement(repeats, numPairs, rng);
    return multimodalityOfPairs(x, first, second);
}

double multimodalityOfPairs(const at::Tensor &embeddings, const std::vector<std::int64_t> &first,
                            const std::vector<std::int64_t> &second)
{
    if (embeddings.dim() != 3)
        throw std::invalid_argument("multimodality: expected (texts, repeats, D), got " +
                                    std::to_string(embeddings.dim()) + " dims");
    if (first.size() != second.size() || first.empty())
        throw std::invalid_argument(
            "multimodality: the two index sets must be equal and non-empty");
    const auto x = embeddings.detach().to(torch::kCPU, torch::kFloat64);
    const auto diff = x.index_select(1, indexTensor(first, x.size(1), "multimodality")) -
                      x.index_select(1, indexTensor(second, x.size(1), "multimodality"));
    return diff.pow(2).sum(2).sqrt().mean().item<double>();
}

MetricStats metricStatistics(std::vector<double> values)
{
    MetricStats stats;
    if (values.empty())
        return stats;
    const double n = static_cast<double>(values.size());
    stats.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double squares = 0.0;
    for (double v : values)
        squares += (v - stats.mean) * (v - stats.mean);
    stats.confInterval = kConfidenceZ * std::sqrt(squares / n) / std::sqrt(n);
    stats.values = std::move(values);
    return stats;
}

} // namespace mp
