#pragma once
// Gold and repeated pairs (issue 22): checks of a labeler mixed into their queue, never marked
// on screen, never training data.
//
// - A gold pair has a known answer: a sample of the study (a model sample, an imported or
//   corpus clip) against a corrupted copy of itself (time-reversed, frozen in one pose,
//   jittered) or against a sample of another prompt (a mismatched clip). The expected sample is
//   the original. Corruption acts on the stored 263-d features when the sample has them (what
//   the Label panel shows), and on the VQ codes in any case (reversed, one code repeated, every
//   other code replaced), so a codes-only sample is corrupted too.
// - A repeat pair is a normal pair the labeler labeled earlier (at least kMinRepeatGap labels
//   ago), shown again with sides swapped.
//
// Rates are shares of the pairs a labeler is shown, set per study in study_meta ("gold_rate",
// "repeat_rate"); together at most kMaxCheckShare, since each normal pair handed out is preceded
// by at most one check pair.

#include "app/study/study_types.h"

#include <QString>

#include <optional>
#include <random>

namespace mp {

class StudyStore;

inline constexpr double kMaxCheckShare = 0.5;
inline constexpr int kMinRepeatGap = 5; // labels by the labeler since the one repeated

struct CheckRates {
    double gold = 0;   // share of shown pairs that are gold, [0, kMaxCheckShare]
    double repeat = 0; // share of shown pairs that are repeats
};
CheckRates checkRates(const StudyStore &store);
// InputError for a rate outside [0, 0.5] or rates summing above 0.5.
void setCheckRates(StudyStore &store, const CheckRates &rates);

enum class GoldCorruption { Reversed, Frozen, Jittered, Mismatched };
QString goldCorruptionName(GoldCorruption corruption); // "reversed", "frozen", ...

// A corrupted copy of sample for its prompt (not stored): features and codes as above; model,
// adapter, origin, seed and sampling of the source, so that nothing on screen tells it apart.
// Mismatched needs `other` (a sample of another prompt), which it copies.
SampleInfo corruptedSample(const SampleInfo &sample, GoldCorruption corruption,
                           std::mt19937_64 &rng, const SampleInfo *other = nullptr);

// A gold pair made for labeler from a random sample of the study's normal pairs, with a random
// corruption (mismatched only where another prompt has samples); its external id is
// "gold:<corruption>:<corrupted sample id>". nullopt when no sample has features or codes.
std::optional<qint64> makeGoldPair(StudyStore &store, const QString &labeler, std::mt19937_64 &rng);
// A repeat of a random pair the labeler labeled (not skipped) at least kMinRepeatGap labels
// ago and was not shown again yet; nullopt when there is none.
std::optional<qint64> makeRepeatPair(StudyStore &store, const QString &labeler,
                                     std::mt19937_64 &rng);

// The labeling queue with checks: the labeler's held pair if any (a check pair first), else a
// fresh normal pair (StudyStore::assignNextPair), before which a gold or a repeat pair is put
// with the probabilities that make the study's rates the shares of shown pairs. nullopt when
// no normal pair is left.
std::optional<PairInfo> assignNextWithChecks(StudyStore &store, const QString &labeler,
                                             std::mt19937_64 &rng);

} // namespace mp
