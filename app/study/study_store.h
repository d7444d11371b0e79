#pragma once
// StudyStore: one study (prompts, models, samples, pairs, labels, splits) in one database.
//
// A location is either a file path (SQLite, one file per study) or a PostgreSQL connection
// string "postgresql://user:password@host:port/dbname?host=/socket/dir&sslmode=..." (Qt's QPSQL
// driver) for a study shared by a lab. Both go through the same code and the same schema.
//
// Guarantees:
// - Every write is one transaction; a write that returned is on disk (SQLite: WAL with
//   synchronous=FULL, so it survives a killed process and a power cut, at one fsync per label).
// - Labels are append-only. addLabel() on a pair the labeler already labeled adds a row that
//   supersedes the previous one; retractLabel() (undo) adds a retraction row. The database
//   rejects UPDATE and DELETE on labels.
// - assignNextPair() hands each unlabeled pair to one labeler at a time, also across processes
//   and machines (PostgreSQL: row locks with SKIP LOCKED; SQLite: the write lock).
//
// Errors: mp::InputError for what the user gave (a missing study file, an unknown pair, a label
// without a degree), std::runtime_error for database failures (message names the study).
// An instance belongs to the thread that created it; other threads open their own.

#include "app/study/study_schema.h"
#include "app/study/study_types.h"

#include <QObject>
#include <QSqlDatabase>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QSqlQuery;

namespace mp {

// A gold or repeat pair (schema v3), made for one labeler: StudyStore::addCheckPair.
struct CheckPair {
    PairKind kind = PairKind::Gold;
    qint64 promptId = 0;
    qint64 sample1Id = 0;
    qint64 sample2Id = 0;
    int leftSample = 1;
    std::optional<qint64> goldExpected; // gold: sample1Id or sample2Id
    std::optional<qint64> repeatsPair;  // repeat: a normal pair
    QString assignedTo;                 // the labeler it is made for (held by them at once)
    QString externalId;                 // optional, unique: e.g. what a gold pair was made of
};

// A write that found the study locked by another connection or program for longer than the
// busy timeout (SQLite's SQLITE_BUSY): nothing was written, and the same write can be tried
// again later.
class StudyBusyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SavedSplit {
    QString name;
    qint64 seed = 0;
    double testFraction = 0.1;
    std::vector<qint64> train; // pair ids, in the split's order
    std::vector<qint64> test;
};

class StudyStore : public QObject {
    Q_OBJECT
public:
    // A pair held by a labeler who has not labeled it for this long goes back to the pool.
    static constexpr qint64 kDefaultReclaimMs = 30 * 60 * 1000;
    // A writer that finds the study locked waits this long before failing by default: long
    // enough for another labeler's commit (milliseconds) or an import (seconds).
    static constexpr int kDefaultBusyTimeoutMs = 15000;

    explicit StudyStore(QObject *parent = nullptr);
    ~StudyStore() override;

    // Opens an existing study and migrates it to the current schema; with create, makes it
    // (an empty PostgreSQL database is "missing" too). Throws InputError when it cannot.
    void open(const QString &location, bool create = false);
    void close();
    bool isOpen() const;
    QString location() const; // the password of a connection string is masked
    StudyBackend backend() const;
    int schemaVersion();
    static bool isConnectionString(const QString &location);
    // How long a write waits for another connection's lock before StudyBusyError (SQLite;
    // 15 s by default). The GUI thread's store waits briefly and queues what it could not write.
    void setBusyTimeoutMs(int ms);
    int busyTimeoutMs() const { return m_busyTimeoutMs; }
    // Hex SHA-256 of a file, or of a directory's files (names and contents, sorted): identifies
    // a model bundle or an adapter whatever its path.
    static QString contentHash(const QString &path);

    // Runs fn in one transaction (nested writes join it): all of it is stored or none. One
    // studyChanged() follows the commit instead of a signal per label or assignment.
    void runInTransaction(const std::function<void()> &fn);

    QString meta(const QString &key) const;
    void setMeta(const QString &key, const QString &value);

    qint64 addPrompt(const QString &text, PromptSource source);
    PromptInfo prompt(qint64 id) const;
    std::vector<PromptInfo> prompts() const;

    // Idempotent by content hash: the existing id is returned for a known bundle.
    qint64 addModel(const QString &name, const QString &path, const QString &contentHash);
    qint64 addAdapter(std::optional<qint64> modelId, const QString &name, const QString &path,
                      const QString &contentHash);
    std::vector<ModelInfo> models() const;
    std::vector<ModelInfo> adapters() const;

    qint64 addSample(const SampleInfo &sample); // id and createdAtMs are set by the store
    SampleInfo sample(qint64 id) const;

    // leftSample 1 or 2; use randomLeftSample() to balance sides.
    qint64 addPair(qint64 promptId, qint64 sample1Id, qint64 sample2Id, int leftSample,
                   const QString &externalId = {});
    static int randomLeftSample();
    // A gold or repeat pair, assigned to check.assignedTo; returns its id.
    qint64 addCheckPair(const CheckPair &check);
    PairInfo pair(qint64 id) const; // any kind
    std::optional<PairInfo> pairByExternalId(const QString &externalId) const;
    // The study's data: normal pairs only, in id order. Gold and repeat pairs are checks of the
    // labelers (checkPairs()), never training data, exports of the data or agreement items.
    std::vector<PairInfo> pairs() const;
    std::vector<PairInfo> checkPairs() const; // gold and repeat pairs, in id order

    // The labeler's own unlabeled pair if they hold one (resume after restart; a check pair
    // too), else the lowest-id normal pair nobody labeled and nobody holds (or held longer than
    // reclaimAfterMs); nullopt when none is left. One transaction: no pair goes to two labelers.
    // A held check pair comes before a held normal pair (check_pairs.h puts one in front).
    // alreadyHeld, when given, says whether the pair was the labeler's before this call.
    std::optional<PairInfo> assignNextPair(const QString &labeler,
                                           qint64 reclaimAfterMs = kDefaultReclaimMs,
                                           bool *alreadyHeld = nullptr);
    void releaseAssignment(qint64 pairId, const QString &labeler);

    // Returns the new label id. A previous label of the same labeler on the pair is
    // superseded (recorded in the new row). input.tags (skips only) go to label_tags with it.
    qint64 addLabel(qint64 pairId, const QString &labeler, const LabelInput &input);
    // The same, from what was pressed: left/right are mapped through the pair's leftSample.
    // `stored`, when given, receives the label as stored (in the pair's own terms), so that an
    // undo command can store it again without reading it back.
    qint64 addShownLabel(qint64 pairId, const QString &labeler, ShownChoice shown,
                         std::optional<PreferenceDegree> degree,
                         SkipReason skipReason = SkipReason::None, qint64 timeOnTaskMs = 0,
                         const QString &comment = {}, LabelInput *stored = nullptr,
                         const std::vector<ReasonTag> &tags = {},
                         std::optional<bool> watchedBoth = std::nullopt);
    // Undo: appends a retraction of the labeler's current label on the pair; returns its id.
    qint64 retractLabel(qint64 pairId, const QString &labeler);

    std::optional<LabelRecord> currentLabel(qint64 pairId) const; // newest of any labeler
    std::optional<LabelRecord> currentLabel(qint64 pairId, const QString &labeler) const;
    // Per (pair, labeler), by pair then id; of the pairs of that kind (the study's data by
    // default); nullopt: of every kind.
    std::vector<LabelRecord> currentLabels(std::optional<PairKind> kind = PairKind::Normal) const;
    std::vector<LabelRecord> labelHistory(qint64 pairId) const; // every row, oldest first
    std::vector<LabelRecord> allLabelRows() const;
    QStringList labelers() const;
    StudyCounts counts() const;

    // How a pair was chosen (append-only, one row per pair; none for imported pairs).
    void addPairSelection(const PairSelectionRecord &selection);
    std::optional<PairSelectionRecord> pairSelection(qint64 pairId) const;
    std::vector<PairSelectionRecord> pairSelections() const; // by pair id
    // Online rounds (append-only): addRound refuses a round that is not the next one (InputError).
    void addRound(const RoundInfo &round);
    std::vector<RoundInfo> rounds() const; // round 1, 2, ...
    // The highest label row id (0 when none): the bound a round's training set is read up to.
    qint64 lastLabelId() const;

    // Saved splits (explicit id lists). saveSplit refuses an existing name unless replace.
    void saveSplit(const SavedSplit &split, bool replace = false);
    std::optional<SavedSplit> loadSplit(const QString &name) const;
    QStringList splitNames() const;

    // Runs PRAGMA integrity_check on SQLite ("ok" when sound); "ok" on PostgreSQL.
    QString integrityCheck() const;

signals:
    void labelStored(qint64 labelId, qint64 pairId);
    void labelRetracted(qint64 labelId, qint64 pairId);
    void pairAssigned(qint64 pairId, const QString &labeler);
    void studyChanged(); // after a batch (import, split) was committed

private:
    class Transaction;
    QSqlQuery run(const QString &sql, const QVariantList &values = {}) const;
    qint64 insert(const QString &sql, const QVariantList &values);
    [[noreturn]] void fail(const QSqlQuery &query, const QString &sql) const;
    void exec(const QString &sql);
    void requireOpen() const;
    void afterCommit(std::function<void()> fn);
    void notify(std::function<void()> signal); // an item signal, unless inside a batch
    std::optional<PairInfo> findPair(const QString &where, const QVariantList &values) const;
    std::vector<LabelRecord> readLabels(const QString &sql, const QVariantList &values) const;

    QSqlDatabase m_db;
    QString m_connectionName;
    QString m_location;
    std::unique_ptr<SqlDialect> m_dialect;
    int m_busyTimeoutMs = kDefaultBusyTimeoutMs;
    int m_txDepth = 0;
    int m_batchDepth = 0; // runInTransaction nesting: item signals give way to studyChanged
    mutable bool m_txBroken = false; // an inner write failed: the outer commit must not happen
    std::vector<std::function<void()>> m_afterCommit;
};

} // namespace mp
