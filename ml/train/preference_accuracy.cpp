#include "ml/train/preference_accuracy.h"

#include <map>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/logprobs.h"
#include "ml/train/reward_model.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

struct PairTensors {
    at::Tensor promptIds, promptMask, labels; // chosen rows then rejected rows: [2B, ...]
};

PairTensors pairTensors(const ModelBundle &bundle, const std::vector<PreferencePair> &pairs,
                        std::size_t begin, std::size_t end, const c10::Device &device)
{
    std::vector<std::vector<std::int64_t>> prompts, masks, chosen, rejected;
    for (std::size_t i = begin; i < end; ++i) {
        prompts.push_back(bundle.encodePrompt(pairs[i].prompt));
        masks.emplace_back(prompts.back().size(), 1);
        chosen.push_back(motionLabels(bundle.tokenizer(), pairs[i].chosen, 512));
        rejected.push_back(motionLabels(bundle.tokenizer(), pairs[i].rejected, 512));
    }
    return {padRows(prompts, bundle.tokenizer().padId()).repeat({2, 1}).to(device),
            padRows(masks, 0).repeat({2, 1}).to(device),
            concatenatedLabels(padRows(chosen, kIgnoreLabel), padRows(rejected, kIgnoreLabel))
                .to(device)};
}

template <typename ScoreFn>
PairScores scoreInBatches(const ModelBundle &bundle, const std::vector<PreferencePair> &pairs,
                          std::int64_t batchSize, const c10::Device &device, ScoreFn score)
{
    PairScores out;
    torch::NoGradGuard noGrad;
    const auto step = static_cast<std::size_t>(std::max<std::int64_t>(1, batchSize));
    for (std::size_t begin = 0; begin < pairs.size(); begin += step) {
        const std::size_t end = std::min(pairs.size(), begin + step);
        const auto tensors = pairTensors(bundle, pairs, begin, end, device);
        const at::Tensor scores = score(tensors).to(torch::kCPU, torch::kDouble);
        const auto b = static_cast<std::int64_t>(end - begin);
        for (std::int64_t i = 0; i < b; ++i)
            out.scores.emplace_back(scores[i].item<double>(), scores[b + i].item<double>());
    }
    return out;
}

} // namespace

PairScores scorePairsWithPolicy(ModelBundle &bundle, const std::vector<PreferencePair> &pairs,
                                std::int64_t batchSize)
{
    T5Model &t5 = bundle.t5();
    t5->eval();
    const bool hasAdapter = !loraLayers(*t5).empty();
    const LogProbOptions mean{.alignment = LabelAlignment::EncoderDecoder, .average = true};
    const auto logLikelihood = [&](const PairTensors &t) {
        const auto logits = t5->forward(t.promptIds, t.promptMask, t5->shiftRight(t.labels));
        return sequenceLogProbs(logits, t.labels, mean);
    };
    auto out = scoreInBatches(bundle, pairs, batchSize, bundle.device(), [&](const PairTensors &t) {
        if (!hasAdapter)
            return logLikelihood(t);
        const at::Tensor policy = logLikelihood(t);
        LoraDisabledScope reference(*t5);
        return policy - logLikelihood(t);
    });
    out.scorer = hasAdapter ? "implicit_reward" : "log_likelihood";
    return out;
}

PairScores scorePairsWithRewardModel(const fs::path &bundleDir, const fs::path &rewardModelDir,
                                     const std::vector<PreferencePair> &pairs,
                                     std::int64_t batchSize)
{
    ModelBundle bundle(bundleDir);
    RewardModel model(bundle.t5());
    model->load(resolveRewardModelDir(rewardModelDir));
    model->eval();
    auto out = scoreInBatches(bundle, pairs, batchSize, bundle.device(), [&](const PairTensors &t) {
        return model->score(t.promptIds, t.promptMask, t.labels);
    });
    out.scorer = "reward_model";
    return out;
}

MetricMap preferenceAccuracyByDegree(const PairScores &scores,
                                     const std::vector<PreferencePair> &pairs)
{
    if (scores.scores.size() != pairs.size())
        throw std::invalid_argument("preferenceAccuracyByDegree: one score pair per pair");
    std::map<PreferenceDegree, std::pair<std::int64_t, std::int64_t>> counts; // right, all
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto &[right, all] = counts[pairs[i].degree];
        right += scores.scores[i].first > scores.scores[i].second ? 1 : 0;
        ++all;
    }
    MetricMap out;
    std::int64_t right = 0, all = 0;
    for (const auto &[degree, count] : counts) {
        out["preference_accuracy/" + std::string(degreeKey(degree))] =
            static_cast<double>(count.first) / static_cast<double>(count.second);
        if (degree != PreferenceDegree::Unsure) {
            right += count.first;
            all += count.second;
        }
    }
    if (all > 0)
        out["preference_accuracy"] = static_cast<double>(right) / static_cast<double>(all);
    return out;
}

} // namespace mp
