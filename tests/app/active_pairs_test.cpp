// Active pair selection and online rounds in the study (issue 21), on SQLite and on a private
// PostgreSQL server: schema v4/v5 (pair_selections and rounds, append-only), a version-3 study
// migrating with its labels, the study's selection settings, and a pair chosen by the margin
// rule stored with its record.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "tiny_bundle.h"

#include "app/study/active_pairs.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "pg_test_server.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <cmath>
#include <memory>

using namespace mp;

namespace {

// Rewards given in advance, whatever the motions: the pick is known.
class FixedScorer : public CandidateScorer {
public:
    std::vector<double> rewards;
    std::vector<double>
    implicitRewards(const std::string &,
                    const std::vector<std::vector<std::int64_t>> &codes) override
    {
        if (codes.size() != rewards.size())
            throw std::runtime_error("FixedScorer: unexpected number of candidates");
        return rewards;
    }
    std::vector<float> promptEmbedding(const std::string &) override { return {1.0f, 0.0f}; }
    std::vector<std::vector<double>> members; // [member][candidate], the ensemble rule's
    std::vector<std::vector<double>>
    memberRewards(const std::string &, const std::vector<std::vector<std::int64_t>> &codes) override
    {
        for (const auto &row : members)
            if (row.size() != codes.size())
                throw std::runtime_error("FixedScorer: unexpected number of candidates");
        return members;
    }
};

} // namespace

class ActivePairsTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<test::PgTestServer> m_pg;
    bool m_pgReady = false;
    QString m_pgProblem;
    int m_counter = 0;
    std::unique_ptr<ModelBundle> m_bundle;
    ModelIdentity m_model;

    QString freshLocation()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString name = QStringLiteral("active_%1").arg(++m_counter);
        if (backend == QLatin1String("sqlite"))
            return m_dir.filePath(name + QStringLiteral(".sqlite"));
        return m_pg->createDatabase(name);
    }

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

    static qint64 addPair(StudyStore &store)
    {
        const qint64 prompt =
            store.addPrompt(QStringLiteral("a person jumps"), PromptSource::Typed);
        const qint64 a = store.addSample({.promptId = prompt, .seed = 1, .tokens = {1, 2}});
        const qint64 b = store.addSample({.promptId = prompt, .seed = 2, .tokens = {3, 4}});
        return store.addPair(prompt, a, b, 1);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto dir = test::writeTinyBundle(m_dir.filePath(QStringLiteral("b")).toStdString());
        m_bundle = std::make_unique<ModelBundle>(dir);
        m_model = ModelIdentity::ofDirectory(QString::fromStdString(dir.string()));
        m_pg = std::make_unique<test::PgTestServer>();
        if (!m_pg->binariesFound()) {
            m_pgProblem = QStringLiteral("PostgreSQL server binaries not installed "
                                         "(packaging/install-deps.sh --with-postgres)");
            return;
        }
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

    void selectionsAndRoundsAreStoredAndAppendOnly()
    {
        const QString location = freshLocation();
        {
            StudyStore store;
            store.open(location, true);
            QCOMPARE(store.schemaVersion(), latestSchemaVersion());
            const qint64 pair = addPair(store);
            QVERIFY(!store.pairSelection(pair));
            store.addPairSelection({.pairId = pair,
                                    .rule = PairRule::Margin,
                                    .candidates = 4,
                                    .diversity = 0.5,
                                    .beta = 0.1,
                                    .margin = -0.06,
                                    .score = -0.31,
                                    .similarity = 0.5});
            const auto read = store.pairSelection(pair);
            QVERIFY(read);
            QCOMPARE(read->rule, PairRule::Margin);
            QCOMPARE(read->candidates, 4);
            QCOMPARE(read->diversity, 0.5);
            QCOMPARE(*read->beta, 0.1);
            QCOMPARE(*read->margin, -0.06);
            QCOMPARE(*read->score, -0.31);
            QCOMPARE(*read->similarity, 0.5);
            QVERIFY(read->createdAtMs > 0);
            // One record per pair; K outside 2..8 is refused before the database.
            QVERIFY_THROWS_EXCEPTION(std::runtime_error, store.addPairSelection({.pairId = pair}));
            QVERIFY_THROWS_EXCEPTION(InputError,
                                     store.addPairSelection({.pairId = pair, .candidates = 9}));

            QCOMPARE(store.lastLabelId(), qint64(0));
            const qint64 label =
                store.addLabel(pair, QStringLiteral("ana"),
                               {.choice = Choice::Sample1, .degree = PreferenceDegree::Better});
            QCOMPARE(store.lastLabelId(), label);
            const qint64 adapter =
                store.addAdapter(std::nullopt, QStringLiteral("round-1"),
                                 QStringLiteral("/runs/r1/best"), QStringLiteral("hash1"));
            QVERIFY_THROWS_EXCEPTION(InputError,
                                     store.addRound({.round = 2, .adapterId = adapter}));
            store.addRound({.round = 1,
                            .adapterId = adapter,
                            .trainedLabels = 1,
                            .trainedThroughLabel = label,
                            .runDir = QStringLiteral("/runs/r1"),
                            .trainingStartedAtMs = 5});
            QVERIFY_THROWS_EXCEPTION(InputError,
                                     store.addRound({.round = 1, .adapterId = adapter}));
            const auto rounds = store.rounds();
            QCOMPARE(rounds.size(), std::size_t(1));
            QCOMPARE(rounds[0].adapterId, adapter);
            QCOMPARE(rounds[0].trainedLabels, 1);
            QCOMPARE(*rounds[0].trainedThroughLabel, label);
            QCOMPARE(rounds[0].runDir, QStringLiteral("/runs/r1"));
            QCOMPARE(rounds[0].trainingStartedAtMs, qint64(5));
        }
        {
            QSqlDatabase raw = rawConnection(location, QStringLiteral("raw_v4"));
            QVERIFY(raw.open());
            QSqlQuery query(raw);
            QVERIFY(!query.exec(QStringLiteral("UPDATE pair_selections SET score = 0")));
            QVERIFY(!query.exec(QStringLiteral("DELETE FROM pair_selections")));
            QVERIFY(!query.exec(QStringLiteral("UPDATE rounds SET trained_labels = 7")));
            QVERIFY(!query.exec(QStringLiteral("DELETE FROM rounds")));
            QVERIFY(query.exec(QStringLiteral("SELECT COUNT(*) FROM pair_selections")) &&
                    query.next());
            QCOMPARE(query.value(0).toInt(), 1);
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw_v4"));
    }

    // A study made by a version-3 build opens, migrates and keeps its pairs and labels; its
    // pairs have no selection record (how they were chosen is not known). One made by a
    // version-4 build keeps its selection records through version 5 (rule 'ensemble' allowed,
    // the table made again, still append-only).
    void migratesAVersion3Study()
    {
        QFETCH_GLOBAL(QString, backend);
        const QString location = freshLocation();
        {
            QSqlDatabase raw = rawConnection(location, QStringLiteral("raw_v3"));
            QVERIFY(raw.open());
            if (backend == QLatin1String("sqlite"))
                QVERIFY(QSqlQuery(raw).exec(QStringLiteral("PRAGMA foreign_keys=ON")));
            SqlDialect dialect{backend == QLatin1String("sqlite") ? StudyBackend::Sqlite
                                                                  : StudyBackend::Postgres};
            migrateStudy(raw, dialect, 3);
            QCOMPARE(storedSchemaVersion(raw), 3);
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
            // Version 4 (pair_selections with rules random and margin): a second pair chosen
            // by the margin rule, whose record must survive version 5's remade table.
            migrateStudy(raw, dialect, 4);
            for (const char *sql :
                 {"INSERT INTO pairs (prompt_id, sample1_id, sample2_id, left_sample, created_at) "
                  "VALUES (1, 2, 1, 1, 2)",
                  "INSERT INTO pair_selections (pair_id, rule, candidates, diversity, beta, "
                  "margin, score, created_at) VALUES (2, 'margin', 4, 0, 0.1, -0.06, -0.06, 2)"})
                QVERIFY2(query.exec(QString::fromLatin1(sql)),
                         qPrintable(query.lastError().text()));
            QVERIFY(!query.exec(QStringLiteral("INSERT INTO pair_selections (pair_id, rule, "
                                               "candidates, created_at) VALUES (1, 'ensemble', "
                                               "4, 2)")));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw_v3"));
        {
            StudyStore store;
            store.open(location);
            QCOMPARE(store.schemaVersion(), latestSchemaVersion());
            QCOMPARE(store.pairs().size(), std::size_t(2));
            QCOMPARE(store.currentLabels().size(), std::size_t(1));
            QVERIFY(!store.pairSelection(1));
            const auto kept = store.pairSelection(2);
            QVERIFY(kept);
            QCOMPARE(kept->rule, PairRule::Margin);
            QCOMPARE(*kept->margin, -0.06);
            QCOMPARE(kept->createdAtMs, qint64(2));
            store.addPairSelection(
                {.pairId = 1, .rule = PairRule::Ensemble, .candidates = 4, .score = 0.18});
            QCOMPARE(store.pairSelection(1)->rule, PairRule::Ensemble);
        }
        {
            // The remade table is append-only as before.
            QSqlDatabase raw = rawConnection(location, QStringLiteral("raw_v5"));
            QVERIFY(raw.open());
            QSqlQuery query(raw);
            QVERIFY(!query.exec(QStringLiteral("UPDATE pair_selections SET score = 0")));
            QVERIFY(!query.exec(QStringLiteral("DELETE FROM pair_selections")));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("raw_v5"));
        StudyStore store;
        store.open(location);
        QCOMPARE(store.pairSelection(1)->rule, PairRule::Ensemble);
        QVERIFY(store.rounds().empty());
        QCOMPARE(pairSelectionSettings(store), PairSelectionSettings{});
    }

    void settingsRoundTripAndBadValuesAreNamed()
    {
        StudyStore store;
        store.open(freshLocation(), true);
        QCOMPARE(pairSelectionSettings(store).rule, PairRule::Random);
        QCOMPARE(pairSelectionSettings(store).candidates, 2);
        const PairSelectionSettings margin{
            .rule = PairRule::Margin, .candidates = 6, .diversity = 0.25, .beta = 0.5};
        setPairSelectionSettings(store, margin);
        QCOMPARE(pairSelectionSettings(store), margin);
        QVERIFY_THROWS_EXCEPTION(InputError, setPairSelectionSettings(store, {.candidates = 1}));
        QVERIFY_THROWS_EXCEPTION(InputError, setPairSelectionSettings(store, {.diversity = -1}));
        QVERIFY_THROWS_EXCEPTION(InputError, setPairSelectionSettings(store, {.beta = 0}));
        QCOMPARE(pairSelectionSettings(store), margin); // nothing changed
        const PairSelectionSettings ensemble{.rule = PairRule::Ensemble, .candidates = 3};
        setPairSelectionSettings(store, ensemble);
        QCOMPARE(pairSelectionSettings(store), ensemble);
        QVERIFY(describe(ensemble).contains(QStringLiteral("ensemble")));
        store.setMeta(QStringLiteral("pair_rule"), QStringLiteral("committee"));
        try {
            pairSelectionSettings(store);
            QFAIL("an unknown rule was read");
        } catch (const InputError &error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(message.contains(QStringLiteral("pair_rule")) &&
                         message.contains(QStringLiteral("committee")) &&
                         message.contains(QStringLiteral("random, margin, ensemble")),
                     qPrintable(message));
        }
    }

    // K = 4 candidates with rewards 0.9, -0.5, 0.3, 0.36: the pair shown is candidates 2 and 3
    // (margin -0.06), their seeds are the stored samples' seeds, and the record is stored.
    void marginPairIsStoredWithItsRecord()
    {
        StudyStore store;
        store.open(freshLocation(), true);
        FixedScorer scorer;
        scorer.rewards = {0.9, -0.5, 0.3, 0.36};
        PairRequest request;
        request.prompt = QStringLiteral("a person walks forward");
        request.seeds = {11, 12};
        const PairSelectionSettings settings{.rule = PairRule::Margin, .candidates = 4};
        SelectionState state;
        const SelectedPair selected =
            generateSelectedPair(*m_bundle, scorer, {request}, settings, state);
        QCOMPARE(selected.pair.request.seeds[0], std::uint64_t(11 + 7919 * 2));
        QCOMPARE(selected.pair.request.seeds[1], std::uint64_t(11 + 7919 * 3));
        // The candidates are the samples plain generation gives for those seeds.
        PairRequest plain = request;
        plain.seeds = selected.pair.request.seeds;
        const GeneratedPair again = generatePair(*m_bundle, plain);
        QCOMPARE(again.samples[0].codes, selected.pair.samples[0].codes);
        QCOMPARE(again.samples[1].codes, selected.pair.samples[1].codes);

        const StoredPair stored = storePair(store, selected.pair, m_model);
        const auto record = store.pairSelection(stored.pairId);
        QVERIFY(record);
        QCOMPARE(record->rule, PairRule::Margin);
        QCOMPARE(record->candidates, 4);
        QVERIFY(std::abs(*record->margin + 0.06) < 1e-9);
        QVERIFY(std::abs(*record->score + 0.06) < 1e-9);
        QCOMPARE(*record->beta, 0.1);
        QVERIFY(!record->similarity);
        QCOMPARE(store.sample(stored.sampleIds[0]).seed, qint64(11 + 7919 * 2));
        // A plain pair records "random of 2", no score.
        const StoredPair plainStored = storePair(store, again, m_model);
        const auto plainRecord = store.pairSelection(plainStored.pairId);
        QVERIFY(plainRecord);
        QCOMPARE(plainRecord->rule, PairRule::Random);
        QCOMPARE(plainRecord->candidates, 2);
        QVERIFY(!plainRecord->score);
        // With the tiny model's own scorer (no adapter: every reward 0), the margin rule still
        // makes a pair, recorded with margin 0.
        const SelectedPair real = generateSelectedPair(*m_bundle, {request}, settings, state);
        QCOMPARE(*real.pair.selection->margin, 0.0);
    }

    // The ensemble rule: three members over K = 4 candidates disagree most on (1, 3) (+3, -3,
    // +3), agree on the rest; that pair is shown and stored with rule ensemble, its variance as
    // the score and the members' mean difference as the margin. Without an ensemble (round 0)
    // the pair is a random one of the K, recorded with the rule and no score; an ensemble folder
    // that holds none is an error naming ensemble.json.
    void ensemblePairIsStoredWithItsRecord()
    {
        StudyStore store;
        store.open(freshLocation(), true);
        FixedScorer scorer;
        scorer.members = {{0.0, 1.5, 0.0, -1.5}, {0.1, -1.5, 0.1, 1.5}, {0.0, 1.5, 0.0, -1.5}};
        PairRequest request;
        request.prompt = QStringLiteral("a person jumps");
        request.seeds = {21, 22};
        const PairSelectionSettings settings{.rule = PairRule::Ensemble, .candidates = 4};
        SelectionState state;
        state.ensembleDir = "hand-built"; // the scorer is the ensemble here
        const SelectedPair selected =
            generateSelectedPair(*m_bundle, scorer, {request}, settings, state);
        QCOMPARE(selected.pair.request.seeds[0], std::uint64_t(22)); // candidate 1: seeds[1]
        QCOMPARE(selected.pair.request.seeds[1], std::uint64_t(21 + 7919 * 3));
        const StoredPair stored = storePair(store, selected.pair, m_model);
        const auto record = store.pairSelection(stored.pairId);
        QVERIFY(record);
        QCOMPARE(record->rule, PairRule::Ensemble);
        QCOMPARE(record->candidates, 4);
        QVERIFY(!record->beta);
        QVERIFY(std::abs(*record->margin - 1.0) < 1e-9);
        QVERIFY(std::abs(*record->score - ensembleDisagreement(scorer.members, 1, 3)) < 1e-12);
        QVERIFY(*record->score > 0.15);

        SelectionState roundZero; // no ensemble folder: a random pair, no score
        const SelectedPair random =
            generateSelectedPair(*m_bundle, scorer, {request}, settings, roundZero);
        QCOMPARE(random.pair.selection->rule, PairRule::Ensemble);
        QVERIFY(!random.pair.selection->score);

        SelectionState missing;
        missing.ensembleDir = m_dir.filePath(QStringLiteral("no-ensemble")).toStdString();
        try {
            generateSelectedPair(*m_bundle, {request}, settings, missing);
            QFAIL("a folder without an ensemble was used");
        } catch (const InputError &error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(QStringLiteral("ensemble.json")),
                     error.what());
        }
    }
};

QTEST_GUILESS_MAIN(ActivePairsTest)
#include "active_pairs_test.moc"
