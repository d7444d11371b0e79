#pragma once
// Bradley-Terry strengths of models from pairwise comparisons (a leaderboard), with bootstrap
// intervals. Plain C++: no Qt, no Torch.
//
// Model: P(i beats j) = sigmoid(theta_i - theta_j). A tie counts as half a win for each side
// (Davidson's tie model is not used: a tie is the outcome 0.5). The fit maximises
//   sum over comparisons [s log sigmoid(theta_i - theta_j) + (1 - s) log sigmoid(theta_j -
//   theta_i)]
//   - ridge / 2 * sum_i theta_i^2
// by Newton's method (the objective is concave; the Hessian is the graph Laplacian weighted by
// n_ij p_ij (1 - p_ij), plus ridge). The ridge is a Gaussian prior N(0, 1/ridge) on each theta:
// a model that never lost stays finite. With ridge 0 the thetas are defined up to a shift; the
// fit returns the solution with mean 0, and does not converge when some model never lost (then
// converged is false).
// Bootstrap: the comparisons are resampled with replacement (as many as there are), refitted,
// and the percentile interval of theta_m - theta_anchor is reported (the anchor's is [0, 0]).

#include <cstdint>
#include <vector>

namespace mp {

struct PairwiseOutcome {
    int first = 0;
    int second = 0;
    double score = 1.0; // of first: 1 a win, 0.5 a tie, 0 a loss
};

struct BradleyTerryOptions {
    double ridge = 0.1; // the prior's precision on each theta (log-odds units)
    int maxIterations = 100;
    double tolerance = 1e-10; // on the largest Newton step
};

struct BradleyTerryFit {
    std::vector<double> theta; // log-odds strengths, mean 0
    double logLikelihood = 0;  // without the ridge term
    int iterations = 0;
    bool converged = false;
};

// InputError for a model index outside [0, numModels), a model compared with itself, a score
// outside [0, 1] or a negative ridge.
BradleyTerryFit fitBradleyTerry(int numModels, const std::vector<PairwiseOutcome> &outcomes,
                                const BradleyTerryOptions &options = {});

struct BootstrapOptions {
    int replicates = 1000;
    std::uint64_t seed = 1;
    double level = 0.95;
    int anchor = 0; // intervals are of theta_m - theta_anchor
};

struct BradleyTerryIntervals {
    std::vector<double> lower; // theta_m - theta_anchor, per model
    std::vector<double> upper;
    int replicates = 0;   // fitted
    int notConverged = 0; // of them, fits that did not converge (still counted)
};

// The percentile bootstrap; deterministic for a seed (std::mt19937_64, draws by modulo).
BradleyTerryIntervals bootstrapBradleyTerry(int numModels,
                                            const std::vector<PairwiseOutcome> &outcomes,
                                            const BradleyTerryOptions &fitOptions = {},
                                            const BootstrapOptions &options = {});

// Linear interpolation between order statistics (numpy's default, "type 7"); values sorted.
double quantileSorted(const std::vector<double> &sorted, double q);

// 400 / ln(10): log-odds -> Elo points (a 400-point gap is 10:1 odds).
constexpr double kEloPerLogOdds = 173.71779276130073;

} // namespace mp
