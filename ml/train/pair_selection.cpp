// The rules alone, without LibTorch: the study store reads the rule names (the CLI's study
// library links no LibTorch). T5CandidateScorer is in t5_candidate_scorer.cpp.
#include "ml/train/pair_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "ml/core/error.h"

namespace mp {

std::string_view pairRuleName(PairRule rule)
{
    for (const PairRuleName &entry : kPairRuleNames)
        if (entry.rule == rule)
            return entry.name;
    throw std::invalid_argument("pairRuleName: unknown rule");
}

PairRule parsePairRule(std::string_view name)
{
    std::string accepted;
    for (const PairRuleName &entry : kPairRuleNames) {
        if (entry.name == name)
            return entry.rule;
        accepted += (accepted.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw InputError("unknown pair selection rule '" + std::string(name) + "' (expected one of " +
                     accepted + ")");
}

double maxCosineSimilarity(const std::vector<float> &embedding,
                           const std::vector<std::vector<float>> &chosen)
{
    const auto norm = [](const std::vector<float> &v) {
        double sum = 0.0;
        for (float x : v)
            sum += static_cast<double>(x) * x;
        return std::sqrt(sum);
    };
    const double own = norm(embedding);
    if (chosen.empty() || own == 0.0)
        return 0.0;
    double best = 0.0;
    bool any = false;
    for (const auto &other : chosen) {
        if (other.size() != embedding.size())
            throw std::invalid_argument("maxCosineSimilarity: embeddings of different sizes (" +
                                        std::to_string(embedding.size()) + " and " +
                                        std::to_string(other.size()) + ")");
        const double otherNorm = norm(other);
        if (otherNorm == 0.0)
            continue;
        double dot = 0.0;
        for (std::size_t i = 0; i < embedding.size(); ++i)
            dot += static_cast<double>(embedding[i]) * other[i];
        const double similarity = dot / (own * otherNorm);
        best = any ? std::max(best, similarity) : similarity;
        any = true;
    }
    return best;
}

double ensembleDisagreement(const std::vector<std::vector<double>> &memberRewards, std::size_t i,
                            std::size_t j)
{
    if (memberRewards.size() < 2)
        throw std::invalid_argument("ensembleDisagreement: an ensemble needs at least 2 members");
    double sum = 0.0, sumSquares = 0.0;
    for (const auto &rewards : memberRewards) {
        if (i >= rewards.size() || j >= rewards.size() ||
            rewards.size() != memberRewards.front().size())
            throw std::invalid_argument("ensembleDisagreement: members score different candidates");
        const double p = 1.0 / (1.0 + std::exp(-(rewards[i] - rewards[j])));
        sum += p;
        sumSquares += p * p;
    }
    const auto n = static_cast<double>(memberRewards.size());
    const double mean = sum / n;
    return std::max(0.0, sumSquares / n - mean * mean);
}

PairPick pickPair(const std::vector<CandidatePool> &pools,
                  const std::vector<std::vector<float>> &chosenEmbeddings,
                  const SelectionOptions &options, std::mt19937_64 &rng)
{
    if (pools.empty())
        throw std::invalid_argument("pickPair: no prompt to choose from");
    if (!(options.diversity >= 0.0) || !std::isfinite(options.diversity))
        throw std::invalid_argument("pickPair: the diversity weight must be finite and >= 0");
    const bool diverse = options.diversity > 0.0;
    std::vector<PairPick> picks;
    for (std::size_t p = 0; p < pools.size(); ++p) {
        const CandidatePool &pool = pools[p];
        const std::size_t k = !pool.rewards.empty()         ? pool.rewards.size()
                              : !pool.memberRewards.empty() ? pool.memberRewards.front().size()
                                                            : pool.size;
        if (k < 2)
            throw std::invalid_argument("pickPair: prompt " + std::to_string(p) + " has " +
                                        std::to_string(k) + " candidates; a pair needs 2");
        if (diverse && pool.embedding.empty())
            throw std::invalid_argument("pickPair: diversity needs the prompts' embeddings");
        PairPick pick;
        pick.pool = p;
        if (options.rule == PairRule::Margin) {
            if (pool.rewards.empty())
                throw std::invalid_argument("pickPair: the margin rule needs rewards");
            double best = std::numeric_limits<double>::infinity();
            for (std::size_t i = 0; i < k; ++i)
                for (std::size_t j = i + 1; j < k; ++j) {
                    const double margin = pool.rewards[i] - pool.rewards[j];
                    if (std::abs(margin) < best) {
                        best = std::abs(margin);
                        pick.first = i;
                        pick.second = j;
                        pick.margin = margin;
                    }
                }
            pick.score = -best;
        } else if (options.rule == PairRule::Ensemble) {
            if (pool.memberRewards.empty())
                throw std::invalid_argument("pickPair: the ensemble rule needs member rewards");
            double best = -1.0;
            for (std::size_t i = 0; i < k; ++i)
                for (std::size_t j = i + 1; j < k; ++j) {
                    const double disagreement = ensembleDisagreement(pool.memberRewards, i, j);
                    if (disagreement > best) {
                        best = disagreement;
                        pick.first = i;
                        pick.second = j;
                    }
                }
            double margin = 0.0;
            for (const auto &rewards : pool.memberRewards)
                margin += rewards[pick.first] - rewards[pick.second];
            pick.margin = margin / static_cast<double>(pool.memberRewards.size());
            pick.score = best;
        } else {
            const auto first = std::uniform_int_distribution<std::size_t>(0, k - 1)(rng);
            auto second = std::uniform_int_distribution<std::size_t>(0, k - 2)(rng);
            if (second >= first)
                ++second;
            pick.first = std::min(first, second);
            pick.second = std::max(first, second);
            if (!pool.rewards.empty())
                pick.margin = pool.rewards[pick.first] - pool.rewards[pick.second];
        }
        if (diverse) {
            pick.similarity = maxCosineSimilarity(pool.embedding, chosenEmbeddings);
            pick.score = pick.score.value_or(0.0) - options.diversity * pick.similarity;
        }
        picks.push_back(pick);
    }
    // The best score wins; ties (and the random rule without diversity: no score) are drawn.
    std::vector<std::size_t> best;
    double bestScore = -std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < picks.size(); ++p) {
        const double score = picks[p].score.value_or(0.0);
        if (score > bestScore + 1e-12) {
            bestScore = score;
            best = {p};
        } else if (std::abs(score - bestScore) <= 1e-12) {
            best.push_back(p);
        }
    }
    const std::size_t chosen =
        best.size() == 1
            ? best.front()
            : best[std::uniform_int_distribution<std::size_t>(0, best.size() - 1)(rng)];
    return picks[chosen];
}

} // namespace mp
