// The study store on both backends: every test runs once on SQLite and once on a private
// PostgreSQL server started for this test (tests/app/pg_test_server.h).

#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "pg_test_server.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace mp;

class StudyStoreTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<test::PgTestServer> m_pg;
    bool m_pgReady = false;
    QString m_pgProblem;
    int m_counter = 0;

    // A new empty study location for the current backend.
    QString freshLocation(const QString &backend)
    {
        const QString name = QStringLiteral("study_%1").arg(++m_counter);
        if (backend == QLatin1String("sqlite"))
            return m_dir.filePath(name + QStringLiteral(".sqlite"));
        return m_pg->createDatabase(name);
    }

    // A plain connection to the same database, to try what the store itself never does.
    static QSqlDatabase rawConnection(const QString &location, const QString &name)
    {
        if (StudyStore::isConnectionString(location)) {
            const QUrl url(location);
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
            db.setHostName(url.host());
            db.setPort(url.port());
            db.setUserName(url.userName());
            db.setDatabaseName(url.path().mid(1));
            return db;
        }
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(location);
        return db;
    }

    struct Fixture {
        qint64 prompt = 0;
        std::vector<qint64> pairs;
    };

    static Fixture addPairs(StudyStore &store, int count)
    {
        Fixture fixture;
        fixture.prompt =
            store.addPrompt(QStringLiteral("a person walks forward"), PromptSource::Typed);
        for (int i = 0; i < count; ++i) {
            SampleInfo a{.promptId = fixture.prompt, .seed = 2 * i, .tokens = {1, 2, 3}};
            SampleInfo b{.promptId = fixture.prompt, .seed = 2 * i + 1, .tokens = {4, 5}};
            fixture.pairs.push_back(
                store.addPair(fixture.prompt, store.addSample(a), store.addSample(b), 1 + i % 2));
        }
        return fixture;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_pg = std::make_unique<test::PgTestServer>();
        if (!m_pg->binariesFound()) {
            m_pgProblem = QStringLiteral("PostgreSQL server binaries not installed "
                                         "(packaging/install-deps.sh --with-postgres)");
            return;
        }
        // The binaries are here, so a server that does not start is a failure, not a skip.
        QVERIFY2(m_pg->driverFound(),
                 "PostgreSQL is installed but Qt's QPSQL driver is not (libqt6sql6-psql)");
        QVERIFY2(
            m_pg->start(),
            qPrintable(QStringLiteral("PostgreSQL test server did not start: ") + m_pg->error()));
        m_pgReady = true;
    }

    void cleanupTestCase() { m_pg.reset(); }

    void initTestCase_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }

    void init()
    {
        QFETCH_GLOBAL(QString, backend);
        if (backend == QLatin1String("postgres") && !m_pgReady)
            QSKIP(qPrintable(m_pgProblem));
    }

    void contentHashOfARelativeFolderEqualsTheAbsoluteOne()
    {
        const QString folder = m_dir.filePath(QStringLiteral("hashed"));
        QVERIFY(QDir().mkpath(folder + QStringLiteral("/sub")));
        const auto put = [&](const QString &name, const QByteArray &text) {
            QFile file(folder + QLatin1Char('/') + name);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(text);
        };
        put(QStringLiteral("a.txt"), "one");
        put(QStringLiteral("sub/b.txt"), "two");
        const QString absolute = StudyStore::contentHash(folder);
        const QString previous = QDir::currentPath();
        QVERIFY(QDir::setCurrent(m_dir.path()));
        QString relative;
        try {
            relative = StudyStore::contentHash(QStringLiteral("hashed"));
        } catch (const std::exception &error) {
            relative = QString::fromUtf8(error.what());
        }
        QVERIFY(QDir::setCurrent(previous));
        QCOMPARE(relative, absolute);
        put(QStringLiteral("sub/b.txt"), "three");
        QVERIFY(StudyStore::contentHash(folder) != absolute);
    }

    void createOpenAndMigrate()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation(backend);
        {
            StudyStore store;
            QVERIFY_THROWS_EXCEPTION(InputError, store.open(location)); // not created yet
            store.open(location, true);
            QCOMPARE(store.schemaVersion(), latestSchemaVersion());
            QCOMPARE(store.backend(), backend == QLatin1String("sqlite") ? StudyBackend::Sqlite
                                                                         : StudyBackend::Postgres);
            store.setMeta(QStringLiteral("name"), QStringLiteral("pilot"));
            store.setMeta(QStringLiteral("name"), QStringLiteral("pilot 2"));
            QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
        }
        StudyStore again;
        again.open(location); // migrations are idempotent on an up-to-date study
        QCOMPARE(again.meta(QStringLiteral("name")), QStringLiteral("pilot 2"));
        QVERIFY(!again.meta(QStringLiteral("created_at")).isEmpty());
    }

    void refusesWhatIsNotAStudy()
    {
        QFETCH_GLOBAL(QString, backend);
        if (backend != QLatin1String("sqlite"))
            QSKIP("file checks are SQLite's");
        StudyStore store;
        try {
            store.open(m_dir.filePath(QStringLiteral("missing.sqlite")));
            QFAIL("opened a missing study");
        } catch (const InputError &e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("missing.sqlite")));
        }
        const QString garbage = m_dir.filePath(QStringLiteral("garbage.sqlite"));
        QFile file(garbage);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(4096, 'x'));
        file.close();
        QVERIFY_THROWS_EXCEPTION(InputError, store.open(garbage));
        QVERIFY(!store.isOpen());
    }

    void samplesAndPairsRoundTrip()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const qint64 model =
            store.addModel(QStringLiteral("default"), QStringLiteral("/m"), QStringLiteral("abc"));
        QCOMPARE(
            store.addModel(QStringLiteral("renamed"), QStringLiteral("/n"), QStringLiteral("abc")),
            model); // same content hash, same model
        const qint64 adapter = store.addAdapter(model, QStringLiteral("dpo-1"),
                                                QStringLiteral("/a"), QStringLiteral("def"));
        const qint64 prompt =
            store.addPrompt(QStringLiteral("someone jumps twice"), PromptSource::List);
        SampleInfo in{.promptId = prompt,
                      .modelId = model,
                      .adapterId = adapter,
                      .seed = 1234567890123LL,
                      .temperature = 0.7,
                      .topK = 200,
                      .topP = 0.95,
                      .tokens = {0, 511, 17},
                      .featuresPath = QStringLiteral("features/a.npy"),
                      .features = QByteArray("\x93NUMPY\x00\x01", 8),
                      .origin = QStringLiteral("motionGPT")};
        const qint64 s1 = store.addSample(in);
        const qint64 s2 = store.addSample(SampleInfo{.promptId = prompt, .seed = 2});
        const SampleInfo out = store.sample(s1);
        QCOMPARE(out.seed, in.seed);
        QCOMPARE(out.temperature, 0.7);
        QCOMPARE(out.topK, 200);
        QCOMPARE(out.topP, 0.95);
        QCOMPARE(out.tokens, in.tokens);
        QCOMPARE(out.features, in.features);
        QCOMPARE(out.modelId, std::optional<qint64>(model));
        QCOMPARE(out.adapterId, std::optional<qint64>(adapter));
        QCOMPARE(out.origin, QStringLiteral("motionGPT"));
        QVERIFY(!store.sample(s2).modelId);
        QVERIFY(store.sample(s2).tokens.empty());

        const qint64 pairId = store.addPair(prompt, s1, s2, 2, QStringLiteral("paper-17"));
        const PairInfo pair = store.pair(pairId);
        QCOMPARE(pair.leftSample, 2);
        QCOMPARE(pair.promptText, QStringLiteral("someone jumps twice"));
        QCOMPARE(store.pairByExternalId(QStringLiteral("paper-17"))->id, pairId);
        QVERIFY(!store.pairByExternalId(QStringLiteral("nope")));
        QVERIFY_THROWS_EXCEPTION(InputError, store.addPair(prompt, s1, s1, 1));
        QVERIFY_THROWS_EXCEPTION(InputError, store.addPair(prompt, s1, s2, 3));
        QVERIFY_THROWS_EXCEPTION(std::runtime_error,
                                 store.addPair(prompt, s1, s2, 1, QStringLiteral("paper-17")));
        QVERIFY_THROWS_EXCEPTION(InputError, store.pair(9999));
        QCOMPARE(store.counts().pairs, 1); // the failed inserts left nothing behind
    }

    void labelsAreAppendOnly()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation(backend);
        StudyStore store;
        store.open(location, true);
        const Fixture f = addPairs(store, 2);
        const qint64 pair = f.pairs[0];
        QList<qint64> stored;
        connect(&store, &StudyStore::labelStored, this, [&](qint64 id, qint64) { stored << id; });

        const qint64 first = store.addLabel(
            pair, QStringLiteral("ana"),
            {.choice = Choice::Sample1, .degree = PreferenceDegree::Better, .timeOnTaskMs = 4200});
        const qint64 revised =
            store.addLabel(pair, QStringLiteral("ana"),
                           {.choice = Choice::Sample2, .degree = PreferenceDegree::MuchBetter});
        QCOMPARE(stored, (QList<qint64>{first, revised}));
        auto current = store.currentLabel(pair, QStringLiteral("ana"));
        QVERIFY(current);
        QCOMPARE(current->id, revised);
        QCOMPARE(current->supersedes, std::optional<qint64>(first));
        QCOMPARE(current->choice, std::optional<Choice>(Choice::Sample2));
        QCOMPARE(current->degree, std::optional<PreferenceDegree>(PreferenceDegree::MuchBetter));

        const qint64 undo = store.retractLabel(pair, QStringLiteral("ana"));
        QVERIFY(!store.currentLabel(pair, QStringLiteral("ana")));
        QVERIFY(!store.currentLabel(pair));
        QVERIFY_THROWS_EXCEPTION(InputError, store.retractLabel(pair, QStringLiteral("ana")));
        const auto history = store.labelHistory(pair);
        QCOMPARE(history.size(), std::size_t(3));
        QCOMPARE(history[0].timeOnTaskMs, 4200);
        QVERIFY(history[2].retracted);
        QCOMPARE(history[2].id, undo);
        QCOMPARE(history[2].supersedes, std::optional<qint64>(revised));

        // Labeling again after an undo supersedes the retraction row.
        const qint64 again =
            store.addLabel(pair, QStringLiteral("ana"),
                           {.choice = Choice::Skipped, .skipReason = SkipReason::BothBad});
        QCOMPARE(store.currentLabel(pair)->id, again);
        QCOMPARE(store.currentLabel(pair)->skipReason, SkipReason::BothBad);
        QVERIFY(!store.currentLabel(pair)->degree);
        QCOMPARE(store.currentLabel(pair)->supersedes, std::optional<qint64>(undo));

        // The database itself refuses to rewrite history.
        {
            QSqlDatabase raw = rawConnection(location, QStringLiteral("raw"));
            QVERIFY(raw.open());
            QSqlQuery query(raw);
            QVERIFY(!query.exec(QStringLiteral("UPDATE labels SET choice = 'sample_1'")));
            QVERIFY(query.lastError().text().contains(QLatin1String("append-only")));
            QVERIFY(!query.exec(QStringLiteral("DELETE FROM labels")));
            QVERIFY(query.exec(QStringLiteral("SELECT COUNT(*) FROM labels")) && query.next());
            QCOMPARE(query.value(0).toInt(), 4);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw"));
    }

    // One signal per label for the Label panel; one studyChanged for a batch such as an import.
    void signalsFollowCommits()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const Fixture f = addPairs(store, 3);
        QSignalSpy stored(&store, &StudyStore::labelStored);
        QSignalSpy retracted(&store, &StudyStore::labelRetracted);
        QSignalSpy changed(&store, &StudyStore::studyChanged);
        QSignalSpy assigned(&store, &StudyStore::pairAssigned);
        store.addShownLabel(f.pairs[0], QStringLiteral("ana"), ShownChoice::Left,
                            PreferenceDegree::MuchBetter);
        store.retractLabel(f.pairs[0], QStringLiteral("ana"));
        store.assignNextPair(QStringLiteral("ana"));
        QCOMPARE(stored.count(), 1);
        QCOMPARE(retracted.count(), 1);
        QCOMPARE(assigned.count(), 1);
        QCOMPARE(changed.count(), 0);
        store.runInTransaction([&] {
            for (qint64 pair : f.pairs)
                store.addLabel(pair, QStringLiteral("bo"), {.choice = Choice::Unsure});
            QCOMPARE(stored.count(), 1); // nothing announced before the commit
        });
        QCOMPARE(stored.count(), 1);
        QCOMPARE(changed.count(), 1);
        QVERIFY_THROWS_EXCEPTION(InputError, store.runInTransaction([&] {
            store.addLabel(f.pairs[0], QStringLiteral("bo"), {.choice = Choice::Unsure});
            store.retractLabel(f.pairs[1], QStringLiteral("nobody"));
        }));
        QCOMPARE(changed.count(), 1); // a rolled-back batch announces nothing
        QCOMPARE(stored.count(), 1);
    }

    void labelValidation()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const qint64 pair = addPairs(store, 1).pairs[0];
        const QString ana = QStringLiteral("ana");
        QVERIFY_THROWS_EXCEPTION(InputError,
                                 store.addLabel(pair, ana, {.choice = Choice::Sample1}));
        QVERIFY_THROWS_EXCEPTION(InputError, store.addLabel(pair, ana,
                                                            {.choice = Choice::Sample1,
                                                             .degree = PreferenceDegree::Better,
                                                             .skipReason = SkipReason::Identical}));
        QVERIFY_THROWS_EXCEPTION(InputError,
                                 store.addLabel(pair + 100, ana, {.choice = Choice::Unsure}));
        QVERIFY_THROWS_EXCEPTION(InputError,
                                 store.addLabel(pair, QString(), {.choice = Choice::Unsure}));
        QCOMPARE(store.counts().labelRows, 0);
        store.addLabel(pair, ana, {.choice = Choice::Unsure});
        QCOMPARE(store.currentLabel(pair)->degree,
                 std::optional<PreferenceDegree>(PreferenceDegree::Unsure));
    }

    void shownSidesMapToSamples()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const Fixture f = addPairs(store, 2); // pair 0 shows sample 1 left, pair 1 sample 2
        QCOMPARE(store.pair(f.pairs[1]).leftSample, 2);
        store.addShownLabel(f.pairs[0], QStringLiteral("ana"), ShownChoice::Left,
                            PreferenceDegree::SlightlyBetter);
        store.addShownLabel(f.pairs[1], QStringLiteral("ana"), ShownChoice::Left,
                            PreferenceDegree::SlightlyBetter, SkipReason::None, 900);
        QCOMPARE(*store.currentLabel(f.pairs[0])->choice, Choice::Sample1);
        QCOMPARE(*store.currentLabel(f.pairs[1])->choice, Choice::Sample2);
        QCOMPARE(store.currentLabel(f.pairs[1])->timeOnTaskMs, 900);
        QCOMPARE(choiceFromShown(ShownChoice::Right, 2), Choice::Sample1);
        QCOMPARE(choiceFromShown(ShownChoice::Skip, 1), Choice::Skipped);
    }

    void currentLabelPerPairAcrossLabelers()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const Fixture f = addPairs(store, 2);
        const qint64 pair = f.pairs[0];
        const qint64 ana =
            store.addLabel(pair, QStringLiteral("ana"),
                           {.choice = Choice::Sample1, .degree = PreferenceDegree::MuchBetter});
        const qint64 bo =
            store.addLabel(pair, QStringLiteral("bo"),
                           {.choice = Choice::Sample2, .degree = PreferenceDegree::Better});
        QCOMPARE(store.currentLabel(pair)->id, bo); // the newest counts, as chosen[-1]
        store.retractLabel(pair, QStringLiteral("bo"));
        QCOMPARE(store.currentLabel(pair)->id, ana);
        QCOMPARE(store.currentLabels().size(), std::size_t(1));
        QCOMPARE(store.labelers(), (QStringList{QStringLiteral("ana"), QStringLiteral("bo")}));
        const StudyCounts counts = store.counts();
        QCOMPARE(counts.labeledPairs, 1);
        QCOMPARE(counts.labelRows, 3);
        QCOMPARE(counts.labelers, 1);
        QCOMPARE(counts.pairs, 2);
        QCOMPARE(counts.samples, 4);
    }

    void transactionsAreAllOrNothing()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        QVERIFY_THROWS_EXCEPTION(InputError, store.runInTransaction([&] {
            store.addPrompt(QStringLiteral("kept?"), PromptSource::Typed);
            store.addPrompt(QString(), PromptSource::Typed); // throws
        }));
        // A swallowed inner failure still aborts the outer transaction.
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, store.runInTransaction([&] {
            store.addPrompt(QStringLiteral("kept?"), PromptSource::Typed);
            try {
                store.pair(42);
                store.addPair(1, 1, 1, 1);
            } catch (const InputError &) {
            }
            try {
                store.addSample(SampleInfo{.promptId = 999}); // foreign key violation
            } catch (const std::runtime_error &) {
            }
        }));
        QCOMPARE(store.counts().prompts, 0);
        QCOMPARE(store.counts().samples, 0);
        store.addPrompt(QStringLiteral("stored"), PromptSource::Generated);
        QCOMPARE(store.prompts().size(), std::size_t(1));
        QCOMPARE(store.prompts()[0].source, PromptSource::Generated);
    }

    void assignmentResumesAndReclaims()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const Fixture f = addPairs(store, 3);
        const auto first = store.assignNextPair(QStringLiteral("ana"));
        QVERIFY(first);
        QCOMPARE(first->id, f.pairs[0]);
        QCOMPARE(first->assignedTo, QStringLiteral("ana"));
        QCOMPARE(store.assignNextPair(QStringLiteral("ana"))->id, f.pairs[0]); // resume
        QCOMPARE(store.assignNextPair(QStringLiteral("bo"))->id, f.pairs[1]);
        store.addLabel(f.pairs[0], QStringLiteral("ana"), {.choice = Choice::Unsure});
        QCOMPARE(store.assignNextPair(QStringLiteral("ana"))->id, f.pairs[2]);
        QVERIFY(!store.assignNextPair(QStringLiteral("cy"))); // all held or labeled
        // bo went away: with a negative reclaim time every held pair counts as stale.
        QCOMPARE(store.assignNextPair(QStringLiteral("cy"), -1000)->id, f.pairs[1]);
        store.releaseAssignment(f.pairs[1], QStringLiteral("cy"));
        QVERIFY(store.pair(f.pairs[1]).assignedTo.isEmpty());
        // An undone label puts the pair back in the pool.
        store.retractLabel(f.pairs[0], QStringLiteral("ana"));
        QCOMPARE(store.assignNextPair(QStringLiteral("ana"))->id, f.pairs[0]);
    }

    // Several labelers (each its own connection, as separate processes would be) draw pairs at
    // once: every pair is handed out exactly once and none is lost.
    void concurrentAssignment()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation(backend);
        constexpr int kPairs = 80;
        constexpr int kLabelers = 4;
        {
            StudyStore store;
            store.open(location, true);
            addPairs(store, kPairs);
        }
        std::mutex mutex;
        std::map<qint64, QString> handedTo;
        QStringList errors;
        int duplicates = 0;
        std::vector<std::thread> threads;
        std::latch ready(kLabelers);
        for (int t = 0; t < kLabelers; ++t) {
            threads.emplace_back([&, t] {
                const QString labeler = QStringLiteral("labeler%1").arg(t);
                bool arrived = false;
                try {
                    StudyStore store;
                    store.open(location);
                    arrived = true;
                    ready.arrive_and_wait(); // all start drawing at the same moment
                    while (auto pair = store.assignNextPair(labeler)) {
                        {
                            std::lock_guard lock(mutex);
                            if (!handedTo.emplace(pair->id, labeler).second)
                                ++duplicates;
                        }
                        store.addShownLabel(pair->id, labeler, ShownChoice::Right,
                                            PreferenceDegree::Better);
                        // A person takes seconds per pair; a short pause lets the others in
                        // (SQLite's busy wait would otherwise let one writer run away).
                        std::this_thread::sleep_for(std::chrono::milliseconds(3));
                    }
                } catch (const std::exception &e) {
                    if (!arrived)
                        ready.count_down(); // never leave the others waiting
                    std::lock_guard lock(mutex);
                    errors << QString::fromUtf8(e.what());
                }
            });
        }
        for (auto &thread : threads)
            thread.join();
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(QLatin1Char('\n'))));
        QCOMPARE(duplicates, 0);
        QCOMPARE(int(handedTo.size()), kPairs);
        StudyStore store;
        store.open(location);
        QCOMPARE(store.counts().labeledPairs, kPairs);
        QCOMPARE(store.counts().labelRows, kPairs); // one label each: nobody got a pair twice
        std::set<QString> who;
        for (const auto &[pair, labeler] : handedTo)
            who.insert(labeler);
        QVERIFY(who.size() >= 2); // the work was really shared
    }

    // The same with separate processes (fork, each opening its own connection), which is how
    // several labelers' applications meet on one study.
    void concurrentAssignmentAcrossProcesses()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation(backend);
        constexpr int kPairs = 60;
        constexpr int kLabelers = 4;
        {
            StudyStore store;
            store.open(location, true);
            addPairs(store, kPairs);
        }
        std::vector<std::pair<pid_t, int>> children;
        for (int t = 0; t < kLabelers; ++t) {
            int fds[2];
            QVERIFY(::pipe(fds) == 0);
            const pid_t pid = ::fork();
            if (pid == 0) {
                ::close(fds[0]);
                int code = 0;
                try {
                    const QString labeler = QStringLiteral("process%1").arg(t);
                    StudyStore store;
                    store.open(location);
                    while (auto pair = store.assignNextPair(labeler)) {
                        const QByteArray line = QByteArray::number(pair->id) + '\n';
                        if (::write(fds[1], line.constData(), size_t(line.size())) < 0)
                            code = 4;
                        store.addShownLabel(pair->id, labeler, ShownChoice::Left,
                                            PreferenceDegree::MuchBetter);
                        ::usleep(3000); // as in concurrentAssignment
                    }
                } catch (const std::exception &e) {
                    std::fprintf(stderr, "labeler process: %s\n", e.what());
                    code = 3;
                }
                ::_exit(code); // no exit handlers of the test in the child
            }
            QVERIFY(pid > 0);
            ::close(fds[1]);
            children.emplace_back(pid, fds[0]);
        }
        std::map<qint64, int> handedOut;
        std::set<int> busy;
        for (auto [pid, fd] : children) {
            QByteArray out;
            char buffer[4096];
            ssize_t n = 0;
            while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
                out.append(buffer, n);
            ::close(fd);
            int status = 0;
            ::waitpid(pid, &status, 0);
            QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                     qPrintable(QStringLiteral("labeler process failed, status %1").arg(status)));
            for (const QByteArray &line : out.split('\n')) {
                if (!line.isEmpty()) {
                    ++handedOut[line.toLongLong()];
                    busy.insert(pid);
                }
            }
        }
        QCOMPARE(int(handedOut.size()), kPairs);
        for (const auto &[pair, times] : handedOut)
            QCOMPARE(times, 1);
        QVERIFY(busy.size() >= 2);
        StudyStore store;
        store.open(location);
        QCOMPARE(store.counts().labelRows, kPairs);
    }

    // Schema v3 (issue 22): gold and repeat pairs stay out of the data and of the free pool;
    // reason tags and the watched-both flag are stored with a label and are append-only.
    void checkPairsTagsAndWatchedBoth()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation(backend);
        StudyStore store;
        store.open(location, true);
        const Fixture f = addPairs(store, 2);
        const PairInfo base = store.pair(f.pairs[0]);
        QCOMPARE(base.kind, PairKind::Normal);
        QVERIFY_THROWS_EXCEPTION(InputError, store.addCheckPair({.kind = PairKind::Gold,
                                                                 .promptId = f.prompt,
                                                                 .sample1Id = base.sample1Id,
                                                                 .sample2Id = base.sample2Id,
                                                                 .goldExpected = 999999}));
        const qint64 gold = store.addCheckPair({.kind = PairKind::Gold,
                                                .promptId = f.prompt,
                                                .sample1Id = base.sample1Id,
                                                .sample2Id = base.sample2Id,
                                                .leftSample = 2,
                                                .goldExpected = base.sample2Id,
                                                .assignedTo = QStringLiteral("ana")});
        const qint64 repeat = store.addCheckPair({.kind = PairKind::Repeat,
                                                  .promptId = f.prompt,
                                                  .sample1Id = base.sample1Id,
                                                  .sample2Id = base.sample2Id,
                                                  .leftSample = 3 - base.leftSample,
                                                  .repeatsPair = base.id,
                                                  .assignedTo = QStringLiteral("bo")});
        QVERIFY_THROWS_EXCEPTION(InputError, store.addCheckPair({.kind = PairKind::Repeat,
                                                                 .promptId = f.prompt,
                                                                 .sample1Id = base.sample1Id,
                                                                 .sample2Id = base.sample2Id,
                                                                 .repeatsPair = gold}));
        QCOMPARE(store.pair(gold).kind, PairKind::Gold);
        QCOMPARE(store.pair(gold).goldExpected, std::optional<qint64>(base.sample2Id));
        QCOMPARE(store.pair(gold).assignedTo, QStringLiteral("ana"));
        QCOMPARE(store.pair(repeat).repeatsPair, std::optional<qint64>(base.id));
        QCOMPARE(store.pairs().size(), std::size_t(2)); // the data: normal pairs only
        QCOMPARE(store.checkPairs().size(), std::size_t(2));
        QCOMPARE(store.counts().pairs, 2);
        // The labeler for whom a check pair was made gets it; nobody else ever does.
        QCOMPARE(store.assignNextPair(QStringLiteral("ana"))->id, gold);
        QCOMPARE(store.assignNextPair(QStringLiteral("cy"))->id, f.pairs[0]);
        QCOMPARE(store.assignNextPair(QStringLiteral("dee"), -1000)->id, f.pairs[0]);

        store.addLabel(gold, QStringLiteral("ana"),
                       {.choice = Choice::Sample2,
                        .degree = PreferenceDegree::MuchBetter,
                        .watchedBoth = true});
        QVERIFY_THROWS_EXCEPTION(InputError, store.addLabel(f.pairs[0], QStringLiteral("ana"),
                                                            {.choice = Choice::Sample1,
                                                             .degree = PreferenceDegree::Better,
                                                             .tags = {ReasonTag::Jitter}}));
        const qint64 skip = store.addShownLabel(
            f.pairs[0], QStringLiteral("ana"), ShownChoice::Skip, std::nullopt, SkipReason::BothBad,
            1200, {}, nullptr, {ReasonTag::TooShort, ReasonTag::Jitter, ReasonTag::Jitter}, false);
        const auto current = store.currentLabel(f.pairs[0], QStringLiteral("ana"));
        QVERIFY(current);
        QCOMPARE(current->id, skip);
        QCOMPARE(current->tags, (std::vector<ReasonTag>{ReasonTag::Jitter, ReasonTag::TooShort}));
        QCOMPARE(current->watchedBoth, std::optional<bool>(false));
        // The data's labels leave the gold pair out; every kind together holds it.
        QCOMPARE(store.currentLabels().size(), std::size_t(1));
        QCOMPARE(store.currentLabels(PairKind::Gold).size(), std::size_t(1));
        QCOMPARE(store.currentLabels(PairKind::Gold).front().watchedBoth,
                 std::optional<bool>(true));
        QCOMPARE(store.currentLabels(std::nullopt).size(), std::size_t(2));
        QCOMPARE(store.counts().labeledPairs, 1);
        {
            QSqlDatabase raw = rawConnection(location, QStringLiteral("raw_tags"));
            QVERIFY(raw.open());
            QSqlQuery query(raw);
            QVERIFY(!query.exec(QStringLiteral("UPDATE label_tags SET tag = 'jitter'")));
            QVERIFY(query.lastError().text().contains(QLatin1String("append-only")));
            QVERIFY(!query.exec(QStringLiteral("DELETE FROM label_tags")));
            QVERIFY(!query.exec(QStringLiteral("UPDATE labels SET watched_both = 1")));
            QVERIFY(query.exec(QStringLiteral("SELECT COUNT(*) FROM label_tags")) && query.next());
            QCOMPARE(query.value(0).toInt(), 2);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw_tags"));
    }

    // A study made by a version-2 build (labels in it) opens, migrates to the latest version
    // and keeps its labels: they read as normal pairs with no watched-both record.
    void migratesAVersion2Study()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation(backend);
        {
            QSqlDatabase raw = rawConnection(location, QStringLiteral("raw_v2"));
            QVERIFY(raw.open());
            if (backend == QLatin1String("sqlite"))
                QVERIFY(QSqlQuery(raw).exec(QStringLiteral("PRAGMA foreign_keys=ON")));
            SqlDialect dialect{backend == QLatin1String("sqlite") ? StudyBackend::Sqlite
                                                                  : StudyBackend::Postgres};
            migrateStudy(raw, dialect, 2);
            QCOMPARE(storedSchemaVersion(raw), 2);
            QSqlQuery query(raw);
            for (const char *sql :
                 {"INSERT INTO prompts (text, source, created_at) VALUES ('a man runs', 'typed', "
                  "1)",
                  "INSERT INTO samples (prompt_id, seed, temperature, top_k, top_p, tokens, "
                  "created_at) VALUES (1, 1, 1.0, 0, 1.0, '1 2', 1)",
                  "INSERT INTO samples (prompt_id, seed, temperature, top_k, top_p, tokens, "
                  "created_at) VALUES (1, 2, 1.0, 0, 1.0, '3 4', 1)",
                  "INSERT INTO pairs (prompt_id, sample1_id, sample2_id, left_sample, created_at) "
                  "VALUES (1, 1, 2, 2, 1)",
                  "INSERT INTO labels (pair_id, labeler, choice, degree, created_at) VALUES "
                  "(1, 'ana', 'sample_2', 2, 1)"})
                QVERIFY2(query.exec(QString::fromLatin1(sql)),
                         qPrintable(query.lastError().text()));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw_v2"));
        StudyStore store;
        store.open(location);
        QCOMPARE(store.schemaVersion(), latestSchemaVersion());
        QCOMPARE(store.pairs().size(), std::size_t(1));
        QCOMPARE(store.pairs().front().kind, PairKind::Normal);
        const auto labels = store.currentLabels();
        QCOMPARE(labels.size(), std::size_t(1));
        QCOMPARE(labels.front().choice, std::optional<Choice>(Choice::Sample2));
        QVERIFY(!labels.front().watchedBoth);
        QVERIFY(labels.front().tags.empty());
        store.addLabel(1, QStringLiteral("bo"),
                       {.choice = Choice::Skipped,
                        .skipReason = SkipReason::BothBad,
                        .tags = {ReasonTag::FootSkating}});
        QCOMPARE(store.currentLabel(1)->tags, std::vector<ReasonTag>{ReasonTag::FootSkating});
    }

    void splitsAreSavedInOrder()
    {
        QFETCH_GLOBAL(QString, backend);
        StudyStore store;
        store.open(freshLocation(backend), true);
        const Fixture f = addPairs(store, 5);
        SavedSplit split{.name = QStringLiteral("dpo"),
                         .seed = 2222,
                         .testFraction = 0.2,
                         .train = {f.pairs[4], f.pairs[0], f.pairs[2], f.pairs[1]},
                         .test = {f.pairs[3]}};
        store.saveSplit(split);
        const auto loaded = store.loadSplit(QStringLiteral("dpo"));
        QVERIFY(loaded);
        QCOMPARE(loaded->train, split.train);
        QCOMPARE(loaded->test, split.test);
        QCOMPARE(loaded->seed, 2222);
        QVERIFY_THROWS_EXCEPTION(InputError, store.saveSplit(split));
        split.test = {f.pairs[1]};
        split.train = {f.pairs[0]};
        store.saveSplit(split, true);
        QCOMPARE(store.loadSplit(QStringLiteral("dpo"))->train.size(), std::size_t(1));
        QCOMPARE(store.splitNames(), QStringList{QStringLiteral("dpo")});
        QVERIFY(!store.loadSplit(QStringLiteral("rm")));
    }
};

QTEST_GUILESS_MAIN(StudyStoreTest)
#include "study_store_test.moc"
