#include "ml/train/preference_degree.h"

#include <algorithm>
#include <cctype>

namespace mp {

namespace {

std::string lowered(std::string_view text)
{
    const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
    const auto first = std::find_if(text.begin(), text.end(), notSpace);
    const auto last = std::find_if(text.rbegin(), text.rend(), notSpace).base();
    std::string out(first, first < last ? last : first);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

std::string_view degreeKey(PreferenceDegree degree)
{
    switch (degree) {
    case PreferenceDegree::MuchBetter:
        return "much_better";
    case PreferenceDegree::Better:
        return "better";
    case PreferenceDegree::SlightlyBetter:
        return "slightly_better";
    case PreferenceDegree::Unsure:
        return "unsure";
    }
    return "unsure";
}

std::string_view degreePaperName(PreferenceDegree degree)
{
    switch (degree) {
    case PreferenceDegree::MuchBetter:
        return "Much better";
    case PreferenceDegree::Better:
        return "Better";
    case PreferenceDegree::SlightlyBetter:
        return "Slightly better";
    case PreferenceDegree::Unsure:
        return "Negligibly better/unsure";
    }
    return "Negligibly better/unsure";
}

std::optional<PreferenceDegree> parseDegree(std::string_view text)
{
    const std::string key = lowered(text);
    for (PreferenceDegree degree : kAllDegrees) {
        if (key == degreeKey(degree) || key == lowered(degreePaperName(degree)))
            return degree;
    }
    if (key == "negligibly better" || key == "negligibly_better" || key == "negligible")
        return PreferenceDegree::Unsure;
    if (key == "much")
        return PreferenceDegree::MuchBetter;
    if (key == "slightly")
        return PreferenceDegree::SlightlyBetter;
    if (key.size() == 1 && key[0] >= '0' && key[0] <= '3')
        return static_cast<PreferenceDegree>(key[0] - '0');
    return std::nullopt;
}

double paperLabelSmoothing(PreferenceDegree degree)
{
    switch (degree) {
    case PreferenceDegree::MuchBetter:
        return 0.0;
    case PreferenceDegree::Better:
        return 0.2;
    case PreferenceDegree::SlightlyBetter:
        return 0.3;
    case PreferenceDegree::Unsure:
        return 0.5;
    }
    return 0.5;
}

std::optional<MarginScale> parseMarginScale(std::string_view text)
{
    const std::string key = lowered(text);
    if (key == "none")
        return MarginScale::None;
    if (key == "big")
        return MarginScale::Big;
    if (key == "small")
        return MarginScale::Small;
    return std::nullopt;
}

std::string_view marginScaleName(MarginScale scale)
{
    switch (scale) {
    case MarginScale::None:
        return "none";
    case MarginScale::Big:
        return "big";
    case MarginScale::Small:
        return "small";
    }
    return "none";
}

double rewardMargin(PreferenceDegree degree, MarginScale scale)
{
    // The paper's rm script: "big" = 3/2/1/0, "small" = 1/0.666/0.333/0 (its literal values).
    static constexpr double kBig[] = {3.0, 2.0, 1.0, 0.0};
    static constexpr double kSmall[] = {1.0, 0.666, 0.333, 0.0};
    const auto index = 3 - static_cast<int>(degree); // MuchBetter first
    switch (scale) {
    case MarginScale::None:
        return 0.0;
    case MarginScale::Big:
        return kBig[index];
    case MarginScale::Small:
        return kSmall[index];
    }
    return 0.0;
}

double rewardLabel(PreferenceDegree degree)
{
    return degree == PreferenceDegree::Unsure ? 0.5 : 1.0;
}

} // namespace mp
