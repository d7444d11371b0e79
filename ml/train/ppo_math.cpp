#include "ml/train/ppo_math.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/core/named.h"
#include "ml/train/logprobs.h"
#include "ml/train/running_moments.h"

namespace mp {

namespace {

// TRL's masked_whiten adds this to the variance before rsqrt.
constexpr double kWhitenEps = 1e-8;

constexpr Named<KlPenalty> kPenaltyNames[] = {{KlPenalty::Kl, "kl"},
                                              {KlPenalty::Abs, "abs"},
                                              {KlPenalty::Mse, "mse"},
                                              {KlPenalty::K3, "k3"},
                                              {KlPenalty::Full, "full"}};
constexpr Named<PpoCritic> kCriticNames[] = {{PpoCritic::Separate, "separate"},
                                             {PpoCritic::ValueHead, "value_head"},
                                             {PpoCritic::None, "none"}};

double scalar(const at::Tensor &t)
{
    return t.detach().to(torch::kDouble).item<double>();
}

void requireSameShape(const at::Tensor &a, const at::Tensor &b, const char *what)
{
    if (!a.sizes().equals(b.sizes()))
        throw std::invalid_argument(std::string("ppo: ") + what + " shapes differ");
}

} // namespace

KlPenalty parseKlPenalty(std::string_view name)
{
    return parseNamed(kPenaltyNames, name, "KL penalty");
}

std::string_view klPenaltyName(KlPenalty penalty)
{
    return nameOf(kPenaltyNames, penalty);
}

PpoCritic parsePpoCritic(std::string_view name)
{
    return parseNamed(kCriticNames, name, "PPO critic");
}

std::string_view ppoCriticName(PpoCritic critic)
{
    return nameOf(kCriticNames, critic);
}

at::Tensor klPenalty(const at::Tensor &logprobs, const at::Tensor &refLogprobs, KlPenalty penalty)
{
    requireSameShape(logprobs, refLogprobs, "log-prob and reference log-prob");
    const at::Tensor diff = logprobs - refLogprobs;
    switch (penalty) {
    case KlPenalty::Kl:
        return diff;
    case KlPenalty::Abs:
        return diff.abs();
    case KlPenalty::Mse:
        return 0.5 * diff.pow(2);
    case KlPenalty::K3:
        return diff.exp() - diff - 1;
    case KlPenalty::Full:
        return (logprobs.exp() * diff).sum(-1);
    }
    return diff;
}

at::Tensor maskedMean(const at::Tensor &values, const at::Tensor &mask,
                      std::optional<std::int64_t> dim)
{
    const at::Tensor m = mask.to(values.scalar_type());
    if (dim)
        return (values * m).sum(*dim) / m.sum(*dim);
    return (values * m).sum() / m.sum();
}

at::Tensor maskedVar(const at::Tensor &values, const at::Tensor &mask)
{
    const at::Tensor mean = maskedMean(values, mask);
    const at::Tensor variance = maskedMean((values - mean).pow(2), mask);
    const double n = scalar(mask.sum());
    if (n == 0)
        throw std::invalid_argument("maskedVar: the mask is empty");
    if (n == 1)
        throw std::invalid_argument("maskedVar: one masked element has no unbiased variance");
    return variance * (n / (n - 1));
}

at::Tensor maskedWhiten(const at::Tensor &values, const at::Tensor &mask, bool shiftMean)
{
    const at::Tensor mean = maskedMean(values, mask);
    const at::Tensor var = maskedVar(values, mask);
    at::Tensor whitened = (values - mean) * torch::rsqrt(var + kWhitenEps);
    if (!shiftMean)
        whitened = whitened + mean;
    return whitened;
}

PerTokenRewards computeRewards(const at::Tensor &scores, const at::Tensor &logprobs,
                               const at::Tensor &refLogprobs, const at::Tensor &masks,
                               double klCoef, KlPenalty penalty)
{
    const at::Tensor kls = klPenalty(logprobs, refLogprobs, penalty);
    requireSameShape(kls, masks, "KL and mask");
    if (scores.dim() != 1 || scores.size(0) != masks.size(0))
        throw std::invalid_argument("computeRewards: scores must be [B]");
    const at::Tensor nonScore = -klCoef * kls;
    at::Tensor rewards = nonScore.clone();
    const at::Tensor positions = torch::arange(masks.size(1), torch::kLong).expand_as(masks);
    // The score lands on the last position where the mask is 1.
    const at::Tensor lastIndex = positions.masked_fill(masks.le(0), -1).amax(1);
    if (lastIndex.lt(0).any().item<bool>())
        throw std::invalid_argument("computeRewards: a row has an empty mask");
    rewards.scatter_add_(1, lastIndex.unsqueeze(1), scores.to(rewards.scalar_type()).unsqueeze(1));
    return {rewards, nonScore, kls};
}

Advantages computeAdvantages(const at::Tensor &values, const at::Tensor &rewards,
                             const at::Tensor &mask, const GaeOptions &options)
{
    requireSameShape(values, rewards, "values and rewards");
    requireSameShape(values, mask, "values and mask");
    const at::Tensor m = mask.to(values.scalar_type());
    const at::Tensor v = values * m;
    at::Tensor r = rewards * m;
    if (options.whitenRewards)
        r = maskedWhiten(r, m, /*shiftMean=*/false);

    const std::int64_t length = values.size(1);
    std::vector<at::Tensor> reversed;
    at::Tensor lastGae = torch::zeros({values.size(0)}, values.options());
    for (std::int64_t t = length - 1; t >= 0; --t) {
        const at::Tensor nextValue =
            t < length - 1 ? v.select(1, t + 1) : torch::zeros_like(lastGae);
        const at::Tensor delta = r.select(1, t) + options.gamma * nextValue - v.select(1, t);
        lastGae = delta + options.gamma * options.lam * lastGae;
        reversed.push_back(lastGae);
    }
    std::reverse(reversed.begin(), reversed.end());
    const at::Tensor raw = torch::stack(reversed, 1);
    const at::Tensor returns = raw + v;
    const at::Tensor whitened = maskedWhiten(raw, m).detach();
    return {v, raw, whitened, returns};
}

PpoLossResult ppoLoss(const at::Tensor &oldLogprobs, const at::Tensor &oldValues,
                      const at::Tensor &logits, const at::Tensor &vpreds,
                      const at::Tensor &logprobs, const at::Tensor &mask,
                      const at::Tensor &advantages, const at::Tensor &returns,
                      const PpoLossOptions &options)
{
    requireSameShape(oldLogprobs, logprobs, "old and new log-prob");
    requireSameShape(oldValues, vpreds, "old and new value");
    const at::Tensor m = mask.to(logprobs.scalar_type());

    const at::Tensor vpredClipped = torch::max(
        torch::min(vpreds, oldValues + options.cliprangeValue), oldValues - options.cliprangeValue);
    const at::Tensor vfLosses1 = (vpreds - returns).pow(2);
    const at::Tensor vfLosses2 = (vpredClipped - returns).pow(2);
    at::Tensor vfLoss = 0.5 * maskedMean(torch::max(vfLosses1, vfLosses2), m);
    const at::Tensor vfClipfrac = maskedMean(vfLosses2.gt(vfLosses1).to(m.scalar_type()), m);

    const at::Tensor ratio = torch::exp(logprobs - oldLogprobs);
    const at::Tensor pgLosses1 = -advantages * ratio;
    const at::Tensor pgLosses2 =
        -advantages * torch::clamp(ratio, 1.0 - options.cliprange, 1.0 + options.cliprange);
    at::Tensor pgLoss = maskedMean(torch::max(pgLosses1, pgLosses2), m);
    const at::Tensor pgClipfrac = maskedMean(pgLosses2.gt(pgLosses1).to(m.scalar_type()), m);
    at::Tensor loss = pgLoss + options.vfCoef * vfLoss;

    PpoLossResult result;
    const double meanRatio = scalar(maskedMean(ratio, m));
    if (meanRatio > options.ratioThreshold) {
        // TRL keeps the graph (and so the optimizer step) but zeroes the loss.
        pgLoss = pgLoss * 0.0;
        vfLoss = vfLoss * 0.0;
        loss = loss * 0.0;
        result.skipped = true;
    }

    MetricMap &s = result.stats.scalars;
    s["loss/policy"] = scalar(pgLoss);
    s["loss/value"] = scalar(vfLoss);
    s["loss/total"] = scalar(loss);
    if (logits.defined())
        s["policy/entropy"] = scalar(maskedMean(entropyFromLogits(logits.detach()), m));
    const at::Tensor logDiff = (logprobs - oldLogprobs).detach();
    s["policy/approxkl"] = scalar(0.5 * maskedMean(logDiff.pow(2), m));
    s["policy/policykl"] = scalar(maskedMean(-logDiff, m));
    s["policy/clipfrac"] = scalar(pgClipfrac);
    s["policy/advantages_mean"] = scalar(maskedMean(advantages, m));
    s["policy/ratio_mean"] = meanRatio;
    s["returns/mean"] = scalar(maskedMean(returns, m));
    s["returns/var"] = scalar(maskedVar(returns.detach(), m));
    s["val/vpred"] = scalar(maskedMean(vpreds, m));
    s["val/error"] = scalar(maskedMean((vpreds - returns).pow(2), m));
    s["val/clipfrac"] = scalar(vfClipfrac);
    s["val/mean"] = scalar(maskedMean(oldValues, m));
    s["val/var"] = scalar(maskedVar(oldValues.detach(), m));
    result.stats.distributions["policy/advantages"] = advantages.detach().reshape(-1);
    result.stats.distributions["policy/ratio"] = ratio.detach().reshape(-1);

    result.pgLoss = pgLoss;
    result.vfLoss = vfLoss;
    result.loss = loss;
    return result;
}

void PpoStatsAccumulator::add(const PpoLossStats &stats)
{
    m_scalars.add(stats.scalars);
    for (const auto &[name, tensor] : stats.distributions)
        m_distributions[name].push_back(tensor.reshape(-1));
}

PpoLossStats PpoStatsAccumulator::mean() const
{
    PpoLossStats out;
    mergeMetrics(out.scalars, m_scalars.mean(), "ppo/");
    const auto error = out.scalars.find("ppo/val/error");
    const auto returnsVar = out.scalars.find("ppo/returns/var");
    if (error != out.scalars.end() && returnsVar != out.scalars.end())
        out.scalars["ppo/val/var_explained"] = 1.0 - error->second / returnsVar->second;
    for (const auto &[name, parts] : m_distributions)
        out.distributions["ppo/" + name] = torch::cat(parts);
    return out;
}

namespace {

// TRL's names: "tokens/queries_len_mean" and "_len_std", but "tokens/queries_dist".
void lengthStats(PpoLossStats &out, const at::Tensor &lengths, const std::string &prefix)
{
    if (!lengths.defined() || lengths.numel() == 0)
        return;
    const at::Tensor l = lengths.to(torch::kDouble).reshape(-1);
    out.scalars[prefix + "_len_mean"] = l.mean().item<double>();
    out.scalars[prefix + "_len_std"] =
        l.numel() > 1 ? l.std().item<double>() : std::numeric_limits<double>::quiet_NaN();
    out.distributions[prefix + "_dist"] = l;
}

} // namespace

PpoStepStats ppoStepStats(const PpoStepInputs &in, const PpoLossStats &train)
{
    PpoStepStats result;
    PpoLossStats &out = result.stats;
    const at::Tensor m = in.masks.to(torch::kDouble);
    const at::Tensor klList = (in.kls.detach().to(torch::kDouble) * m).sum(-1);
    const double meanKl = klList.mean().item<double>();
    if (meanKl < -1.0)
        result.warnings.push_back("negative KL (" + std::to_string(meanKl) +
                                  "): generation settings may bias the samples");
    out.scalars["objective/kl"] = meanKl;
    out.distributions["objective/kl_dist"] = klList;
    out.distributions["objective/logprobs"] = in.logprobs.detach().to(torch::kDouble);
    out.distributions["objective/ref_logprobs"] = in.refLogprobs.detach().to(torch::kDouble);
    out.scalars["objective/kl_coef"] = in.klCoef;
    // TRL calls this entropy; it is the sampled tokens' NLL summed per row.
    out.scalars["objective/entropy"] =
        (-in.logprobs.detach().to(torch::kDouble) * m).sum(-1).mean().item<double>();
    out.scalars["ppo/mean_non_score_reward"] =
        maskedMean(in.nonScoreRewards.detach().to(torch::kDouble), m).item<double>();
    const at::Tensor scores = in.scores.detach().to(torch::kDouble).reshape(-1);
    out.scalars["ppo/mean_scores"] = scores.mean().item<double>();
    out.scalars["ppo/std_scores"] =
        scores.numel() > 1 ? scores.std().item<double>() : std::numeric_limits<double>::quiet_NaN();
    lengthStats(out, in.queryLengths, "tokens/queries");
    lengthStats(out, in.responseLengths, "tokens/responses");
    if (in.rawScores.defined() && in.rawScores.numel() > 0) {
        const at::Tensor raw = in.rawScores.detach().to(torch::kDouble).reshape(-1);
        out.scalars["env/reward_mean"] = raw.mean().item<double>();
        out.scalars["env/reward_std"] =
            raw.numel() > 1 ? raw.std().item<double>() : std::numeric_limits<double>::quiet_NaN();
        out.distributions["env/reward_dist"] = raw;
    }
    out.scalars["ppo/learning_rate"] = in.learningRate;
    mergeMetrics(out.scalars, train.scalars);
    for (const auto &[name, tensor] : train.distributions)
        out.distributions[name] = tensor;
    return result;
}

at::Tensor encoderDecoderResponseMask(const std::vector<std::int64_t> &responseLengths,
                                      std::int64_t numPositions)
{
    at::Tensor mask =
        torch::zeros({static_cast<std::int64_t>(responseLengths.size()), numPositions});
    for (size_t row = 0; row < responseLengths.size(); ++row) {
        // TRL masks out t = 0 (the first generated token) and ends at len - 2: trl#176.
        const std::int64_t end = std::min(responseLengths[row] - 1, numPositions);
        if (end > 1)
            mask[static_cast<std::int64_t>(row)].slice(0, 1, end).fill_(1.0);
    }
    return mask;
}

at::Tensor transformScores(const at::Tensor &scores, RunningMoments &running,
                           const ScoreTransformOptions &options)
{
    at::Tensor s = scores;
    if (options.useScaling) {
        running.update(scores);
        // TRL adds the machine epsilon of the scores' dtype to the running std.
        const double eps = scores.scalar_type() == torch::kDouble
                               ? std::numeric_limits<double>::epsilon()
                               : std::numeric_limits<float>::epsilon();
        const double factor = running.std() + eps;
        s = options.useNorm ? (scores - running.mean()) / factor : scores / factor;
    }
    if (options.clip)
        s = torch::clamp(s, -*options.clip, *options.clip);
    return s;
}

KlController::KlController(bool adaptive, double value, double target, double horizon)
    : m_adaptive(adaptive), m_value(value), m_target(target), m_horizon(horizon)
{
}

KlController KlController::adaptive(double initValue, double target, double horizon)
{
    if (target <= 0 || horizon <= 0)
        throw InputError("adaptive KL controller: target and horizon must be positive");
    return KlController(true, initValue, target, horizon);
}

KlController KlController::fixed(double value)
{
    return KlController(false, value, 0.0, 1.0);
}

void KlController::update(double current, std::int64_t nSteps)
{
    if (!m_adaptive)
        return;
    // Proportional error clipped to ±0.2 (Ziegler et al. 2019).
    const double error = std::clamp(current / m_target - 1.0, -0.2, 0.2);
    m_value *= 1.0 + error * static_cast<double>(nSteps) / m_horizon;
}

} // namespace mp
