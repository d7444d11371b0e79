#include "app/study/study_store.h"

#include "app/study/study_store_internal.h"

#include "ml/core/error.h"

#include <QAtomicInt>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>
#include <QUrlQuery>
#include <QVariant>

#include <algorithm>
#include <stdexcept>

namespace mp {

using namespace studysql;

namespace {

QAtomicInt connectionCounter;

const QString kPairSelect =
    QStringLiteral("SELECT p.id, p.prompt_id, pr.text, p.sample1_id, p.sample2_id, p.left_sample, "
                   "p.external_id, p.assigned_to, p.assigned_at, p.created_at, p.kind, "
                   "p.gold_expected, p.repeats_pair "
                   "FROM pairs p JOIN prompts pr ON pr.id = p.prompt_id ");

// Unlabeled: no labeler has a current label on the pair.
const QString kUnlabeled =
    QStringLiteral("NOT EXISTS (SELECT 1 FROM current_labels c WHERE c.pair_id = p.id)");

QString tokensToText(const std::vector<int> &tokens)
{
    QStringList parts;
    parts.reserve(static_cast<qsizetype>(tokens.size()));
    for (int token : tokens)
        parts << QString::number(token);
    const QString text = parts.join(QLatin1Char(' '));
    return text.isNull() ? QStringLiteral("") : text; // a null QString would bind as NULL
}

std::vector<int> tokensFromText(const QString &text)
{
    std::vector<int> tokens;
    for (const QString &part : text.split(QLatin1Char(' '), Qt::SkipEmptyParts))
        tokens.push_back(part.toInt());
    return tokens;
}

PairInfo readPair(const QSqlQuery &query)
{
    PairInfo pair;
    pair.id = query.value(0).toLongLong();
    pair.promptId = query.value(1).toLongLong();
    pair.promptText = query.value(2).toString();
    pair.sample1Id = query.value(3).toLongLong();
    pair.sample2Id = query.value(4).toLongLong();
    pair.leftSample = query.value(5).toInt();
    pair.externalId = query.value(6).toString();
    pair.assignedTo = query.value(7).toString();
    pair.assignedAtMs = query.value(8).toLongLong();
    pair.createdAtMs = query.value(9).toLongLong();
    pair.kind = pairKindFromName(query.value(10).toString()).value_or(PairKind::Normal);
    pair.goldExpected = optionalInt(query.value(11));
    pair.repeatsPair = optionalInt(query.value(12));
    return pair;
}

void configurePostgres(QSqlDatabase &db, const QString &location)
{
    const QUrl url(location);
    if (!url.isValid() || url.path().size() < 2)
        throw InputError("study connection string '" + location.toStdString() +
                         "': expected postgresql://user@host:port/dbname");
    db.setHostName(url.host());
    if (url.port() != -1)
        db.setPort(url.port());
    db.setDatabaseName(url.path().mid(1));
    db.setUserName(url.userName());
    db.setPassword(url.password());
    QStringList options;
    for (const auto &[key, value] : QUrlQuery(url).queryItems(QUrl::FullyDecoded)) {
        if (key == QLatin1String("host"))
            db.setHostName(value); // a socket directory, as libpq spells it
        else
            options << key + QLatin1Char('=') + value;
    }
    db.setConnectOptions(options.join(QLatin1Char(';')));
}

} // namespace

StudyStore::StudyStore(QObject *parent) : QObject(parent), m_dialect(std::make_unique<SqlDialect>())
{
}

StudyStore::~StudyStore()
{
    close();
}

bool StudyStore::isConnectionString(const QString &location)
{
    return location.startsWith(QLatin1String("postgresql://")) ||
           location.startsWith(QLatin1String("postgres://"));
}

void StudyStore::open(const QString &location, bool create)
{
    close();
    const bool postgres = isConnectionString(location);
    m_dialect->backend = postgres ? StudyBackend::Postgres : StudyBackend::Sqlite;
    m_connectionName = QStringLiteral("mp-study-%1").arg(connectionCounter.fetchAndAddRelaxed(1));
    if (postgres) {
        QUrl url(location);
        if (!url.password().isEmpty())
            url.setPassword(QStringLiteral("***"));
        m_location = url.toString();
    } else {
        m_location = location;
    }
    const std::string name = m_location.toStdString();

    if (!postgres && !create && !QFileInfo::exists(location))
        throw InputError(name + ": no such study (motionpref-cli study create makes one)");
    if (!QSqlDatabase::isDriverAvailable(postgres ? "QPSQL" : "QSQLITE")) {
        throw InputError(name + ": Qt's " + (postgres ? "QPSQL" : "QSQLITE") +
                         " driver is not installed (packaging/install-deps.sh" +
                         (postgres ? " --with-postgres)" : ")"));
    }
    m_db = QSqlDatabase::addDatabase(postgres ? QStringLiteral("QPSQL") : QStringLiteral("QSQLITE"),
                                     m_connectionName);
    if (postgres) {
        configurePostgres(m_db, location);
    } else {
        m_db.setDatabaseName(location);
        m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(m_busyTimeoutMs));
    }
    if (!m_db.open()) {
        const std::string why = m_db.lastError().text().simplified().toStdString();
        close();
        throw InputError(name + ": cannot open the study: " + why);
    }
    try {
        if (!postgres) {
            // WAL: labelers read while one writes. synchronous=FULL: each commit is fsynced, so
            // a label whose write returned survives a crash of the process and of the machine;
            // a label is one small transaction, so the fsync costs nothing a person notices.
            QSqlQuery pragma(m_db);
            if (!pragma.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !pragma.next() ||
                pragma.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive))
                throw InputError(name + ": not an SQLite database, or WAL is not possible: " +
                                 pragma.lastError().text().toStdString());
            exec(QStringLiteral("PRAGMA synchronous=FULL"));
            exec(QStringLiteral("PRAGMA foreign_keys=ON"));
        } else {
            exec(QStringLiteral("SET client_min_messages = warning")); // no NOTICE chatter
        }
        if (!create && storedSchemaVersion(m_db) == 0)
            throw InputError(name + ": not a MotionPref study (no schema_version table)");
        migrateStudy(m_db, *m_dialect);
        if (create && meta(QStringLiteral("created_at")).isEmpty())
            setMeta(QStringLiteral("created_at"),
                    QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    } catch (const std::exception &) {
        close();
        throw;
    }
}

void StudyStore::close()
{
    if (m_connectionName.isEmpty())
        return;
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
    m_connectionName.clear();
    m_txDepth = 0;
    m_afterCommit.clear();
}

bool StudyStore::isOpen() const
{
    return m_db.isOpen();
}
QString StudyStore::location() const
{
    return m_location;
}
StudyBackend StudyStore::backend() const
{
    return m_dialect->backend;
}

int StudyStore::schemaVersion()
{
    requireOpen();
    return storedSchemaVersion(m_db);
}

QString StudyStore::contentHash(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        throw InputError(path.toStdString() + ": no such file or directory");
    auto hashFile = [](const QString &file) {
        QFile in(file);
        if (!in.open(QIODevice::ReadOnly))
            throw InputError(file.toStdString() + ": " + in.errorString().toStdString());
        QCryptographicHash hash(QCryptographicHash::Sha256);
        hash.addData(&in);
        return hash.result();
    };
    if (info.isFile())
        return QString::fromLatin1(hashFile(path).toHex());
    // Absolute: QDir::relativeFilePath of a relative folder's entries joins the folder twice.
    const QDir root(info.absoluteFilePath());
    QStringList files;
    QDirIterator it(root.path(), QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << root.relativeFilePath(it.next());
    files.sort();
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const QString &file : files) {
        hash.addData(file.toUtf8());
        hash.addData(QByteArrayView("\0", 1));
        hash.addData(hashFile(root.filePath(file)));
    }
    return QString::fromLatin1(hash.result().toHex());
}

void StudyStore::requireOpen() const
{
    if (!m_db.isOpen())
        throw std::runtime_error("study: no study is open");
}

[[noreturn]] void StudyStore::fail(const QSqlQuery &query, const QString &sql) const
{
    // PostgreSQL aborts the whole transaction on any failed statement and would then turn
    // COMMIT into a silent ROLLBACK: never let a caller that swallows this commit as if fine.
    const std::string message = m_location.toStdString() + ": " +
                                query.lastError().text().toStdString() +
                                " (in: " + sql.simplified().left(70).toStdString() + ")";
    if (m_txDepth > 0) {
        m_txBroken = true;
        if (backend() == StudyBackend::Postgres) {
            // Swap the aborted transaction for a fresh one that will be rolled back too, so
            // that the statements still open can be freed (else a warning per statement).
            QSqlQuery(m_db).exec(QStringLiteral("ROLLBACK"));
            QSqlQuery(m_db).exec(m_dialect->beginWrite());
        }
    }
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6): another program holds the lock; worth a retry.
    const QString code = query.lastError().nativeErrorCode();
    if (backend() == StudyBackend::Sqlite &&
        (code == QLatin1String("5") || code == QLatin1String("6")))
        throw StudyBusyError(message);
    throw std::runtime_error(message);
}

void StudyStore::setBusyTimeoutMs(int ms)
{
    m_busyTimeoutMs = ms;
    if (isOpen() && backend() == StudyBackend::Sqlite)
        exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(ms));
}

QSqlQuery StudyStore::run(const QString &sql, const QVariantList &values) const
{
    requireOpen();
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        fail(query, sql);
    for (const QVariant &value : values)
        query.addBindValue(value);
    if (!query.exec())
        fail(query, sql);
    return query;
}

void StudyStore::exec(const QString &sql)
{
    QSqlQuery query(m_db);
    if (!query.exec(sql))
        fail(query, sql);
}

qint64 StudyStore::insert(const QString &sql, const QVariantList &values)
{
    QSqlQuery query = run(sql + QStringLiteral(" RETURNING id"), values);
    if (!query.next())
        fail(query, sql);
    const qint64 id = query.value(0).toLongLong();
    query.finish(); // a statement left open would block COMMIT on SQLite
    return id;
}

void StudyStore::afterCommit(std::function<void()> fn)
{
    if (m_txDepth == 0)
        fn();
    else
        m_afterCommit.push_back(std::move(fn));
}

void StudyStore::notify(std::function<void()> signal)
{
    if (m_batchDepth == 0)
        afterCommit(std::move(signal));
}

void StudyStore::runInTransaction(const std::function<void()> &fn)
{
    struct BatchScope {
        int &depth;
        explicit BatchScope(int &d) : depth(d) { ++depth; }
        ~BatchScope() { --depth; }
    };
    {
        const BatchScope batch(m_batchDepth);
        Transaction tx(*this);
        fn();
        tx.commit();
    }
    if (m_batchDepth == 0)
        afterCommit([this] { emit studyChanged(); });
}

QString StudyStore::meta(const QString &key) const
{
    QSqlQuery query = run(QStringLiteral("SELECT value FROM study_meta WHERE key = ?"), {key});
    return query.next() ? query.value(0).toString() : QString();
}

void StudyStore::setMeta(const QString &key, const QString &value)
{
    Transaction tx(*this);
    run(QStringLiteral("INSERT INTO study_meta (key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
        {key, value});
    tx.commit();
}

qint64 StudyStore::addPrompt(const QString &text, PromptSource source)
{
    if (text.trimmed().isEmpty())
        throw InputError("a prompt cannot be empty");
    Transaction tx(*this);
    const qint64 id =
        insert(QStringLiteral("INSERT INTO prompts (text, source, created_at) VALUES (?, ?, ?)"),
               {text, promptSourceName(source), nowMs()});
    tx.commit();
    return id;
}

PromptInfo StudyStore::prompt(qint64 id) const
{
    QSqlQuery query =
        run(QStringLiteral("SELECT id, text, source, created_at FROM prompts WHERE id = ?"), {id});
    if (!query.next())
        throw InputError("prompt " + std::to_string(id) + " does not exist");
    return {query.value(0).toLongLong(), query.value(1).toString(),
            promptSourceFromName(query.value(2).toString()).value_or(PromptSource::Typed),
            query.value(3).toLongLong()};
}

std::vector<PromptInfo> StudyStore::prompts() const
{
    QSqlQuery query =
        run(QStringLiteral("SELECT id, text, source, created_at FROM prompts ORDER BY id"));
    std::vector<PromptInfo> out;
    while (query.next()) {
        out.push_back(
            {query.value(0).toLongLong(), query.value(1).toString(),
             promptSourceFromName(query.value(2).toString()).value_or(PromptSource::Typed),
             query.value(3).toLongLong()});
    }
    return out;
}

qint64 StudyStore::addModel(const QString &name, const QString &path, const QString &contentHash)
{
    Transaction tx(*this);
    QSqlQuery known =
        run(QStringLiteral("SELECT id FROM models WHERE content_hash = ?"), {contentHash});
    const qint64 id = known.next() ? known.value(0).toLongLong()
                                   : insert(QStringLiteral("INSERT INTO models (name, path, "
                                                           "content_hash, created_at) VALUES "
                                                           "(?, ?, ?, ?)"),
                                            {name, path, contentHash, nowMs()});
    known.finish();
    tx.commit();
    return id;
}

qint64 StudyStore::addAdapter(std::optional<qint64> modelId, const QString &name,
                              const QString &path, const QString &contentHash)
{
    Transaction tx(*this);
    QSqlQuery known =
        run(QStringLiteral("SELECT id FROM adapters WHERE content_hash = ?"), {contentHash});
    const qint64 id =
        known.next() ? known.value(0).toLongLong()
                     : insert(QStringLiteral("INSERT INTO adapters (model_id, name, path, "
                                             "content_hash, created_at) VALUES (?, ?, ?, ?, ?)"),
                              {intOrNull(modelId), name, path, contentHash, nowMs()});
    known.finish();
    tx.commit();
    return id;
}

std::vector<ModelInfo> StudyStore::models() const
{
    QSqlQuery query =
        run(QStringLiteral("SELECT id, name, path, content_hash FROM models ORDER BY id"));
    std::vector<ModelInfo> out;
    while (query.next()) {
        out.push_back({query.value(0).toLongLong(), query.value(1).toString(),
                       query.value(2).toString(), query.value(3).toString()});
    }
    return out;
}

std::vector<ModelInfo> StudyStore::adapters() const
{
    QSqlQuery query =
        run(QStringLiteral("SELECT id, name, path, content_hash FROM adapters ORDER BY id"));
    std::vector<ModelInfo> out;
    while (query.next()) {
        out.push_back({query.value(0).toLongLong(), query.value(1).toString(),
                       query.value(2).toString(), query.value(3).toString()});
    }
    return out;
}

qint64 StudyStore::addSample(const SampleInfo &sample)
{
    Transaction tx(*this);
    const QVariant features = sample.features.isEmpty()
                                  ? QVariant(QMetaType::fromType<QByteArray>())
                                  : QVariant(sample.features);
    const qint64 id = insert(
        QStringLiteral("INSERT INTO samples (prompt_id, model_id, adapter_id, seed, temperature, "
                       "top_k, top_p, tokens, features_path, features, origin, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        {sample.promptId, intOrNull(sample.modelId), intOrNull(sample.adapterId), sample.seed,
         sample.temperature, sample.topK, sample.topP, tokensToText(sample.tokens),
         textOrNull(sample.featuresPath), features, textOrNull(sample.origin), nowMs()});
    tx.commit();
    return id;
}

SampleInfo StudyStore::sample(qint64 id) const
{
    QSqlQuery query =
        run(QStringLiteral("SELECT id, prompt_id, model_id, adapter_id, seed, temperature, top_k, "
                           "top_p, tokens, features_path, features, origin, created_at "
                           "FROM samples WHERE id = ?"),
            {id});
    if (!query.next())
        throw InputError("sample " + std::to_string(id) + " does not exist");
    SampleInfo sample;
    sample.id = query.value(0).toLongLong();
    sample.promptId = query.value(1).toLongLong();
    sample.modelId = optionalInt(query.value(2));
    sample.adapterId = optionalInt(query.value(3));
    sample.seed = query.value(4).toLongLong();
    sample.temperature = query.value(5).toDouble();
    sample.topK = query.value(6).toInt();
    sample.topP = query.value(7).toDouble();
    sample.tokens = tokensFromText(query.value(8).toString());
    sample.featuresPath = query.value(9).toString();
    sample.features = query.value(10).toByteArray();
    sample.origin = query.value(11).toString();
    sample.createdAtMs = query.value(12).toLongLong();
    return sample;
}

qint64 StudyStore::addPair(qint64 promptId, qint64 sample1Id, qint64 sample2Id, int leftSample,
                           const QString &externalId)
{
    if (leftSample != 1 && leftSample != 2)
        throw InputError("leftSample must be 1 or 2, got " + std::to_string(leftSample));
    if (sample1Id == sample2Id)
        throw InputError("a pair needs two different samples");
    Transaction tx(*this);
    const qint64 id =
        insert(QStringLiteral("INSERT INTO pairs (prompt_id, sample1_id, sample2_id, left_sample, "
                              "external_id, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
               {promptId, sample1Id, sample2Id, leftSample, textOrNull(externalId), nowMs()});
    tx.commit();
    return id;
}

int StudyStore::randomLeftSample()
{
    return QRandomGenerator::global()->bounded(1, 3);
}

std::optional<PairInfo> StudyStore::findPair(const QString &where, const QVariantList &values) const
{
    QSqlQuery query = run(kPairSelect + where, values);
    if (!query.next())
        return std::nullopt;
    return readPair(query);
}

PairInfo StudyStore::pair(qint64 id) const
{
    auto found = findPair(QStringLiteral("WHERE p.id = ?"), {id});
    if (!found)
        throw InputError("pair " + std::to_string(id) + " does not exist");
    return *found;
}

std::optional<PairInfo> StudyStore::pairByExternalId(const QString &externalId) const
{
    return findPair(QStringLiteral("WHERE p.external_id = ?"), {externalId});
}

qint64 StudyStore::addCheckPair(const CheckPair &check)
{
    if (check.kind == PairKind::Normal)
        throw InputError("a check pair is a gold or a repeat pair");
    if (check.leftSample != 1 && check.leftSample != 2)
        throw InputError("leftSample must be 1 or 2, got " + std::to_string(check.leftSample));
    if (check.sample1Id == check.sample2Id)
        throw InputError("a pair needs two different samples");
    if (check.kind == PairKind::Gold &&
        (!check.goldExpected ||
         (*check.goldExpected != check.sample1Id && *check.goldExpected != check.sample2Id)))
        throw InputError("a gold pair's expected sample must be one of its two samples");
    if (check.kind == PairKind::Repeat && !check.repeatsPair)
        throw InputError("a repeat pair must name the pair it repeats");
    Transaction tx(*this);
    if (check.repeatsPair && pair(*check.repeatsPair).kind != PairKind::Normal)
        throw InputError("only a normal pair can be repeated");
    const QVariant assigned = textOrNull(check.assignedTo);
    const QVariant assignedAt = check.assignedTo.isEmpty() ? nullInt() : QVariant(nowMs());
    const qint64 id = insert(
        QStringLiteral("INSERT INTO pairs (prompt_id, sample1_id, sample2_id, left_sample, "
                       "assigned_to, assigned_at, created_at, kind, gold_expected, repeats_pair, "
                       "external_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        {check.promptId, check.sample1Id, check.sample2Id, check.leftSample, assigned, assignedAt,
         nowMs(), pairKindName(check.kind), intOrNull(check.goldExpected),
         intOrNull(check.repeatsPair), textOrNull(check.externalId)});
    tx.commit();
    return id;
}

std::vector<PairInfo> StudyStore::checkPairs() const
{
    QSqlQuery query = run(kPairSelect + QStringLiteral("WHERE p.kind <> 'normal' ORDER BY p.id"));
    std::vector<PairInfo> out;
    while (query.next())
        out.push_back(readPair(query));
    return out;
}

std::vector<PairInfo> StudyStore::pairs() const
{
    QSqlQuery query = run(kPairSelect + QStringLiteral("WHERE p.kind = 'normal' ORDER BY p.id"));
    std::vector<PairInfo> out;
    while (query.next())
        out.push_back(readPair(query));
    return out;
}

std::optional<PairInfo> StudyStore::assignNextPair(const QString &labeler, qint64 reclaimAfterMs,
                                                   bool *alreadyHeld)
{
    if (labeler.isEmpty())
        throw InputError("a labeler name is required");
    Transaction tx(*this);
    const qint64 now = nowMs();
    std::optional<qint64> id;
    {
        QSqlQuery own = run(
            QStringLiteral("SELECT p.id FROM pairs p WHERE p.assigned_to = ? AND ") + kUnlabeled +
                QStringLiteral(" ORDER BY CASE WHEN p.kind = 'normal' THEN 1 ELSE 0 END, "
                               "p.id LIMIT 1"),
            {labeler});
        if (own.next())
            id = own.value(0).toLongLong();
    }
    if (alreadyHeld)
        *alreadyHeld = id.has_value();
    if (!id) {
        // Check pairs are made for one labeler (StudyStore::addCheckPair), never handed out.
        QSqlQuery free = run(QStringLiteral("SELECT p.id FROM pairs p WHERE p.kind = 'normal' "
                                            "AND (p.assigned_to IS NULL OR p.assigned_at < ?) "
                                            "AND ") +
                                 kUnlabeled + QStringLiteral(" ORDER BY p.id LIMIT 1") +
                                 m_dialect->lockForAssignment(),
                             {now - reclaimAfterMs});
        if (free.next())
            id = free.value(0).toLongLong();
        free.finish();
        if (id) {
            run(QStringLiteral("UPDATE pairs SET assigned_to = ?, assigned_at = ? WHERE id = ?"),
                {labeler, now, *id});
        }
    }
    std::optional<PairInfo> assigned;
    if (id)
        assigned = pair(*id);
    tx.commit();
    if (assigned)
        notify([this, id = assigned->id, labeler] { emit pairAssigned(id, labeler); });
    return assigned;
}

void StudyStore::releaseAssignment(qint64 pairId, const QString &labeler)
{
    Transaction tx(*this);
    run(QStringLiteral("UPDATE pairs SET assigned_to = NULL, assigned_at = NULL "
                       "WHERE id = ? AND assigned_to = ?"),
        {pairId, labeler});
    tx.commit();
}

QString StudyStore::integrityCheck() const
{
    if (backend() != StudyBackend::Sqlite) {
        requireOpen();
        return QStringLiteral("ok");
    }
    QSqlQuery query = run(QStringLiteral("PRAGMA integrity_check"));
    QStringList lines;
    while (query.next())
        lines << query.value(0).toString();
    return lines.join(QLatin1Char('\n'));
}

} // namespace mp

// StudyStore's meta-object here, not in the library's mocs_compilation.cpp with every other
// class's: a program that uses the store links without the label session and pair generation
// (LibTorch) that the shared file would pull in (app/cli/command_library.h).
#include "moc_study_store.cpp"
