#include "app/study/study_rounds.h"

#include "app/study/study_split.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>

#include <set>

namespace mp {

RoundStatus roundStatus(const StudyStore &store)
{
    RoundStatus status;
    const std::vector<RoundInfo> rounds = store.rounds();
    qint64 since = 0;
    if (!rounds.empty()) {
        status.info = rounds.back();
        status.round = rounds.back().round;
        since = rounds.back().trainedThroughLabel.value_or(0);
        for (const ModelInfo &adapter : store.adapters())
            if (adapter.id == rounds.back().adapterId)
                status.adapter = adapter;
    }
    for (const LabelRecord &label : store.currentLabels()) {
        ++status.labelsTotal;
        if (label.id > since)
            ++status.labelsThisRound;
    }
    return status;
}

RoundTraining prepareRound(StudyStore &store, const QString &dir)
{
    RoundTraining training;
    // The bound is read first; a pair whose current label is newer (another labeler storing one
    // while this reads) is left to the next round, so the set is exactly "labels <= bound".
    training.throughLabel = store.lastLabelId();
    training.startedAtMs = QDateTime::currentMSecsSinceEpoch();
    training.round = roundStatus(store).round + 1;
    const TrainingLabelOptions labels = studyTrainingLabels(store);
    std::set<qint64> newer;
    for (const LabelRecord &label : store.currentLabels())
        if (label.id > training.throughLabel)
            newer.insert(label.pairId);
    std::vector<qint64> ids;
    for (const qint64 id : trainablePairs(store, labels))
        if (!newer.contains(id))
            ids.push_back(id);
    if (ids.empty())
        throw InputError(store.location().toStdString() +
                         ": no labeled pair prefers a sample yet: nothing to train a round on");
    if (!QDir().mkpath(dir))
        throw InputError(dir.toStdString() + ": cannot make the directory");
    training.pairsFile = QDir(dir).filePath(QStringLiteral("pairs.jsonl"));
    training.labels = writeTrainingJsonl(store, ids, training.pairsFile, labels);
    training.pairIds = std::move(ids);
    return training;
}

RoundInfo finishRound(StudyStore &store, const RoundTraining &training, const QString &runDir,
                      const QString &adapterDir)
{
    const QFileInfo config(QDir(adapterDir).filePath(QStringLiteral("adapter_config.json")));
    if (!config.isFile())
        throw InputError(adapterDir.toStdString() +
                         ": not an adapter directory (no adapter_config.json)");
    RoundInfo round{.round = training.round,
                    .trainedLabels = training.labels,
                    .trainedThroughLabel = training.throughLabel > 0
                                               ? std::optional<qint64>(training.throughLabel)
                                               : std::nullopt,
                    .runDir = runDir,
                    .trainingStartedAtMs = training.startedAtMs};
    // Absolute: the Label panel loads it from wherever it runs (and contentHash of a relative
    // directory path reads the wrong files).
    const QString absolute = QFileInfo(adapterDir).absoluteFilePath();
    round.runDir = QFileInfo(runDir).absoluteFilePath();
    store.runInTransaction([&] {
        round.adapterId =
            store.addAdapter(std::nullopt, QStringLiteral("round-%1").arg(training.round), absolute,
                             StudyStore::contentHash(absolute));
        store.addRound(round);
    });
    return store.rounds().back();
}

} // namespace mp
