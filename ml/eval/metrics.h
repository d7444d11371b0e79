#pragma once
// The HumanML3D text-to-motion metrics of Guo et al. 2022 on evaluator embeddings (N x D):
// R-precision top-1/2/3 over groups of 32, MM-Dist, FID, Diversity, MultiModality, and the
// replication statistics (mean +- 1.96 std / sqrt(N), std with ddof 0). See
// shared/spec/paper-and-motiongpt.md section 4. All reductions run in float64.

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mp {

// How R-precision groups are formed. Both permute the samples and split them into consecutive
// groups of 32, dropping an incomplete last group; they differ in what FID and Diversity see.
enum class GroupingMode {
    GuoBatches,      // T2M: shuffled DataLoader batches, drop_last; FID/Diversity on those only
    MotionGptChunks, // MotionGPT: one permutation, chunks of 32; FID/Diversity on every sample
};

// The random source of every metric: std::mt19937_64 with our own bounded draws, so a seed gives
// the same numbers on every standard library.
using MetricRng = std::mt19937_64;

// Uniform integer in [0, n) without modulo bias.
std::int64_t uniformBelow(MetricRng &rng, std::int64_t n);
// A uniformly random permutation of 0..n-1 (Fisher-Yates).
std::vector<std::int64_t> randomPermutation(std::int64_t n, MetricRng &rng);
// k distinct indices from 0..n-1 in random order (k <= n).
std::vector<std::int64_t> sampleWithoutReplacement(std::int64_t n, std::int64_t k, MetricRng &rng);

// Groups of groupSize indices over 0..n-1 for R-precision (both modes: permutation + chunks,
// incomplete last group dropped).
std::vector<std::vector<std::int64_t>> makeGroups(std::int64_t n, int groupSize, MetricRng &rng);

// Pairwise Euclidean distances (N x M, float64) between rows of a (N x D) and b (M x D).
at::Tensor euclideanDistanceMatrix(const at::Tensor &a, const at::Tensor &b);

// Number of rows i of a square distance matrix whose diagonal entry ranks among the k nearest,
// for k = 1..3. Ties rank by column index (as a stable argsort).
std::array<std::int64_t, 3> topKHits(const at::Tensor &distances);

struct MatchingResult {
    std::array<double, 3> rPrecision{};    // top-1, top-2, top-3
    double matchingScore = 0.0;            // MM-Dist: mean distance of the true pairs
    std::int64_t numEvaluated = 0;         // samples in complete groups
    std::vector<std::int64_t> usedIndices; // the samples that were in a complete group
};

// R-precision and MM-Dist of paired text/motion embeddings (row i of each belongs together),
// over random groups of groupSize. Throws std::invalid_argument when fewer than groupSize rows.
MatchingResult matchingMetrics(const at::Tensor &textEmbeddings, const at::Tensor &motionEmbeddings,
                               MetricRng &rng, int groupSize = 32);
// The same over given groups (each a list of row indices; all groups the same size).
MatchingResult matchingMetricsForGroups(const at::Tensor &textEmbeddings,
                                        const at::Tensor &motionEmbeddings,
                                        const std::vector<std::vector<std::int64_t>> &groups);

struct GaussianStats {
    at::Tensor mean; // (D) float64
    at::Tensor cov;  // (D, D) float64, ddof 1 as np.cov
};
GaussianStats gaussianStats(const at::Tensor &embeddings);

// Frechet distance between two Gaussians. The matrix square root is taken of the symmetric
// Sigma1^1/2 Sigma2 Sigma1^1/2 by eigendecomposition (same trace as sqrtm(Sigma1 Sigma2)); if the
// result is not finite, the square root is taken again with 1e-6 I added to both covariances
// (T2M's calculate_frechet_distance: the traces of Sigma1 and Sigma2 stay without it).
double frechetDistance(const GaussianStats &a, const GaussianStats &b);
// FID between two embedding sets.
double fid(const at::Tensor &embeddingsA, const at::Tensor &embeddingsB);

// Mean distance over numPairs pairs drawn as two independent index sets without replacement.
// numPairs is clamped to the number of samples (Guo asserts instead; small corpora need this).
double diversity(const at::Tensor &embeddings, MetricRng &rng, std::int64_t numPairs = 300);
// The same over given index sets (row first[i] against row second[i]), e.g. those another
// implementation drew.
double diversityOfPairs(const at::Tensor &embeddings, const std::vector<std::int64_t> &first,
                        const std::vector<std::int64_t> &second);

// MultiModality of (numTexts, numRepeats, D) embeddings: two index sets of numPairs drawn from
// 0..numRepeats-1 without replacement, shared by all texts; the mean distance over texts x pairs.
double multimodality(const at::Tensor &embeddings, MetricRng &rng, std::int64_t numPairs = 10);
// The same over given repeat index sets.
double multimodalityOfPairs(const at::Tensor &embeddings, const std::vector<std::int64_t> &first,
                            const std::vector<std::int64_t> &second);

// Replication statistics as T2M's get_metric_statistics.
struct MetricStats {
    double mean = 0.0;
    double confInterval = 0.0; // 1.96 * std / sqrt(N), std with ddof 0
    std::vector<double> values;
};
MetricStats metricStatistics(std::vector<double> values);

} // namespace mp
