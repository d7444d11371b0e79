#include "app/study/labeler_quality.h"

#include "app/study/agreement.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

namespace mp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double share(int part, int whole)
{
    return whole > 0 ? static_cast<double>(part) / whole : kNaN;
}

double median(std::vector<qint64> values)
{
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? static_cast<double>(values[n / 2])
                      : (static_cast<double>(values[n / 2 - 1]) + values[n / 2]) / 2.0;
}

bool judged(const LabelRecord &label)
{
    return label.choice && *label.choice != Choice::Skipped;
}

// pair -> labeler -> label, judged labels only.
using ByPair = std::map<qint64, std::map<QString, LabelRecord>>;

double ordinalAlpha(const ByPair &byPair, const QString &without)
{
    std::vector<std::vector<int>> units;
    for (const auto &[pairId, labels] : byPair) {
        std::vector<int> unit;
        for (const auto &[labeler, label] : labels) {
            if (labeler != without)
                unit.push_back(*signedPreference(*label.choice, label.degree));
        }
        if (unit.size() >= 2)
            units.push_back(std::move(unit));
    }
    return krippendorffAlpha(units, AlphaMetric::Ordinal);
}

} // namespace

QualityReport computeLabelerQuality(const StudyStore &store, int goldBlockSize)
{
    if (goldBlockSize < 1)
        throw InputError("a gold block needs at least 1 label, got " +
                         std::to_string(goldBlockSize));
    QualityReport report;
    report.goldBlockSize = goldBlockSize;
    std::map<QString, LabelerQuality> out;
    auto entry = [&](const QString &labeler) -> LabelerQuality & {
        LabelerQuality &q = out[labeler];
        q.labeler = labeler;
        return q;
    };
    std::map<qint64, PairInfo> pairsById;
    for (PairInfo &pair : store.pairs())
        pairsById.emplace(pair.id, std::move(pair));
    for (PairInfo &pair : store.checkPairs())
        pairsById.emplace(pair.id, std::move(pair));

    std::map<QString, std::vector<qint64>> times;
    std::map<QString, std::pair<int, int>> sides; // left, right picks
    ByPair byPair;
    std::map<std::pair<qint64, QString>, LabelRecord> normalLabel; // (pair, labeler)
    std::map<QString, std::vector<LabelRecord>> goldLabels, repeatLabels;

    for (LabelRecord &label : store.currentLabels(std::nullopt)) {
        if (!label.choice)
            continue;
        LabelerQuality &q = entry(label.labeler);
        if (label.timeOnTaskMs > 0)
            times[label.labeler].push_back(label.timeOnTaskMs);
        if (label.watchedBoth) {
            ++q.watchedRecorded;
            q.watchedBoth += *label.watchedBoth ? 1 : 0;
        }
        const auto found = pairsById.find(label.pairId);
        if (found == pairsById.end())
            continue;
        const PairInfo &pair = found->second;
        switch (pair.kind) {
        case PairKind::Gold:
            if (judged(label))
                goldLabels[label.labeler].push_back(label);
            continue;
        case PairKind::Repeat:
            if (judged(label))
                repeatLabels[label.labeler].push_back(label);
            continue;
        case PairKind::Normal:
            break;
        }
        ++q.labels;
        if (!judged(label))
            continue;
        if (*label.choice == Choice::Sample1 || *label.choice == Choice::Sample2) {
            const int picked = *label.choice == Choice::Sample1 ? 1 : 2;
            auto &[left, right] = sides[label.labeler];
            (picked == pair.leftSample ? left : right) += 1;
        }
        normalLabel[{label.pairId, label.labeler}] = label;
        byPair[label.pairId][label.labeler] = std::move(label);
    }

    for (auto &[name, q] : out) {
        // Gold: the expected sample chosen, in the order the labels were given.
        std::vector<LabelRecord> &gold = goldLabels[name];
        std::sort(gold.begin(), gold.end(),
                  [](const LabelRecord &a, const LabelRecord &b) { return a.id < b.id; });
        for (std::size_t i = 0; i < gold.size(); ++i) {
            const LabelRecord &label = gold[i];
            const PairInfo &pair = pairsById.at(label.pairId);
            const std::optional<qint64> chosen =
                *label.choice == Choice::Sample1   ? std::optional<qint64>(pair.sample1Id)
                : *label.choice == Choice::Sample2 ? std::optional<qint64>(pair.sample2Id)
                                                   : std::nullopt;
            const bool correct = chosen && chosen == pair.goldExpected;
            ++q.goldJudged;
            q.goldCorrect += correct ? 1 : 0;
            if (i % static_cast<std::size_t>(goldBlockSize) == 0)
                q.goldBlocks.push_back({.firstMs = label.createdAtMs});
            GoldBlock &block = q.goldBlocks.back();
            ++block.judged;
            block.correct += correct ? 1 : 0;
            block.lastMs = label.createdAtMs;
        }
        q.goldAccuracy = share(q.goldCorrect, q.goldJudged);
        for (GoldBlock &block : q.goldBlocks)
            block.accuracy = share(block.correct, block.judged);

        // Repeats: compared with the same labeler's label on the pair repeated.
        int absDiffSum = 0;
        for (const LabelRecord &label : repeatLabels[name]) {
            const auto original = normalLabel.find({*pairsById.at(label.pairId).repeatsPair, name});
            if (original == normalLabel.end())
                continue;
            ++q.repeats;
            const LabelRecord &first = original->second;
            q.repeatsSameChoice +=
                *choiceCategory(*label.choice) == *choiceCategory(*first.choice) ? 1 : 0;
            const int a = *signedPreference(*label.choice, label.degree);
            const int b = *signedPreference(*first.choice, first.degree);
            q.repeatsSameDegree += a == b ? 1 : 0;
            absDiffSum += std::abs(a - b);
        }
        q.selfConsistency = share(q.repeatsSameChoice, q.repeats);
        q.degreeConsistency = share(q.repeatsSameDegree, q.repeats);
        q.repeatMeanAbsDiff = q.repeats > 0 ? static_cast<double>(absDiffSum) / q.repeats : kNaN;

        // Agreement with the others, on normal pairs.
        std::map<QString, std::pair<std::vector<int>, std::vector<int>>> withOther;
        std::array<std::pair<int, int>, 4> byDegree{}; // agreeing, compared
        for (const auto &[pairId, labels] : byPair) {
            const auto own = labels.find(name);
            if (own == labels.end())
                continue;
            const int ownCategory = *choiceCategory(*own->second.choice);
            const int degree =
                static_cast<int>(own->second.degree.value_or(PreferenceDegree::Unsure));
            for (const auto &[other, label] : labels) {
                if (other == name)
                    continue;
                const int otherCategory = *choiceCategory(*label.choice);
                withOther[other].first.push_back(ownCategory);
                withOther[other].second.push_back(otherCategory);
                byDegree[static_cast<std::size_t>(degree)].first +=
                    ownCategory == otherCategory ? 1 : 0;
                byDegree[static_cast<std::size_t>(degree)].second += 1;
            }
        }
        double kappaSum = 0;
        for (const auto &[other, ratings] : withOther) {
            const double kappa = cohenKappa(ratings.first, ratings.second);
            if (std::isnan(kappa))
                continue;
            kappaSum += kappa;
            ++q.kappaPartners;
        }
        q.meanKappa = q.kappaPartners > 0 ? kappaSum / q.kappaPartners : kNaN;
        for (std::size_t d = 0; d < byDegree.size(); ++d)
            q.agreementByDegree[d] = share(byDegree[d].first, byDegree[d].second);
        q.alphaWithout = ordinalAlpha(byPair, name);

        q.medianTimeMs = median(times[name]);
        q.watchedShare = share(q.watchedBoth, q.watchedRecorded);
        const auto [left, right] = sides[name];
        q.leftShare = share(left, left + right);
        q.positionBiasP = binomialTwoSidedP(left, left + right);
        report.labelers.push_back(q);
    }
    report.alphaOrdinal = ordinalAlpha(byPair, QString());
    return report;
}

std::vector<ModelReasonCounts> reasonTagsByModel(const StudyStore &store)
{
    std::map<qint64, QString> modelNames;
    for (const ModelInfo &model : store.models())
        modelNames[model.id] = model.name;
    std::map<qint64, QString> adapterNames;
    for (const ModelInfo &adapter : store.adapters())
        adapterNames[adapter.id] = adapter.name;
    std::map<qint64, QString> sampleModel; // sample id -> model name, read once each
    auto modelOf = [&](qint64 sampleId) {
        const auto known = sampleModel.find(sampleId);
        if (known != sampleModel.end())
            return known->second;
        const SampleInfo sample = store.sample(sampleId);
        QString name = sample.modelId
                           ? modelNames[*sample.modelId]
                           : (sample.origin.isEmpty() ? QStringLiteral("imported") : sample.origin);
        if (sample.adapterId)
            name += QStringLiteral(" + ") + adapterNames[*sample.adapterId];
        sampleModel[sampleId] = name;
        return name;
    };
    std::map<qint64, PairInfo> pairs;
    for (PairInfo &pair : store.pairs())
        pairs.emplace(pair.id, std::move(pair));
    std::map<QString, ModelReasonCounts> out;
    for (const LabelRecord &label : store.currentLabels()) {
        if (label.choice != Choice::Skipped)
            continue;
        const PairInfo &pair = pairs.at(label.pairId);
        const std::set<QString> models = {modelOf(pair.sample1Id), modelOf(pair.sample2Id)};
        for (const QString &model : models) {
            ModelReasonCounts &counts = out[model];
            counts.model = model;
            ++counts.skips;
            for (ReasonTag tag : label.tags)
                ++counts.tags[static_cast<std::size_t>(tag)];
        }
    }
    std::vector<ModelReasonCounts> result;
    for (auto &[name, counts] : out)
        result.push_back(counts);
    return result;
}

} // namespace mp
