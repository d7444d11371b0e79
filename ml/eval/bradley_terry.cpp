#include "ml/eval/bradley_terry.h"

#include "ml/core/error.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace mp {

namespace {

// Per ordered pair: score[i][j] = the points i took from j (wins + half the ties); count[i][j] =
// count[j][i] = how many times they met. Row-major N x N.
struct Tallies {
    int n = 0;
    std::vector<double> score;
    std::vector<double> count;

    explicit Tallies(int numModels)
        : n(numModels), score(std::size_t(numModels) * numModels, 0.0),
          count(std::size_t(numModels) * numModels, 0.0)
    {
    }
    double &s(int i, int j) { return score[std::size_t(i) * n + j]; }
    double &c(int i, int j) { return count[std::size_t(i) * n + j]; }
    void add(const PairwiseOutcome &o)
    {
        s(o.first, o.second) += o.score;
        s(o.second, o.first) += 1.0 - o.score;
        c(o.first, o.second) += 1.0;
        c(o.second, o.first) += 1.0;
    }
};

double logSigmoid(double x)
{
    return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}

double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

double logLikelihood(Tallies &t, const std::vector<double> &theta)
{
    double sum = 0;
    for (int i = 0; i < t.n; ++i)
        for (int j = 0; j < t.n; ++j)
            if (i != j && t.s(i, j) > 0)
                sum += t.s(i, j) * logSigmoid(theta[i] - theta[j]);
    return sum;
}

// The objective Newton maximises: the log-likelihood, the ridge, and a gauge term that fixes
// the mean of theta at 0 (it changes no difference theta_i - theta_j).
double objective(Tallies &t, const std::vector<double> &theta, double ridge)
{
    double squares = 0;
    double mean = 0;
    for (double value : theta) {
        squares += value * value;
        mean += value;
    }
    mean /= t.n;
    return logLikelihood(t, theta) - 0.5 * ridge * squares - 0.5 * t.n * mean * mean;
}

// Solves a x = b (N x N, row-major) by Gaussian elimination with partial pivoting; false when
// singular.
bool solve(std::vector<double> a, std::vector<double> b, int n, std::vector<double> &x)
{
    for (int col = 0; col < n; ++col) {
        int pivot = col;
        for (int row = col + 1; row < n; ++row)
            if (std::abs(a[std::size_t(row) * n + col]) > std::abs(a[std::size_t(pivot) * n + col]))
                pivot = row;
        if (std::abs(a[std::size_t(pivot) * n + col]) < 1e-300)
            return false;
        if (pivot != col) {
            for (int k = 0; k < n; ++k)
                std::swap(a[std::size_t(col) * n + k], a[std::size_t(pivot) * n + k]);
            std::swap(b[col], b[pivot]);
        }
        for (int row = col + 1; row < n; ++row) {
            const double factor = a[std::size_t(row) * n + col] / a[std::size_t(col) * n + col];
            if (factor == 0)
                continue;
            for (int k = col; k < n; ++k)
                a[std::size_t(row) * n + k] -= factor * a[std::size_t(col) * n + k];
            b[row] -= factor * b[col];
        }
    }
    x.assign(n, 0.0);
    for (int row = n - 1; row >= 0; --row) {
        double sum = b[row];
        for (int k = row + 1; k < n; ++k)
            sum -= a[std::size_t(row) * n + k] * x[k];
        x[row] = sum / a[std::size_t(row) * n + row];
    }
    return true;
}

BradleyTerryFit fitTallies(Tallies &t, const BradleyTerryOptions &options,
                           std::vector<double> theta)
{
    const int n = t.n;
    BradleyTerryFit fit;
    if (n == 0) {
        fit.converged = true;
        return fit;
    }
    double current = objective(t, theta, options.ridge);
    std::vector<double> gradient(n), negHessian(std::size_t(n) * n), step;
    for (fit.iterations = 0; fit.iterations < options.maxIterations; ++fit.iterations) {
        double mean = 0;
        for (double value : theta)
            mean += value;
        mean /= n;
        std::fill(negHessian.begin(), negHessian.end(), 1.0 / n); // the gauge term's
        for (int i = 0; i < n; ++i) {
            gradient[i] = -options.ridge * theta[i] - mean;
            negHessian[std::size_t(i) * n + i] += options.ridge;
            for (int j = 0; j < n; ++j) {
                if (i == j || t.c(i, j) == 0)
                    continue;
                const double p = sigmoid(theta[i] - theta[j]);
                gradient[i] += t.s(i, j) - t.c(i, j) * p;
                const double w = t.c(i, j) * p * (1.0 - p);
                negHessian[std::size_t(i) * n + i] += w;
                negHessian[std::size_t(i) * n + j] -= w;
            }
        }
        if (!solve(negHessian, gradient, n, step))
            break;
        double largest = 0;
        for (double value : step)
            largest = std::max(largest, std::abs(value));
        // Step halving keeps every iteration an ascent (far from the optimum, a full Newton step
        // on a logistic likelihood can overshoot).
        double scale = 1.0;
        std::vector<double> next(n);
        double value = current;
        for (int halvings = 0; halvings < 40; ++halvings, scale *= 0.5) {
            for (int i = 0; i < n; ++i)
                next[i] = theta[i] + scale * step[i];
            value = objective(t, next, options.ridge);
            if (value >= current - 1e-12 * std::abs(current))
                break;
        }
        theta = next;
        current = value;
        if (largest * scale < options.tolerance) {
            fit.converged = true;
            ++fit.iterations;
            break;
        }
    }
    fit.theta = theta;
    fit.logLikelihood = logLikelihood(t, theta);
    return fit;
}

void check(int numModels, const std::vector<PairwiseOutcome> &outcomes,
           const BradleyTerryOptions &options)
{
    if (numModels < 0)
        throw InputError("Bradley-Terry: negative number of models");
    if (!(options.ridge >= 0) || !std::isfinite(options.ridge))
        throw InputError("Bradley-Terry: the ridge must be a finite number >= 0, got " +
                         std::to_string(options.ridge));
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
        const PairwiseOutcome &o = outcomes[k];
        const std::string where = "Bradley-Terry: comparison " + std::to_string(k) + ": ";
        if (o.first < 0 || o.first >= numModels || o.second < 0 || o.second >= numModels)
            throw InputError(where + "model index outside 0.." + std::to_string(numModels - 1));
        if (o.first == o.second)
            throw InputError(where + "a model compared with itself");
        if (!(o.score >= 0 && o.score <= 1))
            throw InputError(where + "score must be in [0, 1], got " + std::to_string(o.score));
    }
}

} // namespace

BradleyTerryFit fitBradleyTerry(int numModels, const std::vector<PairwiseOutcome> &outcomes,
                                const BradleyTerryOptions &options)
{
    check(numModels, outcomes, options);
    Tallies tallies(numModels);
    for (const PairwiseOutcome &o : outcomes)
        tallies.add(o);
    return fitTallies(tallies, options, std::vector<double>(numModels, 0.0));
}

double quantileSorted(const std::vector<double> &sorted, double q)
{
    if (sorted.empty())
        return std::nan("");
    const double position = std::clamp(q, 0.0, 1.0) * double(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    const double fraction = position - double(below);
    return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

BradleyTerryIntervals bootstrapBradleyTerry(int numModels,
                                            const std::vector<PairwiseOutcome> &outcomes,
                                            const BradleyTerryOptions &fitOptions,
                                            const BootstrapOptions &options)
{
    check(numModels, outcomes, fitOptions);
    if (options.anchor < 0 || options.anchor >= numModels)
        throw InputError("Bradley-Terry bootstrap: anchor " + std::to_string(options.anchor) +
                         " is not a model index");
    if (options.replicates < 1)
        throw InputError("Bradley-Terry bootstrap: at least one replicate is needed");
    if (!(options.level > 0 && options.level < 1))
        throw InputError("Bradley-Terry bootstrap: level must be in (0, 1)");
    const BradleyTerryFit full = fitBradleyTerry(numModels, outcomes, fitOptions);

    BradleyTerryIntervals intervals;
    std::vector<std::vector<double>> draws(numModels);
    std::mt19937_64 rng(options.seed);
    const std::uint64_t size = outcomes.size();
    for (int r = 0; r < options.replicates; ++r) {
        Tallies tallies(numModels);
        for (std::uint64_t k = 0; k < size; ++k)
            tallies.add(outcomes[rng() % size]); // bias below 2^-40 for these sizes
        const BradleyTerryFit fit = fitTallies(tallies, fitOptions, full.theta);
        intervals.notConverged += fit.converged ? 0 : 1;
        for (int m = 0; m < numModels; ++m)
            draws[m].push_back(fit.theta[m] - fit.theta[options.anchor]);
    }
    intervals.replicates = options.replicates;
    const double tail = (1.0 - options.level) / 2.0;
    for (int m = 0; m < numModels; ++m) {
        std::sort(draws[m].begin(), draws[m].end());
        intervals.lower.push_back(quantileSorted(draws[m], tail));
        intervals.upper.push_back(quantileSorted(draws[m], 1.0 - tail));
    }
    return intervals;
}

} // namespace mp
