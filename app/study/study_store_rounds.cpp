// StudyStore: how pairs were chosen and the rounds of an online study (schema v4, issue 21).
#include "app/study/study_store_internal.h"

#include "ml/core/error.h"

namespace mp {

using namespace studysql;

namespace {

QVariant doubleOrNull(std::optional<double> value)
{
    return value ? QVariant(*value) : QVariant(QMetaType::fromType<double>());
}

std::optional<double> optionalDouble(const QVariant &value)
{
    if (value.isNull())
        return std::nullopt;
    return value.toDouble();
}

const char *const kSelectionColumns =
    "pair_id, rule, candidates, diversity, beta, margin, score, similarity, created_at";

PairSelectionRecord readSelection(const QSqlQuery &query, const QString &location)
{
    PairSelectionRecord record;
    record.pairId = query.value(0).toLongLong();
    const QString rule = query.value(1).toString();
    try {
        record.rule = parsePairRule(rule.toStdString());
    } catch (const InputError &error) {
        throw InputError(location.toStdString() + ": pair " + std::to_string(record.pairId) + ": " +
                         error.what());
    }
    record.candidates = query.value(2).toInt();
    record.diversity = query.value(3).toDouble();
    record.beta = optionalDouble(query.value(4));
    record.margin = optionalDouble(query.value(5));
    record.score = optionalDouble(query.value(6));
    record.similarity = optionalDouble(query.value(7));
    record.createdAtMs = query.value(8).toLongLong();
    return record;
}

} // namespace

void StudyStore::addPairSelection(const PairSelectionRecord &selection)
{
    if (selection.candidates < kMinCandidates || selection.candidates > kMaxCandidates)
        throw InputError("a pair's candidates must be " + std::to_string(kMinCandidates) + " to " +
                         std::to_string(kMaxCandidates) + " (got " +
                         std::to_string(selection.candidates) + ")");
    Transaction tx(*this);
    run(QStringLiteral("INSERT INTO pair_selections (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .arg(QLatin1String(kSelectionColumns)),
        {selection.pairId, QString::fromUtf8(pairRuleName(selection.rule)), selection.candidates,
         selection.diversity, doubleOrNull(selection.beta), doubleOrNull(selection.margin),
         doubleOrNull(selection.score), doubleOrNull(selection.similarity), nowMs()});
    tx.commit();
}

std::optional<PairSelectionRecord> StudyStore::pairSelection(qint64 pairId) const
{
    QSqlQuery query = run(QStringLiteral("SELECT %1 FROM pair_selections WHERE pair_id = ?")
                              .arg(QLatin1String(kSelectionColumns)),
                          {pairId});
    if (!query.next())
        return std::nullopt;
    return readSelection(query, location());
}

std::vector<PairSelectionRecord> StudyStore::pairSelections() const
{
    QSqlQuery query = run(QStringLiteral("SELECT %1 FROM pair_selections ORDER BY pair_id")
                              .arg(QLatin1String(kSelectionColumns)));
    std::vector<PairSelectionRecord> out;
    while (query.next())
        out.push_back(readSelection(query, location()));
    return out;
}

void StudyStore::addRound(const RoundInfo &round)
{
    Transaction tx(*this);
    QSqlQuery last = run(QStringLiteral("SELECT MAX(round) FROM rounds"));
    const int expected = (last.next() && !last.value(0).isNull()) ? last.value(0).toInt() + 1 : 1;
    last.finish();
    if (round.round != expected)
        throw InputError(location().toStdString() + ": round " + std::to_string(round.round) +
                         " cannot follow round " + std::to_string(expected - 1) +
                         " (another program may have started it)");
    run(QStringLiteral("INSERT INTO rounds (round, adapter_id, trained_labels, "
                       "trained_through_label, run_dir, training_started_at, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)"),
        {round.round, round.adapterId, round.trainedLabels, intOrNull(round.trainedThroughLabel),
         textOrNull(round.runDir), round.trainingStartedAtMs, nowMs()});
    tx.commit();
}

std::vector<RoundInfo> StudyStore::rounds() const
{
    QSqlQuery query = run(
        QStringLiteral("SELECT round, adapter_id, trained_labels, trained_through_label, run_dir, "
                       "training_started_at, created_at FROM rounds ORDER BY round"));
    std::vector<RoundInfo> out;
    while (query.next()) {
        out.push_back({.round = query.value(0).toInt(),
                       .adapterId = query.value(1).toLongLong(),
                       .trainedLabels = query.value(2).toInt(),
                       .trainedThroughLabel = optionalInt(query.value(3)),
                       .runDir = query.value(4).toString(),
                       .trainingStartedAtMs = query.value(5).toLongLong(),
                       .createdAtMs = query.value(6).toLongLong()});
    }
    return out;
}

qint64 StudyStore::lastLabelId() const
{
    QSqlQuery query = run(QStringLiteral("SELECT MAX(id) FROM labels"));
    return query.next() && !query.value(0).isNull() ? query.value(0).toLongLong() : 0;
}

} // namespace mp
