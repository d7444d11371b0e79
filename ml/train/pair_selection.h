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
// - ensemble: the pair on which a small ensemble of reward models (ml/train/reward_ensemble.h,
//   trained on the study's labels so far) disagrees most. Each member m gives its preference
//   probability p_m = σ(r_m(y_i) − r_m(y_j)) (Bradley-Terry, the loss the members were trained
//   with); the disagreement is the variance of p_m over the members. Why this measure: it is on
//   the scale of the label itself (a probability), so a member whose rewards merely have a larger
//   scale does not dominate as it would in the variance of r_m(y_i) − r_m(y_j); and unlike the
//   share of members preferring y_i (0, 1/3, 2/3, 1 with 3 members) it rarely ties. Members that
//   agree (all p near 1, or all near 1/2: a pair every member finds even) score near 0; members
//   confident in opposite directions score up to 1/4. It is query-by-committee: the epistemic
//   part of the uncertainty, which labels reduce, rather than a pair that is merely hard.
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

enum class PairRule { Random, Margin, Ensemble };

struct PairRuleName {
    PairRule rule;
    std::string_view name;
};
// The one list the study settings, the CLI and the GUI read, in the order forms offer them.
inline constexpr PairRuleName kPairRuleNames[] = {
    {PairRule::Random, "random"},
    {PairRule::Margin, "margin"},
    {PairRule::Ensemble, "ensemble"},
};
std::string_view pairRuleName(PairRule rule);
// InputError listing the accepted names.
PairRule parsePairRule(std::string_view name);

inline constexpr int kMinCandidates = 2;
inline constexpr int kMaxCandidates = 8;

// One prompt's candidates as the rule sees them.
struct CandidatePool {
    std::vector<double> rewards; // implicit reward per candidate (margin rule; size K >= 2)
    // ensemble rule: memberRewards[m][c], member m's reward of candidate c (>= 2 members)
    std::vector<std::vector<double>> memberRewards;
    std::vector<float> embedding; // the prompt's embedding (diversity; may be empty otherwise)
    std::size_t size = 0;         // K (rewards.size() when given)
};

struct PairPick {
    std::size_t pool = 0; // which prompt of the pool
    std::size_t first = 0;
    std::size_t second = 0; // first < second, candidate indices
    // r(first) − r(second), when rewards were given; the ensemble rule: the members' mean
    std::optional<double> margin;
    std::optional<double> score; // the rule's value of the pick (higher teaches more)
    double similarity = 0.0;     // the largest cosine similarity to chosen prompts
};

struct SelectionOptions {
    PairRule rule = PairRule::Random;
    double diversity = 0.0; // weight of the similarity penalty, >= 0; 0: off
};

// Largest cosine similarity between embedding and any of chosen; 0 when chosen is empty or an
// embedding is all zeros.
double maxCosineSimilarity(const std::vector<float> &embedding,
                           const std::vector<std::vector<float>> &chosen);

// The ensemble's disagreement on (y_i, y_j): the variance over members of σ(r_m(i) − r_m(j)).
// memberRewards[m][c]; std::invalid_argument for fewer than 2 members or ragged rows.
double ensembleDisagreement(const std::vector<std::vector<double>> &memberRewards, std::size_t i,
                            std::size_t j);

// Picks one pair out of the pools. Margin: per pool the pair with the smallest |margin| (ties:
// the first in index order), score = −|margin| − diversity·similarity; ensemble: per pool the
// pair with the largest disagreement (ties: the first), score = disagreement −
// diversity·similarity; random: a random pair per pool, score = −diversity·similarity (none
// without diversity). The pool with the highest score wins (ties: a random one of them). Throws
// std::invalid_argument for an empty list, a pool with fewer than 2 candidates, margin without
// rewards, ensemble without member rewards, or diversity without embeddings.
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
    // Each ensemble member's reward of each candidate ([member][candidate]), for the ensemble
    // rule.
    virtual std::vector<std::vector<double>>
    memberRewards(const std::string &prompt,
                  const std::vector<std::vector<std::int64_t>> &codes) = 0;
};

class RewardEnsemble;

// The bundle's T5 as the policy (its LoRA adapter, if it carries one) and the same T5 with the
// adapter disabled as the reference: without an adapter every reward is 0 (policy = reference)
// and the margin rule ties everywhere. Sequence log-probs are sums over SOM, codes, EOM, </s>
// (the labels DPO trains on). Embedding: the encoder's output averaged over the prompt tokens.
// Member rewards come from the ensemble given (InputError without one).
class T5CandidateScorer : public CandidateScorer {
public:
    T5CandidateScorer(ModelBundle &bundle, double beta, RewardEnsemble *ensemble = nullptr);
    std::vector<double>
    implicitRewards(const std::string &prompt,
                    const std::vector<std::vector<std::int64_t>> &codes) override;
    std::vector<float> promptEmbedding(const std::string &prompt) override;
    std::vector<std::vector<double>>
    memberRewards(const std::string &prompt,
                  const std::vector<std::vector<std::int64_t>> &codes) override;

private:
    ModelBundle &m_bundle;
    double m_beta;
    RewardEnsemble *m_ensemble;
};

} // namespace mp
