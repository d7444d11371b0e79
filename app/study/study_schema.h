#pragma once
// The study schema and everything that differs between SQLite and PostgreSQL, in one place.
// Migrations are numbered and applied in order, each in its own transaction, and recorded in
// schema_version; a database newer than this build is refused rather than guessed at.

#include <QString>
#include <QStringList>

class QSqlDatabase;

namespace mp {

enum class StudyBackend { Sqlite, Postgres };

// The few SQL spellings that differ between the two engines.
struct SqlDialect {
    StudyBackend backend = StudyBackend::Sqlite;

    // Replaces {id} (an auto-numbered 64-bit primary key) and {blob} in schema SQL.
    QString expand(const QString &sql) const;
    // Opens a write transaction. SQLite takes the write lock at once (BEGIN IMMEDIATE): a
    // deferred transaction that upgrades from read to write can fail with SQLITE_BUSY without
    // waiting, which would turn two labelers' concurrent writes into an error.
    QString beginWrite() const;
    // Appended to the SELECT that picks a pair to assign: PostgreSQL rows are locked and
    // others skip them; SQLite needs nothing since BEGIN IMMEDIATE serializes writers.
    QString lockForAssignment() const;
    // Statements that make a table (labels, label_tags) reject UPDATE and DELETE.
    QStringList appendOnlyGuard(const QString &table) const;
    // Serializes concurrent migrations of one database (two labelers opening a fresh study).
    QString migrationLock() const;
};

int latestSchemaVersion();

// Brings db up to targetVersion (latestSchemaVersion() when 0; an older one only for tests that
// make a study as an older build did). Throws std::runtime_error on an SQL failure and
// mp::InputError when the database was written by a newer MotionPref (unknown version).
void migrateStudy(QSqlDatabase &db, const SqlDialect &dialect, int targetVersion = 0);

// The version recorded in db, 0 for an empty database.
int storedSchemaVersion(QSqlDatabase &db);

} // namespace mp
