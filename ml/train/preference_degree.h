#pragma once
// The four degrees of preference a labeler gives (paper §1.1) and the per-degree constants the
// trainers derive from them: DPO label smoothing, reward-model margins and labels.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mp {

// The value is the preference's ordinal strength: what a study stores for a label, and the
// |margin| of the signed -3..+3 scale that agreement uses.
enum class PreferenceDegree { Unsure = 0, SlightlyBetter = 1, Better = 2, MuchBetter = 3 };

inline constexpr PreferenceDegree kAllDegrees[] = {
    PreferenceDegree::MuchBetter, PreferenceDegree::Better, PreferenceDegree::SlightlyBetter,
    PreferenceDegree::Unsure};

// Snake-case key used in run.json and metric names: "much_better", "better", "slightly_better",
// "unsure".
std::string_view degreeKey(PreferenceDegree degree);
// The paper's record text: "Much better", "Better", "Slightly better", "Negligibly better/unsure".
std::string_view degreePaperName(PreferenceDegree degree);
// Accepts either form, the short forms ("much", "slightly", "negligible"), and the strength as a
// digit "0".."3" (case-insensitive, surrounding spaces ignored); nullopt when unknown.
std::optional<PreferenceDegree> parseDegree(std::string_view text);

// Per-example cDPO ε of the paper's fork (sigmoid loss only): 0, 0.2, 0.3, 0.5.
double paperLabelSmoothing(PreferenceDegree degree);

enum class MarginScale { None, Big, Small };
// "none", "big", "small"; nullopt when unknown.
std::optional<MarginScale> parseMarginScale(std::string_view text);
std::string_view marginScaleName(MarginScale scale);
// Reward-model margin: big 3/2/1/0, small 1/0.666/0.333/0, none 0.
double rewardMargin(PreferenceDegree degree, MarginScale scale);
// Reward-model target probability: 0.5 for unsure pairs, otherwise 1.
double rewardLabel(PreferenceDegree degree);

} // namespace mp
