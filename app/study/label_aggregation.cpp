#include "app/study/label_aggregation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace mp {

namespace {

constexpr std::array<std::pair<LabelAggregation, const char *>, 4> kRules{{
    {LabelAggregation::Last, "last"},
    {LabelAggregation::Majority, "majority"},
    {LabelAggregation::MeanDegree, "mean"},
    {LabelAggregation::Unanimous, "unanimous"},
}};

PreferenceDegree roundedDegree(double magnitude)
{
    return static_cast<PreferenceDegree>(std::clamp<long>(std::lround(magnitude), 0, 3));
}

double meanMagnitude(const std::vector<const LabelRecord *> &votes)
{
    double sum = 0;
    for (const LabelRecord *vote : votes)
        sum += std::abs(*signedPreference(*vote->choice, vote->degree));
    return votes.empty() ? 0.0 : sum / static_cast<double>(votes.size());
}

LabelRecord combined(const std::vector<const LabelRecord *> &votes, Choice choice,
                     PreferenceDegree degree)
{
    LabelRecord out = **std::max_element(votes.begin(), votes.end(),
                                         [](auto *a, auto *b) { return a->id < b->id; });
    QStringList names;
    for (const LabelRecord *vote : votes) {
        if (!names.contains(vote->labeler))
            names << vote->labeler;
    }
    names.sort();
    out.labeler = names.join(QLatin1Char(','));
    out.choice = choice;
    out.degree = degree;
    out.skipReason = SkipReason::None;
    out.tags.clear();
    return out;
}

} // namespace

QString labelAggregationName(LabelAggregation rule)
{
    for (const auto &[value, name] : kRules) {
        if (value == rule)
            return QString::fromLatin1(name);
    }
    return {};
}

std::optional<LabelAggregation> labelAggregationFromName(const QString &name)
{
    for (const auto &[value, text] : kRules) {
        if (name.trimmed().compare(QLatin1String(text), Qt::CaseInsensitive) == 0)
            return value;
    }
    return std::nullopt;
}

QStringList labelAggregationNames()
{
    QStringList names;
    for (const auto &[value, name] : kRules)
        names << QString::fromLatin1(name);
    return names;
}

std::optional<LabelRecord> aggregateLabels(const std::vector<LabelRecord> &labels,
                                           const TrainingLabelOptions &options)
{
    std::vector<const LabelRecord *> kept;
    for (const LabelRecord &label : labels) {
        if (label.choice && !label.retracted && !options.excludedLabelers.contains(label.labeler))
            kept.push_back(&label);
    }
    if (options.rule == LabelAggregation::Last) {
        if (kept.empty())
            return std::nullopt;
        return **std::max_element(kept.begin(), kept.end(),
                                  [](auto *a, auto *b) { return a->id < b->id; });
    }
    std::vector<const LabelRecord *> votes;
    for (const LabelRecord *label : kept) {
        if (*label->choice != Choice::Skipped)
            votes.push_back(label);
    }
    if (votes.empty())
        return std::nullopt;
    switch (options.rule) {
    case LabelAggregation::Last:
        break;
    case LabelAggregation::Majority: {
        std::array<std::vector<const LabelRecord *>, 3> byChoice; // sample_1, sample_2, unsure
        for (const LabelRecord *vote : votes) {
            const std::size_t index = *vote->choice == Choice::Sample1   ? 0
                                      : *vote->choice == Choice::Sample2 ? 1
                                                                         : 2;
            byChoice[index].push_back(vote);
        }
        std::size_t best = 0;
        for (std::size_t c = 1; c < byChoice.size(); ++c) {
            if (byChoice[c].size() > byChoice[best].size())
                best = c;
        }
        for (std::size_t c = 0; c < byChoice.size(); ++c) {
            if (c != best && byChoice[c].size() == byChoice[best].size())
                return std::nullopt; // a tie: no majority
        }
        const Choice choice = best == 0   ? Choice::Sample1
                              : best == 1 ? Choice::Sample2
                                          : Choice::Unsure;
        return combined(byChoice[best], choice, roundedDegree(meanMagnitude(byChoice[best])));
    }
    case LabelAggregation::MeanDegree: {
        double sum = 0;
        for (const LabelRecord *vote : votes)
            sum += *signedPreference(*vote->choice, vote->degree);
        const double mean = sum / static_cast<double>(votes.size());
        if (mean == 0.0)
            return combined(votes, Choice::Unsure, PreferenceDegree::Unsure);
        return combined(votes, mean > 0 ? Choice::Sample1 : Choice::Sample2,
                        roundedDegree(std::abs(mean)));
    }
    case LabelAggregation::Unanimous: {
        const Choice first = *votes.front()->choice;
        for (const LabelRecord *vote : votes) {
            if (*vote->choice != first)
                return std::nullopt;
        }
        if (first == Choice::Unsure)
            return combined(votes, Choice::Unsure, PreferenceDegree::Unsure);
        return combined(votes, first, roundedDegree(meanMagnitude(votes)));
    }
    }
    return std::nullopt;
}

} // namespace mp
