#include "ml/train/reward_loss.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace mp {

namespace {

at::Tensor flatScores(const at::Tensor &scores)
{
    if (scores.dim() == 2 && scores.size(1) == 1)
        return scores.squeeze(1);
    if (scores.dim() != 1)
        throw std::invalid_argument("reward scores must be [B] or [B,1]");
    return scores;
}

} // namespace

at::Tensor rewardLosses(const at::Tensor &chosenScores, const at::Tensor &rejectedScores,
                        const at::Tensor &margin, const at::Tensor &label)
{
    const at::Tensor rc = flatScores(chosenScores);
    const at::Tensor rr = flatScores(rejectedScores);
    if (!rc.sizes().equals(rr.sizes()))
        throw std::invalid_argument("rewardLosses: chosen and rejected scores differ in shape");
    const at::Tensor m =
        margin.defined() ? margin.to(rc.options()).reshape(-1) : torch::zeros_like(rc);
    if (m.numel() != rc.numel())
        throw std::invalid_argument("rewardLosses: margin must be [B]");
    const at::Tensor diff = rc - rr - m;
    if (!label.defined())
        return -torch::log_sigmoid(diff);
    const at::Tensor y = label.to(rc.options()).reshape(-1);
    if (y.numel() != rc.numel())
        throw std::invalid_argument("rewardLosses: label must be [B]");
    return -(y * torch::log_sigmoid(diff) + (1 - y) * torch::log_sigmoid(-diff));
}

at::Tensor rewardMargins(const std::vector<PreferenceDegree> &degrees, MarginScale scale)
{
    std::vector<double> values;
    values.reserve(degrees.size());
    for (PreferenceDegree degree : degrees)
        values.push_back(rewardMargin(degree, scale));
    return torch::tensor(values, torch::kFloat);
}

at::Tensor rewardLabels(const std::vector<PreferenceDegree> &degrees)
{
    std::vector<double> values;
    values.reserve(degrees.size());
    for (PreferenceDegree degree : degrees)
        values.push_back(rewardLabel(degree));
    return torch::tensor(values, torch::kFloat);
}

at::Tensor rewardChosenProbability(const at::Tensor &chosenScores, const at::Tensor &rejectedScores)
{
    return torch::sigmoid(flatScores(chosenScores) - flatScores(rejectedScores)).detach();
}

double rewardAccuracy(const at::Tensor &chosenScores, const at::Tensor &rejectedScores)
{
    const at::Tensor correct = flatScores(chosenScores) >= flatScores(rejectedScores);
    return correct.to(torch::kDouble).mean().item<double>();
}

MetricMap rewardAccuracyByDegree(const at::Tensor &chosenScores, const at::Tensor &rejectedScores,
                                 const std::vector<PreferenceDegree> &degrees)
{
    const at::Tensor rc = flatScores(chosenScores).detach().to(torch::kDouble).contiguous();
    const at::Tensor rr = flatScores(rejectedScores).detach().to(torch::kDouble).contiguous();
    if (rc.numel() != static_cast<std::int64_t>(degrees.size()))
        throw std::invalid_argument("rewardAccuracyByDegree: one degree per pair expected");
    const double *c = rc.data_ptr<double>();
    const double *r = rr.data_ptr<double>();
    std::map<std::string, std::pair<double, double>> hits; // key -> (correct, total)
    double ties = 0;
    for (size_t i = 0; i < degrees.size(); ++i) {
        const double correct = c[i] >= r[i] ? 1.0 : 0.0;
        ties += c[i] == r[i] ? 1.0 : 0.0;
        auto &own = hits["accuracy/" + std::string(degreeKey(degrees[i]))];
        own.first += correct;
        own.second += 1;
        if (degrees[i] != PreferenceDegree::Unsure) {
            auto &all = hits["accuracy"];
            all.first += correct;
            all.second += 1;
        }
    }
    MetricMap metrics;
    for (const auto &[key, counts] : hits)
        metrics[key] = counts.first / counts.second;
    metrics["ties"] = ties;
    return metrics;
}

double neftuneBound(double alpha, std::int64_t length, std::int64_t dim)
{
    return alpha / std::sqrt(static_cast<double>(length) * static_cast<double>(dim));
}

at::Tensor addNeftuneNoise(const at::Tensor &embeddings, double alpha, at::Generator *generator)
{
    if (embeddings.dim() != 3)
        throw std::invalid_argument("addNeftuneNoise: embeddings must be [B,L,d]");
    const double bound = neftuneBound(alpha, embeddings.size(1), embeddings.size(2));
    at::Tensor noise = torch::empty_like(embeddings);
    if (generator)
        noise.uniform_(-bound, bound, *generator);
    else
        noise.uniform_(-bound, bound);
    return embeddings + noise;
}

} // namespace mp
