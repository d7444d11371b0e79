#pragma once
// Active pair selection in a study (issue 21): the study's rule (a study_meta setting) and the
// generation of a pair by it. For each prompt of a pool, K candidates are sampled from the
// current model (the base plus the round's adapter, if any) and the rule of
// ml/train/pair_selection.h picks the pair put in front of the labeler; the pair is stored with
// its selection record (rule, K, margin, score). The Label panel and `study sample` go through
// here. Plain random pairs of 2 (the default) cost what they did before: no scoring.
//
// The ensemble rule reads the current round's reward-model ensemble, ROUND_DIR/ensemble beside
// the round's ROUND_DIR/run (ml/train/reward_ensemble.h; `study next-round` trains it when the
// study's rule is ensemble). Round 0 has no labels to train one on: its pairs are random pairs
// of the K candidates, recorded with the rule and no score. A later round without its ensemble
// (the rule was chosen after the round was trained) is an InputError naming the folder.

#include "app/study/pair_generation.h"
#include "ml/train/pair_selection.h"

#include <filesystem>
#include <memory>
#include <random>
#include <vector>

namespace mp {

class StudyStore;
class RewardEnsemble;

struct PairSelectionSettings {
    PairRule rule = PairRule::Random;
    int candidates = 2;     // K, kMinCandidates..kMaxCandidates
    double diversity = 0.0; // >= 0
    double beta = 0.1;      // of the implicit reward (DPO's default β)
    bool operator==(const PairSelectionSettings &) const = default;
};

// Random of 2 without diversity: a plain pair (generatePair), no candidates to score.
inline bool isPlain(const PairSelectionSettings &settings)
{
    return settings.rule == PairRule::Random && settings.candidates == 2 &&
           settings.diversity == 0.0;
}

// The study's settings (study_meta "pair_rule", "pair_candidates", "pair_diversity",
// "pair_beta"), defaults where unset; InputError naming the study and the key for a bad value.
PairSelectionSettings pairSelectionSettings(const StudyStore &store);
// InputError naming the value: K outside 2..8, a negative or non-finite diversity, β <= 0.
void validate(const PairSelectionSettings &settings);
void setPairSelectionSettings(StudyStore &store, const PairSelectionSettings &settings);
// "margin of 4 candidates, diversity 0.5, β 0.1"; "random pair of 2".
QString describe(const PairSelectionSettings &settings);

// The current round's ensemble folder (ROUND_DIR/ensemble); empty in round 0.
std::filesystem::path roundEnsembleDir(const StudyStore &store);

// State kept across the pairs of one session: the embeddings of prompts chosen so far (for the
// diversity term), the draw of random picks, and the ensemble rule's ensemble (its folder, set
// by the caller from roundEnsembleDir; loaded on first use and again when the folder changes).
struct SelectionState {
    std::vector<std::vector<float>> chosenEmbeddings;
    std::mt19937_64 rng{1};
    std::filesystem::path ensembleDir; // empty: no ensemble yet (round 0), random pairs
    std::shared_ptr<RewardEnsemble> ensemble;
};

struct SelectedPair {
    GeneratedPair pair; // pair.selection set; pair.request is the pool's chosen request
    std::size_t poolIndex = 0;
};

// Samples settings.candidates candidates for each request of the pool, scores them (margin or
// ensemble rule; diversity) with a T5CandidateScorer on bundle (and state's ensemble), picks one
// pair and records the pick's prompt embedding in state. Throws InputError for an empty pool,
// bad settings, or an ensemble folder that does not hold one.
SelectedPair generateSelectedPair(ModelBundle &bundle, const std::vector<PairRequest> &pool,
                                  const PairSelectionSettings &settings, SelectionState &state,
                                  const ProgressFn &progress = {});
// The same with a given scorer (tests).
SelectedPair generateSelectedPair(ModelBundle &bundle, CandidateScorer &scorer,
                                  const std::vector<PairRequest> &pool,
                                  const PairSelectionSettings &settings, SelectionState &state,
                                  const ProgressFn &progress = {});

} // namespace mp
