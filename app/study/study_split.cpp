#include "app/study/study_split.h"

#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/train/preference_data.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace mp {

namespace {

std::map<qint64, LabelRecord> pairLabels(const StudyStore &store,
                                         const TrainingLabelOptions &options)
{
    // The pair's training label under the rule (label_aggregation.h; by default the newest
    // current label of any labeler). Only normal pairs: gold and repeat pairs are checks.
    std::map<qint64, std::vector<LabelRecord>> byPair;
    for (LabelRecord &label : store.currentLabels())
        byPair[label.pairId].push_back(std::move(label));
    std::map<qint64, LabelRecord> out;
    for (const auto &[pairId, labels] : byPair) {
        if (auto label = aggregateLabels(labels, options))
            out.emplace(pairId, std::move(*label));
    }
    return out;
}

bool prefersASample(const LabelRecord &label)
{
    return label.choice == Choice::Sample1 || label.choice == Choice::Sample2;
}

QJsonArray codes(const std::vector<int> &tokens)
{
    QJsonArray array;
    for (int token : tokens)
        array.append(token);
    return array;
}

} // namespace

TrainingLabelOptions studyTrainingLabels(const StudyStore &store)
{
    TrainingLabelOptions options;
    const QString rule = store.meta(QStringLiteral("training_rule"));
    if (!rule.isEmpty()) {
        const auto parsed = labelAggregationFromName(rule);
        if (!parsed)
            throw InputError("study_meta training_rule '" + rule.toStdString() +
                             "' is not one of " +
                             labelAggregationNames().join(QStringLiteral(", ")).toStdString());
        options.rule = *parsed;
    }
    options.excludedLabelers = store.meta(QStringLiteral("training_excluded_labelers"))
                                   .split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    return options;
}

void setStudyTrainingLabels(StudyStore &store, const TrainingLabelOptions &options)
{
    store.runInTransaction([&] {
        store.setMeta(QStringLiteral("training_rule"), labelAggregationName(options.rule));
        // One name a line: a labeler's name may hold a comma.
        store.setMeta(QStringLiteral("training_excluded_labelers"),
                      options.excludedLabelers.join(QLatin1Char('\n')));
    });
}

void seededShuffle(std::vector<qint64> &ids, quint64 seed)
{
    // The trainer's shuffle: the same seed splits alike in the study and in a training job.
    std::vector<std::int64_t> shuffled(ids.begin(), ids.end());
    shufflePairIds(shuffled, seed);
    ids.assign(shuffled.begin(), shuffled.end());
}

std::vector<qint64> trainablePairs(const StudyStore &store, const TrainingLabelOptions &options)
{
    std::vector<qint64> ids;
    for (const auto &[pairId, label] : pairLabels(store, options)) {
        if (prefersASample(label))
            ids.push_back(pairId);
    }
    return ids; // std::map keeps them in id order
}

SavedSplit makeSplit(const StudyStore &store, const SplitOptions &options)
{
    if (!(options.testFraction > 0 && options.testFraction < 1))
        throw InputError("test fraction must be between 0 and 1, got " +
                         std::to_string(options.testFraction));
    std::vector<qint64> ids = trainablePairs(store, options.labels);
    if (ids.size() < 2)
        throw InputError("a split needs at least 2 pairs labeled with a preference, the study "
                         "has " +
                         std::to_string(ids.size()));
    seededShuffle(ids, options.seed);
    auto numTest = static_cast<std::size_t>(
        std::ceil(options.testFraction * static_cast<double>(ids.size()) - 1e-9));
    numTest = std::clamp<std::size_t>(numTest, 1, ids.size() - 1);
    SavedSplit split{.name = options.name,
                     .seed = static_cast<qint64>(options.seed),
                     .testFraction = options.testFraction};
    split.test.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(numTest));
    split.train.assign(ids.begin() + static_cast<std::ptrdiff_t>(numTest), ids.end());
    return split;
}

SavedSplit ensureSplit(StudyStore &store, const SplitOptions &options, bool replace)
{
    if (!replace) {
        if (auto saved = store.loadSplit(options.name))
            return *saved;
    }
    SavedSplit split = makeSplit(store, options);
    store.saveSplit(split, replace);
    return split;
}

std::vector<qint64> selectSubset(const StudyStore &store, const std::vector<qint64> &ids,
                                 const SubsetOptions &options)
{
    if (!(options.percent > 0 && options.percent <= 100))
        throw InputError("subset percentage must be in (0, 100], got " +
                         std::to_string(options.percent));
    const auto labels = pairLabels(store, options.labels);
    const std::set<PreferenceDegree> wanted(options.degrees.begin(), options.degrees.end());
    std::vector<qint64> kept;
    for (qint64 id : ids) {
        const auto found = labels.find(id);
        if (found == labels.end() || !prefersASample(found->second))
            continue;
        if (!wanted.empty() && !wanted.contains(*found->second.degree))
            continue;
        kept.push_back(id);
    }
    if (options.percent >= 100)
        return kept;
    const auto keep = static_cast<std::size_t>(
        std::llround(options.percent / 100.0 * static_cast<double>(kept.size())));
    std::vector<qint64> shuffled = kept;
    seededShuffle(shuffled, options.seed);
    const std::set<qint64> chosen(shuffled.begin(),
                                  shuffled.begin() + static_cast<std::ptrdiff_t>(keep));
    std::vector<qint64> out;
    for (qint64 id : kept) {
        if (chosen.contains(id))
            out.push_back(id);
    }
    return out;
}

int writeTrainingJsonl(const StudyStore &store, const std::vector<qint64> &ids, const QString &file,
                       const TrainingLabelOptions &options)
{
    const auto labels = pairLabels(store, options);
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly))
        throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
    int written = 0;
    for (qint64 id : ids) {
        const auto found = labels.find(id);
        if (found == labels.end() || !prefersASample(found->second))
            throw InputError("pair " + std::to_string(id) + " has no preference label under the '" +
                             labelAggregationName(options.rule).toStdString() +
                             "' rule; it cannot be trained on");
        const LabelRecord &label = found->second;
        const PairInfo pair = store.pair(id);
        const bool first = label.choice == Choice::Sample1;
        const SampleInfo chosen = store.sample(first ? pair.sample1Id : pair.sample2Id);
        const SampleInfo rejected = store.sample(first ? pair.sample2Id : pair.sample1Id);
        const QJsonObject record{
            {QStringLiteral("pair_id"), static_cast<double>(id)},
            {QStringLiteral("id"), pair.externalId},
            {QStringLiteral("prompt"), pair.promptText},
            {QStringLiteral("chosen"), codes(chosen.tokens)},
            {QStringLiteral("rejected"), codes(rejected.tokens)},
            {QStringLiteral("degree"), degreeName(*label.degree)},
            {QStringLiteral("margin"), static_cast<int>(*label.degree)},
            {QStringLiteral("labeler"), label.labeler},
        };
        const QByteArray line = QJsonDocument(record).toJson(QJsonDocument::Compact) + '\n';
        if (out.write(line) != line.size())
            throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
        ++written;
    }
    if (!out.commit())
        throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
    return written;
}

void writeIdList(const std::vector<qint64> &ids, const QString &file)
{
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly))
        throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
    QByteArray text;
    for (qint64 id : ids)
        text += QByteArray::number(id) + '\n';
    if (out.write(text) != text.size() || !out.commit())
        throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
}

std::vector<qint64> readIdList(const QString &file)
{
    // The trainer's own reader: a list the study accepts is one a training job accepts.
    const std::vector<std::int64_t> ids = readPairIdList(QFile::encodeName(file).toStdString());
    return {ids.begin(), ids.end()};
}

} // namespace mp
