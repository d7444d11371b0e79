#pragma once
// Active pair selection (issue 21): of K candidate motions sampled for a prompt, which pair to
// put in front of the labeler.
//
// - random: a uniformly drawn pair of the candidates (what labeling did before).
// - margin: the pair whose implicit reward margin is closest to zero. The implicit reward of a
//   candidate y is r(y) = β·(log π(y|x) − log π_ref(y|x)) (DPO's reward, spec §1.3), π the policy
//   (base + current adapter), π_ref the base (adapter disabled); the margin of (y_i, y_j) is
//   r(y_i) − r(y_j). A margin near zero is a pair the policy cannot yet tell apart: the label's
//   outcome is least predictable from the policy, so it tells the policy most (uncertainty
//   sampling, as in Muldrew et al., ICML 2024).
// - diversity (either rule): across a pool of prompts, each prompt's best pair is penalised by
//   weight · (the largest cosine similarity between the prompt's embedding, the T5 encoder's
//   mean state, and those of prompts already chosen), so one kind of prompt does not take the
//   whole budget.
// An ensemble of reward models is not implemented.
//
// The rule works on numbers (rewards, embeddings), so it is tested on hand-built pools; a
// CandidateScorer computes them from a model (T5CandidateScorer).

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace mp {

class ModelBundle;

enum class PairRule { Random, Margin };

struct PairRuleName {
    PairRule rule;
    std::string_view name;
};
// The one list the study settings, the CLI and the GUI read, in the order forms offer them.
inline constexpr PairRuleName kPairRuleNames[] = {
    {PairRule::Random, "random"},
    {PairRule::Margin, "margin"},
};
std::string_view pairRuleName(PairRule rule);
// InputError listing the accepted names.
PairRule parsePairRule(std::string_view name);

inline constexpr int kMinCandidates = 2;
inline constexpr int kMaxCandidates = 8;

// One prompt's candidates as the rule sees them.
struct CandidatePool {
    std::vector<double> rewards;  // implicit reward per candidate (margin rule; size K >= 2)
    std::vector<float> embedding; // the prompt's embedding (diversity; may be empty otherwise)
    std::size_t size = 0;         // K (rewards.size() when given)
};

struct PairPick {
    std::size_t pool = 0; // which prompt of the pool
    std::size_t first = 0;
    std::size_t second = 0;       // first < second, candidate indices
    std::optional<double> margin; // r(first) − r(second), when rewards were given
    std::optional<double> score;  // the rule's value of the pick (higher teaches more)
    double similarity = 0.0;      // the largest cosine similarity to chosen prompts
};

struct SelectionOptions {
    PairRule rule = PairRule::Random;
    double diversity = 0.0; // weight of the similarity penalty, >= 0; 0: off
};

// Largest cosine similarity between embedding and any of chosen; 0 when chosen is empty or an
// embedding is all zeros.
double maxCosineSimilarity(const std::vector<float> &embedding,
                           const std::vector<std::vector<float>> &chosen);

// Picks one pair out of the pools. Margin: per pool the pair with the smallest |margin| (ties:
// the first in index order), score = −|margin| − diversity·similarity; random: a random pair
// per pool, score = −diversity·similarity (none without diversity). The pool with the highest
// score wins (ties: a random one of them). Throws std::invalid_argument for an empty list, a
// pool with fewer than 2 candidates, margin without rewards, or diversity without embeddings.
PairPick pickPair(const std::vector<CandidatePool> &pools,
                  const std::vector<std::vector<float>> &chosenEmbeddings,
                  const SelectionOptions &options, std::mt19937_64 &rng);

// What the rule needs from a model. Implemented by T5CandidateScorer; tests give their own.
class CandidateScorer {
public:
    virtual ~CandidateScorer() = default;
    // β·(log π(y|x) − log π_ref(y|x)) for each candidate's VQ codes.
    virtual std::vector<double>
    implicitRewards(const std::string &prompt,
                    const std::vector<std::vector<std::int64_t>> &codes) = 0;
    virtual std::vector<float> promptEmbedding(const std::string &prompt) = 0;
};

// The bundle's T5 as the policy (its LoRA adapter, if it carries one) and the same T5 with the
// adapter disabled as the reference: without an adapter every reward is 0 (policy = reference)
// and the margin rule ties everywhere. Sequence log-probs are sums over SOM, codes, EOM, </s>
// (the labels DPO trains on). Embedding: the encoder's output averaged over the prompt tokens.
class T5CandidateScorer : public CandidateScorer {
public:
    T5CandidateScorer(ModelBundle &bundle, double beta);
    std::vector<double>
    implicitRewards(const std::string &prompt,
                    const std::vector<std::vector<std::int64_t>> &codes) override;
    std::vector<float> promptEmbedding(const std::string &prompt) override;

private:
    ModelBundle &m_bundle;
    double m_beta;
};

} // namespace mp
