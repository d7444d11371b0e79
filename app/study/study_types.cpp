#include "app/study/study_types.h"

#include <array>
#include <utility>

namespace mp {

namespace {

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, const char *>, N> &table, const QString &name)
{
    for (const auto &[value, text] : table) {
        if (name.compare(QLatin1String(text), Qt::CaseInsensitive) == 0)
            return value;
    }
    return std::nullopt;
}

template <typename E, std::size_t N>
QString nameOf(const std::array<std::pair<E, const char *>, N> &table, E value)
{
    for (const auto &[entry, text] : table) {
        if (entry == value)
            return QString::fromLatin1(text);
    }
    return {};
}

constexpr std::array<std::pair<PromptSource, const char *>, 4> kSources{{
    {PromptSource::Typed, "typed"},
    {PromptSource::List, "list"},
    {PromptSource::Generated, "generated"},
    {PromptSource::Imported, "imported"},
}};

constexpr std::array<std::pair<Choice, const char *>, 4> kChoices{{
    {Choice::Sample1, "sample_1"},
    {Choice::Sample2, "sample_2"},
    {Choice::Unsure, "unsure"},
    {Choice::Skipped, "skipped"},
}};

// The paper's spellings first (they are what export writes); short aliases for typing.
constexpr std::array<std::pair<SkipReason, const char *>, 6> kSkipReasons{{
    {SkipReason::None, ""},
    {SkipReason::BrokenMotion, "broken_motion"},
    {SkipReason::PromptUnclear, "prompt_unclear"},
    {SkipReason::BothBad, "both_bad"},
    {SkipReason::Identical, "identical"},
    {SkipReason::Other, "other"},
}};

constexpr std::array<std::pair<PairKind, const char *>, 3> kPairKinds{{
    {PairKind::Normal, "normal"},
    {PairKind::Gold, "gold"},
    {PairKind::Repeat, "repeat"},
}};

constexpr std::array<std::pair<ReasonTag, const char *>, kNumReasonTags> kReasonTags{{
    {ReasonTag::WrongAction, "wrong_action"},
    {ReasonTag::WrongCountOrDirection, "wrong_count_direction"},
    {ReasonTag::Jitter, "jitter"},
    {ReasonTag::FootSkating, "foot_skating"},
    {ReasonTag::PhysicallyImpossible, "physically_impossible"},
    {ReasonTag::TooShort, "too_short"},
}};

constexpr std::array<std::pair<ReasonTag, const char *>, kNumReasonTags> kReasonTitles{{
    {ReasonTag::WrongAction, "Wrong action"},
    {ReasonTag::WrongCountOrDirection, "Wrong count or direction"},
    {ReasonTag::Jitter, "Jitter"},
    {ReasonTag::FootSkating, "Foot skating"},
    {ReasonTag::PhysicallyImpossible, "Physically impossible"},
    {ReasonTag::TooShort, "Too short"},
}};

} // namespace

QString pairKindName(PairKind kind)
{
    return nameOf(kPairKinds, kind);
}
std::optional<PairKind> pairKindFromName(const QString &name)
{
    return lookup(kPairKinds, name);
}
QString reasonTagName(ReasonTag tag)
{
    return nameOf(kReasonTags, tag);
}
QString reasonTagTitle(ReasonTag tag)
{
    return nameOf(kReasonTitles, tag);
}
std::optional<ReasonTag> reasonTagFromName(const QString &name)
{
    return lookup(kReasonTags, name.trimmed());
}
std::vector<ReasonTag> allReasonTags()
{
    std::vector<ReasonTag> out;
    for (const auto &[tag, name] : kReasonTags)
        out.push_back(tag);
    return out;
}

QString promptSourceName(PromptSource source)
{
    return nameOf(kSources, source);
}
std::optional<PromptSource> promptSourceFromName(const QString &name)
{
    return lookup(kSources, name);
}
QString choiceName(Choice choice)
{
    return nameOf(kChoices, choice);
}
std::optional<Choice> choiceFromName(const QString &name)
{
    return lookup(kChoices, name);
}
QString degreeName(PreferenceDegree degree)
{
    const std::string_view name = degreePaperName(degree);
    return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}
std::optional<PreferenceDegree> degreeFromName(const QString &name)
{
    return parseDegree(name.toStdString());
}
QString skipReasonName(SkipReason reason)
{
    return nameOf(kSkipReasons, reason);
}
std::optional<SkipReason> skipReasonFromName(const QString &name)
{
    return lookup(kSkipReasons, name.trimmed());
}

Choice choiceFromShown(ShownChoice shown, int leftSample)
{
    switch (shown) {
    case ShownChoice::Left:
        return leftSample == 2 ? Choice::Sample2 : Choice::Sample1;
    case ShownChoice::Right:
        return leftSample == 2 ? Choice::Sample1 : Choice::Sample2;
    case ShownChoice::Unsure:
        return Choice::Unsure;
    case ShownChoice::Skip:
        break;
    }
    return Choice::Skipped;
}

std::optional<int> signedPreference(Choice choice, std::optional<PreferenceDegree> degree)
{
    const int margin = degree ? static_cast<int>(*degree) : 0;
    switch (choice) {
    case Choice::Sample1:
        return margin;
    case Choice::Sample2:
        return -margin;
    case Choice::Unsure:
        return 0;
    case Choice::Skipped:
        break;
    }
    return std::nullopt;
}

} // namespace mp
