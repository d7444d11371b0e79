#include "app/study/agreement.h"

#include "app/study/study_store.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

namespace mp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr int kCategories = 3;

} // namespace

std::optional<int> choiceCategory(Choice choice)
{
    switch (choice) {
    case Choice::Sample1:
        return 0;
    case Choice::Sample2:
        return 1;
    case Choice::Unsure:
        return 2;
    case Choice::Skipped:
        break;
    }
    return std::nullopt;
}

double cohenKappa(const std::vector<int> &a, const std::vector<int> &b)
{
    if (a.size() != b.size())
        throw std::invalid_argument("cohenKappa: raters judged different numbers of items");
    if (a.empty())
        return kNaN;
    std::map<int, double> countA;
    std::map<int, double> countB;
    double agree = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        agree += a[i] == b[i] ? 1 : 0;
        countA[a[i]] += 1;
        countB[b[i]] += 1;
    }
    const double n = static_cast<double>(a.size());
    double expected = 0;
    for (const auto &[value, count] : countA) {
        const auto other = countB.find(value);
        if (other != countB.end())
            expected += (count / n) * (other->second / n);
    }
    const double observed = agree / n;
    if (expected >= 1.0)
        return kNaN;
    return (observed - expected) / (1.0 - expected);
}

double fleissKappa(const std::vector<std::vector<int>> &counts)
{
    double sumPi = 0;
    int items = 0;
    std::vector<double> categoryTotals;
    double ratings = 0;
    for (const auto &row : counts) {
        double n = 0;
        double squares = 0;
        for (int c : row) {
            n += c;
            squares += static_cast<double>(c) * c;
        }
        if (n < 2)
            continue;
        // The share of agreeing rater pairs on this item.
        sumPi += (squares - n) / (n * (n - 1));
        ++items;
        if (categoryTotals.size() < row.size())
            categoryTotals.resize(row.size(), 0.0);
        for (std::size_t j = 0; j < row.size(); ++j)
            categoryTotals[j] += row[j];
        ratings += n;
    }
    if (items == 0)
        return kNaN;
    const double meanP = sumPi / items;
    double expected = 0;
    for (double total : categoryTotals)
        expected += (total / ratings) * (total / ratings);
    if (expected >= 1.0)
        return kNaN;
    return (meanP - expected) / (1.0 - expected);
}

double krippendorffAlpha(const std::vector<std::vector<int>> &units, AlphaMetric metric)
{
    std::set<int> valueSet;
    for (const auto &unit : units) {
        if (unit.size() >= 2)
            valueSet.insert(unit.begin(), unit.end());
    }
    const std::vector<int> values(valueSet.begin(), valueSet.end());
    const std::size_t v = values.size();
    if (v == 0)
        return kNaN;
    auto index = [&](int value) {
        return static_cast<std::size_t>(std::lower_bound(values.begin(), values.end(), value) -
                                        values.begin());
    };
    // Coincidence matrix: each ordered pair of values within a unit of m values weighs 1/(m-1).
    std::vector<double> o(v * v, 0.0);
    for (const auto &unit : units) {
        const std::size_t m = unit.size();
        if (m < 2)
            continue;
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < m; ++j) {
                if (i != j)
                    o[index(unit[i]) * v + index(unit[j])] += 1.0 / static_cast<double>(m - 1);
            }
        }
    }
    std::vector<double> marginal(v, 0.0);
    for (std::size_t c = 0; c < v; ++c) {
        for (std::size_t k = 0; k < v; ++k)
            marginal[c] += o[c * v + k];
    }
    double n = 0;
    for (double m : marginal)
        n += m;
    auto delta2 = [&](std::size_t c, std::size_t k) -> double {
        switch (metric) {
        case AlphaMetric::Nominal:
            return c == k ? 0.0 : 1.0;
        case AlphaMetric::Interval: {
            const double d = values[c] - values[k];
            return d * d;
        }
        case AlphaMetric::Ordinal: {
            // The values' ranks apart, counted in pairable values between them.
            const std::size_t lo = std::min(c, k);
            const std::size_t hi = std::max(c, k);
            double sum = 0;
            for (std::size_t g = lo; g <= hi; ++g)
                sum += marginal[g];
            const double d = sum - (marginal[c] + marginal[k]) / 2.0;
            return d * d;
        }
        }
        return 0.0;
    };
    double observed = 0;
    double expected = 0;
    for (std::size_t c = 0; c < v; ++c) {
        for (std::size_t k = 0; k < v; ++k) {
            const double d = delta2(c, k);
            observed += o[c * v + k] * d;
            expected += marginal[c] * marginal[k] * d;
        }
    }
    if (expected <= 0 || n <= 1)
        return kNaN;
    return 1.0 - (n - 1) * observed / expected;
}

double binomialTwoSidedP(int k, int n)
{
    if (n <= 0)
        return 1.0;
    const int tail = std::min(k, n - k);
    // Sum of C(n, i) / 2^n for i <= tail, in logs so that n in the thousands does not overflow.
    double sum = 0;
    for (int i = 0; i <= tail; ++i) {
        sum += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) -
                        n * std::log(2.0));
    }
    return std::min(1.0, 2.0 * sum);
}

AgreementReport computeAgreement(const StudyStore &store)
{
    AgreementReport report;
    std::map<qint64, int> leftSampleOf;
    for (const PairInfo &pair : store.pairs())
        leftSampleOf[pair.id] = pair.leftSample;

    // pair -> labeler -> label, and per-labeler tallies.
    std::map<qint64, std::map<QString, LabelRecord>> byPair;
    std::map<QString, LabelerStats> stats;
    std::map<QString, std::pair<double, int>> times;
    for (const LabelRecord &label : store.currentLabels()) {
        if (!label.choice)
            continue;
        LabelerStats &s = stats[label.labeler];
        s.labeler = label.labeler;
        ++s.labels;
        if (label.timeOnTaskMs > 0) {
            times[label.labeler].first += static_cast<double>(label.timeOnTaskMs);
            times[label.labeler].second += 1;
        }
        const Choice choice = *label.choice;
        if (choice == Choice::Skipped) {
            ++s.skips;
            continue;
        }
        if (choice == Choice::Unsure || label.degree == PreferenceDegree::Unsure)
            ++s.unsure;
        if (choice == Choice::Sample1 || choice == Choice::Sample2) {
            const int picked = choice == Choice::Sample1 ? 1 : 2;
            if (picked == leftSampleOf[label.pairId])
                ++s.leftPicks;
            else
                ++s.rightPicks;
        }
        byPair[label.pairId][label.labeler] = label;
    }
    for (auto &[name, s] : stats) {
        const int picks = s.leftPicks + s.rightPicks;
        s.leftShare = picks > 0 ? static_cast<double>(s.leftPicks) / picks : kNaN;
        s.positionBiasP = binomialTwoSidedP(s.leftPicks, picks);
        const auto &[total, count] = times[name];
        s.meanTimeOnTaskMs = count > 0 ? total / count : 0.0;
        report.perLabeler.push_back(s);
    }
    report.labelers = static_cast<int>(stats.size());

    std::vector<std::vector<int>> fleissRows;
    std::vector<std::vector<int>> ordinalUnits;
    std::vector<std::vector<int>> nominalUnits;
    for (const auto &[pairId, labels] : byPair) {
        if (labels.size() < 2)
            continue;
        ++report.overlapPairs;
        std::vector<int> row(kCategories, 0);
        std::vector<int> ordinal;
        std::vector<int> nominal;
        for (const auto &[labeler, label] : labels) {
            const int c = *choiceCategory(*label.choice);
            ++row[static_cast<std::size_t>(c)];
            nominal.push_back(c);
            ordinal.push_back(*signedPreference(*label.choice, label.degree));
        }
        fleissRows.push_back(row);
        ordinalUnits.push_back(ordinal);
        nominalUnits.push_back(nominal);
    }
    report.fleissKappa = fleissKappa(fleissRows);
    report.alphaOrdinal = krippendorffAlpha(ordinalUnits, AlphaMetric::Ordinal);
    report.alphaNominal = krippendorffAlpha(nominalUnits, AlphaMetric::Nominal);

    for (auto a = stats.begin(); a != stats.end(); ++a) {
        for (auto b = std::next(a); b != stats.end(); ++b) {
            std::vector<int> ratingsA;
            std::vector<int> ratingsB;
            for (const auto &[pairId, labels] : byPair) {
                const auto la = labels.find(a->first);
                const auto lb = labels.find(b->first);
                if (la == labels.end() || lb == labels.end())
                    continue;
                ratingsA.push_back(*choiceCategory(*la->second.choice));
                ratingsB.push_back(*choiceCategory(*lb->second.choice));
            }
            if (ratingsA.empty())
                continue;
            report.cohen.push_back({a->first, b->first, static_cast<int>(ratingsA.size()),
                                    cohenKappa(ratingsA, ratingsB)});
        }
    }
    return report;
}

} // namespace mp
