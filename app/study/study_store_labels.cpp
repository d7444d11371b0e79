// StudyStore: the append-only label log, its current-label views, counts and saved splits.

#include "app/study/study_store.h"

#include "app/study/study_store_internal.h"
#include "ml/core/error.h"

#include <QSqlQuery>
#include <QVariant>

#include <algorithm>
#include <map>
#include <set>

namespace mp {

using namespace studysql;

namespace {

const QString kLabelColumns = QStringLiteral(
    "id, pair_id, labeler, choice, degree, skip_reason, comment, time_on_task_ms, created_at, "
    "supersedes, retracted, watched_both");

LabelRecord readLabel(const QSqlQuery &query)
{
    LabelRecord label;
    label.id = query.value(0).toLongLong();
    label.pairId = query.value(1).toLongLong();
    label.labeler = query.value(2).toString();
    if (!query.value(3).isNull())
        label.choice = choiceFromName(query.value(3).toString());
    if (!query.value(4).isNull())
        label.degree = static_cast<PreferenceDegree>(query.value(4).toInt());
    label.skipReason = skipReasonFromName(query.value(5).toString()).value_or(SkipReason::Other);
    label.comment = query.value(6).toString();
    label.timeOnTaskMs = query.value(7).toLongLong();
    label.createdAtMs = query.value(8).toLongLong();
    label.supersedes = optionalInt(query.value(9));
    label.retracted = query.value(10).toInt() != 0;
    if (!query.value(11).isNull())
        label.watchedBoth = query.value(11).toInt() != 0;
    return label;
}

// kLabelColumns with each column prefixed by a table alias, for joins.
QString labelColumns(const QString &alias)
{
    QStringList columns;
    for (const QString &column : kLabelColumns.split(QStringLiteral(", ")))
        columns << alias + QLatin1Char('.') + column;
    return columns.join(QStringLiteral(", "));
}

} // namespace

qint64 StudyStore::addLabel(qint64 pairId, const QString &labeler, const LabelInput &input)
{
    if (labeler.isEmpty())
        throw InputError("a labeler name is required");
    std::optional<PreferenceDegree> degree = input.degree;
    switch (input.choice) {
    case Choice::Sample1:
    case Choice::Sample2:
        if (!degree)
            throw InputError("a preference for one sample needs a degree");
        break;
    case Choice::Unsure:
        degree = PreferenceDegree::Unsure;
        break;
    case Choice::Skipped:
        degree.reset();
        break;
    }
    if (input.choice != Choice::Skipped && input.skipReason != SkipReason::None)
        throw InputError("a skip reason belongs to a skipped pair only");
    if (input.choice != Choice::Skipped && !input.tags.empty())
        throw InputError("reason tags belong to a skipped pair only");
    if (input.timeOnTaskMs < 0)
        throw InputError("time on task cannot be negative");

    Transaction tx(*this);
    pair(pairId); // a clear error for an unknown pair, before the foreign key's
    std::optional<qint64> previous;
    {
        QSqlQuery last = run(QStringLiteral("SELECT MAX(id) FROM labels WHERE pair_id = ? AND "
                                            "labeler = ?"),
                             {pairId, labeler});
        if (last.next())
            previous = optionalInt(last.value(0));
    }
    const qint64 id =
        insert(QStringLiteral("INSERT INTO labels (pair_id, labeler, choice, degree, skip_reason, "
                              "comment, time_on_task_ms, created_at, supersedes, retracted, "
                              "watched_both) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"),
               {pairId, labeler, choiceName(input.choice),
                degree ? QVariant(static_cast<int>(*degree)) : QVariant(QMetaType::fromType<int>()),
                textOrNull(skipReasonName(input.skipReason)), textOrNull(input.comment),
                input.timeOnTaskMs, nowMs(), intOrNull(previous),
                input.watchedBoth ? QVariant(*input.watchedBoth ? 1 : 0)
                                  : QVariant(QMetaType::fromType<int>())});
    std::set<ReasonTag> tags(input.tags.begin(), input.tags.end()); // each tag once
    for (ReasonTag tag : tags)
        run(QStringLiteral("INSERT INTO label_tags (label_id, tag) VALUES (?, ?)"),
            {id, reasonTagName(tag)});
    tx.commit();
    notify([this, id, pairId] { emit labelStored(id, pairId); });
    return id;
}

qint64 StudyStore::addShownLabel(qint64 pairId, const QString &labeler, ShownChoice shown,
                                 std::optional<PreferenceDegree> degree, SkipReason skipReason,
                                 qint64 timeOnTaskMs, const QString &comment, LabelInput *stored,
                                 const std::vector<ReasonTag> &tags,
                                 std::optional<bool> watchedBoth)
{
    // Reading leftSample and writing the label in one transaction keeps them consistent.
    Transaction tx(*this);
    const PairInfo info = pair(pairId);
    const LabelInput input{.choice = choiceFromShown(shown, info.leftSample),
                           .degree = degree,
                           .skipReason = skipReason,
                           .comment = comment,
                           .timeOnTaskMs = timeOnTaskMs,
                           .tags = tags,
                           .watchedBoth = watchedBoth};
    const qint64 id = addLabel(pairId, labeler, input);
    tx.commit();
    if (stored)
        *stored = input;
    return id;
}

qint64 StudyStore::retractLabel(qint64 pairId, const QString &labeler)
{
    Transaction tx(*this);
    const auto current = currentLabel(pairId, labeler);
    if (!current)
        throw InputError("pair " + std::to_string(pairId) + " has no label by " +
                         labeler.toStdString() + " to undo");
    const qint64 id =
        insert(QStringLiteral("INSERT INTO labels (pair_id, labeler, time_on_task_ms, created_at, "
                              "supersedes, retracted) VALUES (?, ?, 0, ?, ?, 1)"),
               {pairId, labeler, nowMs(), current->id});
    tx.commit();
    notify([this, id, pairId] { emit labelRetracted(id, pairId); });
    return id;
}

std::vector<LabelRecord> StudyStore::readLabels(const QString &sql,
                                                const QVariantList &values) const
{
    QSqlQuery query = run(sql, values);
    std::vector<LabelRecord> out;
    while (query.next())
        out.push_back(readLabel(query));
    query.finish();
    // Tags are few (skips only): one read of the table, matched by label id.
    std::map<qint64, std::vector<ReasonTag>> tags;
    bool anySkip = false;
    for (const LabelRecord &label : out)
        anySkip = anySkip || label.choice == Choice::Skipped;
    if (anySkip) {
        QSqlQuery rows = run(QStringLiteral("SELECT label_id, tag FROM label_tags"));
        while (rows.next()) {
            if (auto tag = reasonTagFromName(rows.value(1).toString()))
                tags[rows.value(0).toLongLong()].push_back(*tag);
        }
    }
    for (LabelRecord &label : out) {
        const auto found = tags.find(label.id);
        if (found == tags.end())
            continue;
        label.tags = found->second;
        std::sort(label.tags.begin(), label.tags.end());
    }
    return out;
}

std::optional<LabelRecord> StudyStore::currentLabel(qint64 pairId) const
{
    auto labels = readLabels(
        QStringLiteral("SELECT %1 FROM pair_labels WHERE pair_id = ?").arg(kLabelColumns),
        {pairId});
    if (labels.empty())
        return std::nullopt;
    return labels.front();
}

std::optional<LabelRecord> StudyStore::currentLabel(qint64 pairId, const QString &labeler) const
{
    auto labels =
        readLabels(QStringLiteral("SELECT %1 FROM current_labels WHERE pair_id = ? AND labeler = ?")
                       .arg(kLabelColumns),
                   {pairId, labeler});
    if (labels.empty())
        return std::nullopt;
    return labels.front();
}

std::vector<LabelRecord> StudyStore::currentLabels(std::optional<PairKind> kind) const
{
    if (!kind) {
        return readLabels(
            QStringLiteral("SELECT %1 FROM current_labels ORDER BY pair_id, id").arg(kLabelColumns),
            {});
    }
    return readLabels(QStringLiteral("SELECT %1 FROM current_labels c JOIN pairs p ON p.id = "
                                     "c.pair_id WHERE p.kind = ? ORDER BY c.pair_id, c.id")
                          .arg(labelColumns(QStringLiteral("c"))),
                      {pairKindName(*kind)});
}

std::vector<LabelRecord> StudyStore::labelHistory(qint64 pairId) const
{
    return readLabels(
        QStringLiteral("SELECT %1 FROM labels WHERE pair_id = ? ORDER BY id").arg(kLabelColumns),
        {pairId});
}

std::vector<LabelRecord> StudyStore::allLabelRows() const
{
    return readLabels(QStringLiteral("SELECT %1 FROM labels ORDER BY id").arg(kLabelColumns), {});
}

QStringList StudyStore::labelers() const
{
    QSqlQuery query = run(QStringLiteral("SELECT DISTINCT labeler FROM labels ORDER BY labeler"));
    QStringList out;
    while (query.next())
        out << query.value(0).toString();
    return out;
}

StudyCounts StudyStore::counts() const
{
    auto count = [this](const QString &sql) {
        QSqlQuery query = run(sql);
        return query.next() ? query.value(0).toLongLong() : 0;
    };
    StudyCounts counts;
    counts.prompts = count(QStringLiteral("SELECT COUNT(*) FROM prompts"));
    counts.samples = count(QStringLiteral("SELECT COUNT(*) FROM samples"));
    // Pairs are the study's data: normal pairs (gold and repeat pairs are checks).
    counts.pairs = count(QStringLiteral("SELECT COUNT(*) FROM pairs WHERE kind = 'normal'"));
    const QString normalLabels = QStringLiteral(
        "SELECT COUNT(*) FROM pair_labels c JOIN pairs p ON p.id = c.pair_id WHERE p.kind = "
        "'normal'");
    counts.labeledPairs = count(normalLabels);
    counts.skippedPairs = count(normalLabels + QStringLiteral(" AND c.choice = 'skipped'"));
    counts.labelRows = count(QStringLiteral("SELECT COUNT(*) FROM labels"));
    counts.labelers = count(QStringLiteral("SELECT COUNT(DISTINCT labeler) FROM current_labels"));
    return counts;
}

void StudyStore::saveSplit(const SavedSplit &split, bool replace)
{
    if (split.name.isEmpty())
        throw InputError("a split needs a name");
    Transaction tx(*this);
    if (loadSplit(split.name)) {
        if (!replace)
            throw InputError("split '" + split.name.toStdString() +
                             "' exists already (its id lists are kept; pass replace to redo it)");
        run(QStringLiteral("DELETE FROM split_members WHERE split_name = ?"), {split.name});
        run(QStringLiteral("DELETE FROM splits WHERE name = ?"), {split.name});
    }
    run(QStringLiteral("INSERT INTO splits (name, seed, test_fraction, created_at) "
                       "VALUES (?, ?, ?, ?)"),
        {split.name, split.seed, split.testFraction, nowMs()});
    auto addPart = [&](const std::vector<qint64> &ids, const QString &part) {
        int position = 0;
        for (qint64 id : ids) {
            run(QStringLiteral("INSERT INTO split_members (split_name, pair_id, part, position) "
                               "VALUES (?, ?, ?, ?)"),
                {split.name, id, part, position++});
        }
    };
    addPart(split.train, QStringLiteral("train"));
    addPart(split.test, QStringLiteral("test"));
    tx.commit();
    afterCommit([this] { emit studyChanged(); });
}

std::optional<SavedSplit> StudyStore::loadSplit(const QString &name) const
{
    QSqlQuery head =
        run(QStringLiteral("SELECT seed, test_fraction FROM splits WHERE name = ?"), {name});
    if (!head.next())
        return std::nullopt;
    SavedSplit split{
        .name = name, .seed = head.value(0).toLongLong(), .testFraction = head.value(1).toDouble()};
    QSqlQuery members = run(QStringLiteral("SELECT pair_id, part FROM split_members "
                                           "WHERE split_name = ? ORDER BY part DESC, position"),
                            {name});
    while (members.next()) {
        auto &part =
            members.value(1).toString() == QLatin1String("train") ? split.train : split.test;
        part.push_back(members.value(0).toLongLong());
    }
    return split;
}

QStringList StudyStore::splitNames() const
{
    QSqlQuery query = run(QStringLiteral("SELECT name FROM splits ORDER BY name"));
    QStringList out;
    while (query.next())
        out << query.value(0).toString();
    return out;
}

} // namespace mp
