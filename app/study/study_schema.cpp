#include "app/study/study_schema.h"

#include "ml/core/error.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <stdexcept>
#include <vector>

namespace mp {

namespace {

// Portable SQL: BIGINT and DOUBLE PRECISION mean the same in both engines, times are integer
// milliseconds since the epoch (UTC), booleans are 0/1 integers. Only {id} and {blob} differ.
const char *const kSchemaV1[] = {
    R"(CREATE TABLE study_meta (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL))",
    R"(CREATE TABLE prompts (
         id {id},
         text TEXT NOT NULL,
         source TEXT NOT NULL CHECK (source IN ('typed', 'list', 'generated', 'imported')),
         created_at BIGINT NOT NULL))",
    R"(CREATE TABLE models (
         id {id},
         name TEXT NOT NULL,
         path TEXT NOT NULL,
         content_hash TEXT NOT NULL UNIQUE,
         created_at BIGINT NOT NULL))",
    R"(CREATE TABLE adapters (
         id {id},
         model_id BIGINT REFERENCES models(id),
         name TEXT NOT NULL,
         path TEXT NOT NULL,
         content_hash TEXT NOT NULL UNIQUE,
         created_at BIGINT NOT NULL))",
    R"(CREATE TABLE samples (
         id {id},
         prompt_id BIGINT NOT NULL REFERENCES prompts(id),
         model_id BIGINT REFERENCES models(id),
         adapter_id BIGINT REFERENCES adapters(id),
         seed BIGINT NOT NULL,
         temperature DOUBLE PRECISION NOT NULL,
         top_k INTEGER NOT NULL,
         top_p DOUBLE PRECISION NOT NULL,
         tokens TEXT NOT NULL,
         features_path TEXT,
         features {blob},
         origin TEXT,
         created_at BIGINT NOT NULL))",
    R"(CREATE TABLE pairs (
         id {id},
         prompt_id BIGINT NOT NULL REFERENCES prompts(id),
         sample1_id BIGINT NOT NULL REFERENCES samples(id),
         sample2_id BIGINT NOT NULL REFERENCES samples(id),
         left_sample INTEGER NOT NULL CHECK (left_sample IN (1, 2)),
         external_id TEXT UNIQUE,
         assigned_to TEXT,
         assigned_at BIGINT,
         created_at BIGINT NOT NULL,
         CHECK (sample1_id <> sample2_id)))",
    "CREATE INDEX pairs_assigned ON pairs(assigned_to)",
    // Append-only: a revision is a new row that supersedes the labeler's previous one, an undo
    // is a row with retracted = 1 (and no choice). Nothing here is updated or deleted.
    R"(CREATE TABLE labels (
         id {id},
         pair_id BIGINT NOT NULL REFERENCES pairs(id),
         labeler TEXT NOT NULL,
         choice TEXT CHECK (choice IN ('sample_1', 'sample_2', 'unsure', 'skipped')),
         degree INTEGER CHECK (degree BETWEEN 0 AND 3),
         skip_reason TEXT,
         comment TEXT,
         time_on_task_ms BIGINT NOT NULL DEFAULT 0,
         created_at BIGINT NOT NULL,
         supersedes BIGINT REFERENCES labels(id),
         retracted INTEGER NOT NULL DEFAULT 0 CHECK (retracted IN (0, 1)),
         CHECK ((retracted = 1 AND choice IS NULL) OR (retracted = 0 AND choice IS NOT NULL))))",
    "CREATE INDEX labels_pair_labeler ON labels(pair_id, labeler, id)",
    // A labeler's current label on a pair: their newest row, unless that row is a retraction.
    R"(CREATE VIEW current_labels AS
         SELECT l.* FROM labels l
         WHERE l.retracted = 0
           AND l.id = (SELECT MAX(l2.id) FROM labels l2
                       WHERE l2.pair_id = l.pair_id AND l2.labeler = l.labeler))",
    // The pair's current label: the newest current label of any labeler (the paper's
    // chosen[-1]).
    R"(CREATE VIEW pair_labels AS
         SELECT c.* FROM current_labels c
         WHERE c.id = (SELECT MAX(c2.id) FROM current_labels c2 WHERE c2.pair_id = c.pair_id))",
};

// Saved train/test splits: explicit id lists, so a training run can be repeated exactly.
const char *const kSchemaV2[] = {
    R"(CREATE TABLE splits (
         name TEXT PRIMARY KEY,
         seed BIGINT NOT NULL,
         test_fraction DOUBLE PRECISION NOT NULL,
         created_at BIGINT NOT NULL))",
    R"(CREATE TABLE split_members (
         split_name TEXT NOT NULL REFERENCES splits(name),
         pair_id BIGINT NOT NULL REFERENCES pairs(id),
         part TEXT NOT NULL CHECK (part IN ('train', 'test')),
         position INTEGER NOT NULL,
         PRIMARY KEY (split_name, pair_id)))",
};

// Checks a reviewer trusts (issue 22). Pairs get a kind: "normal" (the study's data), "gold" (a
// known answer made by the app: gold_expected is the sample that should win) or "repeat" (a pair
// labeled earlier by the same labeler, shown again with sides swapped: repeats_pair is it).
// Gold and repeat pairs are quality checks, never training data nor agreement items. A label
// records whether both motions had been watched to the end before the vote (NULL: not known,
// as for imported labels), and a skip carries reason tags in label_tags (append-only too).
// PostgreSQL expands "l.*" of a view when it is made, so the label views are made again to
// show the new column.
const char *const kSchemaV3[] = {
    R"(ALTER TABLE pairs ADD COLUMN kind TEXT NOT NULL DEFAULT 'normal'
         CHECK (kind IN ('normal', 'gold', 'repeat')))",
    "ALTER TABLE pairs ADD COLUMN gold_expected BIGINT REFERENCES samples(id)",
    "ALTER TABLE pairs ADD COLUMN repeats_pair BIGINT REFERENCES pairs(id)",
    "CREATE INDEX pairs_kind ON pairs(kind)",
    "ALTER TABLE labels ADD COLUMN watched_both INTEGER CHECK (watched_both IN (0, 1))",
    R"(CREATE TABLE label_tags (
         label_id BIGINT NOT NULL REFERENCES labels(id),
         tag TEXT NOT NULL CHECK (tag IN ('wrong_action', 'wrong_count_direction', 'jitter',
                                          'foot_skating', 'physically_impossible', 'too_short')),
         PRIMARY KEY (label_id, tag)))",
    "DROP VIEW pair_labels",
    "DROP VIEW current_labels",
    R"(CREATE VIEW current_labels AS
         SELECT l.* FROM labels l
         WHERE l.retracted = 0
           AND l.id = (SELECT MAX(l2.id) FROM labels l2
                       WHERE l2.pair_id = l.pair_id AND l2.labeler = l.labeler))",
    R"(CREATE VIEW pair_labels AS
         SELECT c.* FROM current_labels c
         WHERE c.id = (SELECT MAX(c2.id) FROM current_labels c2 WHERE c2.pair_id = c.pair_id))",
};

// Online rounds and active pair selection (issue 21). A pair records how it was chosen: the rule
// (random or margin), the number of candidates sampled for it, the diversity weight and the β of
// the implicit reward, the pair's margin r(sample_1) − r(sample_2) and the rule's score where the
// rule computed them (imported pairs have no row). A round k >= 1 is a row written when its
// adapter is ready: the adapter that samples it (round 0, the base model, has no row), the labels
// its adapter was trained on (their count and the highest label id, so the set can be read back
// exactly) and the training run. Both tables are append-only.
const char *const kSchemaV4[] = {
    R"(CREATE TABLE pair_selections (
         pair_id BIGINT PRIMARY KEY REFERENCES pairs(id),
         rule TEXT NOT NULL CHECK (rule IN ('random', 'margin')),
         candidates INTEGER NOT NULL CHECK (candidates BETWEEN 2 AND 8),
         diversity DOUBLE PRECISION NOT NULL DEFAULT 0,
         beta DOUBLE PRECISION,
         margin DOUBLE PRECISION,
         score DOUBLE PRECISION,
         similarity DOUBLE PRECISION,
         created_at BIGINT NOT NULL))",
    R"(CREATE TABLE rounds (
         round INTEGER PRIMARY KEY CHECK (round >= 1),
         adapter_id BIGINT NOT NULL REFERENCES adapters(id),
         trained_labels INTEGER NOT NULL,
         trained_through_label BIGINT REFERENCES labels(id),
         run_dir TEXT,
         training_started_at BIGINT NOT NULL,
         created_at BIGINT NOT NULL))",
};

// The ensemble rule (issue 21): pair_selections accepts rule 'ensemble' (the largest
// disagreement of a reward-model ensemble; margin is then the members' mean difference, score
// the disagreement, beta NULL). A CHECK constraint cannot be changed in SQLite, so the table is
// made again with every row copied; the old table's append-only guard goes with it and the
// migration puts it back on the new one.
const char *const kSchemaV5[] = {
    R"(CREATE TABLE pair_selections_v5 (
         pair_id BIGINT PRIMARY KEY REFERENCES pairs(id),
         rule TEXT NOT NULL CHECK (rule IN ('random', 'margin', 'ensemble')),
         candidates INTEGER NOT NULL CHECK (candidates BETWEEN 2 AND 8),
         diversity DOUBLE PRECISION NOT NULL DEFAULT 0,
         beta DOUBLE PRECISION,
         margin DOUBLE PRECISION,
         score DOUBLE PRECISION,
         similarity DOUBLE PRECISION,
         created_at BIGINT NOT NULL))",
    R"(INSERT INTO pair_selections_v5 (pair_id, rule, candidates, diversity, beta, margin, score,
                                       similarity, created_at)
         SELECT pair_id, rule, candidates, diversity, beta, margin, score, similarity, created_at
         FROM pair_selections)",
    "DROP TABLE pair_selections",
    "ALTER TABLE pair_selections_v5 RENAME TO pair_selections",
};

struct Migration {
    int version;
    QStringList statements;
    QStringList appendOnlyTables; // tables that get the dialect's append-only guard
};

template <std::size_t N> QStringList toList(const char *const (&statements)[N])
{
    QStringList list;
    for (const char *statement : statements)
        list << QString::fromUtf8(statement);
    return list;
}

std::vector<Migration> migrations()
{
    return {
        {1, toList(kSchemaV1), {QStringLiteral("labels")}},
        {2, toList(kSchemaV2), {}},
        {3, toList(kSchemaV3), {QStringLiteral("label_tags")}},
        {4, toList(kSchemaV4), {QStringLiteral("pair_selections"), QStringLiteral("rounds")}},
        {5, toList(kSchemaV5), {QStringLiteral("pair_selections")}},
    };
}

void exec(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery query(db);
    if (!query.exec(sql)) {
        throw std::runtime_error("study schema: " + query.lastError().text().toStdString() +
                                 " in: " + sql.left(80).simplified().toStdString());
    }
}

bool hasVersionTable(QSqlDatabase &db)
{
    return db.tables().contains(QStringLiteral("schema_version"));
}

} // namespace

QString SqlDialect::expand(const QString &sql) const
{
    QString out = sql;
    if (backend == StudyBackend::Sqlite) {
        // INTEGER PRIMARY KEY is SQLite's rowid alias: 64-bit and assigned on insert.
        out.replace(QLatin1String("{id}"), QLatin1String("INTEGER PRIMARY KEY"));
        out.replace(QLatin1String("{blob}"), QLatin1String("BLOB"));
    } else {
        out.replace(QLatin1String("{id}"),
                    QLatin1String("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"));
        out.replace(QLatin1String("{blob}"), QLatin1String("BYTEA"));
    }
    return out;
}

QString SqlDialect::beginWrite() const
{
    return backend == StudyBackend::Sqlite ? QStringLiteral("BEGIN IMMEDIATE")
                                           : QStringLiteral("BEGIN");
}

QString SqlDialect::lockForAssignment() const
{
    return backend == StudyBackend::Sqlite ? QString()
                                           : QStringLiteral(" FOR UPDATE OF p SKIP LOCKED");
}

QStringList SqlDialect::appendOnlyGuard(const QString &table) const
{
    // The names and message of version 1's labels guard, so its statements did not change.
    const QString message = QStringLiteral("%1 are append-only").arg(table);
    if (backend == StudyBackend::Sqlite) {
        return {
            QStringLiteral("CREATE TRIGGER %1_no_update BEFORE UPDATE ON %1 "
                           "BEGIN SELECT RAISE(ABORT, '%2'); END")
                .arg(table, message),
            QStringLiteral("CREATE TRIGGER %1_no_delete BEFORE DELETE ON %1 "
                           "BEGIN SELECT RAISE(ABORT, '%2'); END")
                .arg(table, message),
        };
    }
    return {
        // OR REPLACE: a table made again (pair_selections, v5) keeps its guard's function.
        QStringLiteral("CREATE OR REPLACE FUNCTION mp_%1_append_only() RETURNS trigger "
                       "LANGUAGE plpgsql AS $$ BEGIN "
                       "RAISE EXCEPTION '%2'; END $$")
            .arg(table, message),
        QStringLiteral("CREATE TRIGGER %1_append_only BEFORE UPDATE OR DELETE ON %1 "
                       "FOR EACH ROW EXECUTE FUNCTION mp_%1_append_only()")
            .arg(table),
    };
}

QString SqlDialect::migrationLock() const
{
    // An arbitrary application-wide key; the lock ends with the transaction.
    return backend == StudyBackend::Postgres ? QStringLiteral("SELECT pg_advisory_xact_lock(7291)")
                                             : QString();
}

int latestSchemaVersion()
{
    return migrations().back().version;
}

int storedSchemaVersion(QSqlDatabase &db)
{
    if (!hasVersionTable(db))
        return 0;
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("SELECT MAX(version) FROM schema_version")) || !query.next())
        throw std::runtime_error("study schema: " + query.lastError().text().toStdString());
    return query.value(0).isNull() ? 0 : query.value(0).toInt();
}

void migrateStudy(QSqlDatabase &db, const SqlDialect &dialect, int targetVersion)
{
    const int target = targetVersion > 0 ? targetVersion : latestSchemaVersion();
    // Up to date (the usual case): no write transaction, so opening never waits for a writer.
    if (storedSchemaVersion(db) == latestSchemaVersion())
        return;
    for (const Migration &migration : migrations()) {
        if (migration.version > target)
            break;
        exec(db, dialect.beginWrite());
        try {
            if (!dialect.migrationLock().isEmpty())
                exec(db, dialect.migrationLock());
            exec(db, QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version ("
                                    "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"));
            // Read inside the locked transaction: another process may have migrated meanwhile.
            const int stored = storedSchemaVersion(db);
            if (stored > latestSchemaVersion()) {
                throw InputError("study schema version " + std::to_string(stored) +
                                 " is newer than this program's (" +
                                 std::to_string(latestSchemaVersion()) + "); update MotionPref");
            }
            if (stored < migration.version) {
                for (const QString &statement : migration.statements)
                    exec(db, dialect.expand(statement));
                for (const QString &table : migration.appendOnlyTables)
                    for (const QString &statement : dialect.appendOnlyGuard(table))
                        exec(db, statement);
                QSqlQuery record(db);
                record.prepare(QStringLiteral(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"));
                record.addBindValue(migration.version);
                record.addBindValue(QDateTime::currentMSecsSinceEpoch());
                if (!record.exec())
                    throw std::runtime_error("study schema: " +
                                             record.lastError().text().toStdString());
            }
            exec(db, QStringLiteral("COMMIT"));
        } catch (...) {
            QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
            throw;
        }
    }
}

} // namespace mp
