#include "app/compare/ab_session.h"
#include "ml/core/error.h"
#include "tests/app/input_error_text.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace mp;
using mp::test::inputError;

namespace {
const AbModelRef kModelA{QStringLiteral("/models/default"), QString()};
const AbModelRef kModelB{QStringLiteral("/models/default"), QStringLiteral("/runs/dpo/best")};

AbSession makeSession(std::uint64_t seed = 7)
{
    AbSessionOptions options;
    options.prompts = {QStringLiteral("a person walks"), QStringLiteral("someone jumps twice")};
    options.temperatures = {0.8, 1.0, 1.2};
    options.seed = seed;
    return AbSession::create(kModelA, kModelB, options);
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    file.open(QIODevice::WriteOnly);
    file.write(content);
    return path;
}
} // namespace

class AbSessionTest : public QObject {
    Q_OBJECT
private slots:
    void everyPromptAtEveryTemperatureWithBalancedSides()
    {
        const AbSession session = makeSession();
        QCOMPARE(session.size(), 6);
        QSet<QString> combinations;
        int aLeft = 0;
        for (const AbTrial &trial : session.trials()) {
            combinations.insert(trial.prompt + QString::number(trial.temperature));
            aLeft += trial.aOnLeft ? 1 : 0;
            QVERIFY(trial.seed < (1ull << 31));
            QVERIFY(!trial.answered());
        }
        QCOMPARE(combinations.size(), 6);
        QCOMPARE(aLeft, 3);
        QCOMPARE(session.nextUnanswered(), 0);
        QCOMPARE(session.lastAnswered(), -1);
    }

    void sameSeedSameSessionOtherSeedOtherOrder()
    {
        const AbSession a = makeSession(7), b = makeSession(7), c = makeSession(8);
        bool differs = false;
        for (int i = 0; i < a.size(); ++i) {
            QCOMPARE(a.trial(i).prompt, b.trial(i).prompt);
            QCOMPARE(a.trial(i).seed, b.trial(i).seed);
            QCOMPARE(a.trial(i).aOnLeft, b.trial(i).aOnLeft);
            differs = differs || a.trial(i).seed != c.trial(i).seed ||
                      a.trial(i).aOnLeft != c.trial(i).aOnLeft;
        }
        QVERIFY(differs);
    }

    void outcomeDependsOnWhichSideWasB()
    {
        AbTrial trial;
        trial.aOnLeft = true;
        trial.answer = AbAnswer::Right;
        QCOMPARE(trial.outcome(), AbOutcome::Win);
        trial.answer = AbAnswer::Left;
        QCOMPARE(trial.outcome(), AbOutcome::Loss);
        trial.aOnLeft = false;
        QCOMPARE(trial.outcome(), AbOutcome::Win);
        trial.answer = AbAnswer::Tie;
        QCOMPARE(trial.outcome(), AbOutcome::Tie);
        trial.answer = AbAnswer::None;
        QCOMPARE(trial.outcome(), AbOutcome::Pending);
    }

    void talliesPerTemperature()
    {
        AbSession session = makeSession();
        // Prefer B on every trial at 0.8, A at 1.2, tie one of the 1.0 trials.
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1000000, Qt::UTC);
        int tied = 0;
        for (int i = 0; i < session.size(); ++i) {
            const AbTrial &trial = session.trial(i);
            const AbAnswer bSide = trial.aOnLeft ? AbAnswer::Right : AbAnswer::Left;
            const AbAnswer aSide = trial.aOnLeft ? AbAnswer::Left : AbAnswer::Right;
            if (sameTemperature(trial.temperature, 0.8))
                session.answer(i, bSide, t0.addSecs(i));
            else if (sameTemperature(trial.temperature, 1.2))
                session.answer(i, aSide, t0.addSecs(i));
            else if (tied++ == 0)
                session.answer(i, AbAnswer::Tie, t0.addSecs(i));
        }
        const AbTally low = session.tally(0.8), mid = session.tally(1.0), high = session.tally(1.2);
        QCOMPARE(low.wins, 2);
        QCOMPARE(low.losses, 0);
        QCOMPARE(low.winRate(), 1.0);
        QCOMPARE(high.losses, 2);
        QCOMPARE(high.lossRate(), 1.0);
        QCOMPARE(mid.ties, 1);
        QCOMPARE(mid.pending, 1);
        QCOMPARE(mid.tieRate(), 1.0);
        const AbTally all = session.total();
        QCOMPARE(all.answered(), 5);
        QCOMPARE(all.total(), 6);
        QCOMPARE(session.answeredCount(), 5);
        QVERIFY(!session.isComplete());
        const int pending = session.nextUnanswered();
        QVERIFY(pending >= 0);
        QVERIFY(!session.trial(pending).answered());
        QCOMPARE(session.lastAnswered(), 5 - (pending == 5 ? 1 : 0));
        session.answer(pending, AbAnswer::Left);
        QVERIFY(session.isComplete());
        QCOMPARE(session.nextUnanswered(), -1);
        QCOMPARE(session.lastAnswered(), pending);
        session.answer(pending, AbAnswer::None); // undo
        QCOMPARE(session.answeredCount(), 5);
    }

    void jsonRoundTrip()
    {
        QTemporaryDir dir;
        AbSession session = makeSession();
        session.setPromptSource(QStringLiteral("prompts.txt"));
        session.answer(0, AbAnswer::Left);
        session.answer(3, AbAnswer::Tie);
        const QString path = dir.filePath(QStringLiteral("ab.json"));
        session.save(path);

        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(json.value("model_b").toObject().value("adapter").toString(), kModelB.adapterDir);
        QVERIFY(json.value("model_a").toObject().value("adapter").isNull());
        const QJsonObject first = json.value("trials").toArray().at(0).toObject();
        QCOMPARE(first.value("answer").toString(), QStringLiteral("left"));
        QCOMPARE(first.value("preferred").toString(),
                 session.trial(0).aOnLeft ? QStringLiteral("A") : QStringLiteral("B"));
        QVERIFY(json.value("trials").toArray().at(1).toObject().value("answer").isNull());

        const AbSession back = AbSession::load(path);
        QCOMPARE(back.size(), session.size());
        QCOMPARE(back.modelA(), kModelA);
        QCOMPARE(back.modelB(), kModelB);
        QCOMPARE(back.temperatures(), session.temperatures());
        QCOMPARE(back.seed(), session.seed());
        QCOMPARE(back.promptSource(), QStringLiteral("prompts.txt"));
        for (int i = 0; i < session.size(); ++i) {
            QCOMPARE(back.trial(i).prompt, session.trial(i).prompt);
            QCOMPARE(back.trial(i).seed, session.trial(i).seed);
            QCOMPARE(back.trial(i).temperature, session.trial(i).temperature);
            QCOMPARE(back.trial(i).aOnLeft, session.trial(i).aOnLeft);
            QCOMPARE(back.trial(i).answer, session.trial(i).answer);
            QCOMPARE(back.trial(i).answeredAt, session.trial(i).answeredAt);
        }
        for (double t : session.temperatures()) {
            QCOMPARE(back.tally(t).wins, session.tally(t).wins);
            QCOMPARE(back.tally(t).ties, session.tally(t).ties);
            QCOMPARE(back.tally(t).losses, session.tally(t).losses);
        }
    }

    void badFilesNameTheFileAndTheProblem_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{\"format\": ") << QString("invalid JSON");
        QTest::newRow("other format")
            << QByteArray("{\"format\": \"x\"}") << QString("not a blind A/B session");
        const QByteArray head = "{\"format\": \"motionpref-ab-session\", \"version\": 1, "
                                "\"model_a\": {\"bundle\": \"a\"}, \"model_b\": {\"bundle\": "
                                "\"b\"}, \"temperatures\": [1.0], \"trials\": [";
        QTest::newRow("bad answer")
            << head + "{\"prompt\": \"p\", \"seed\": 1, \"temperature\": 1.0, \"left\": \"A\", "
                      "\"answer\": \"maybe\"}]}"
            << QString("trial 0: answer must be left, right, tie or null, got 'maybe'");
        QTest::newRow("unlisted temperature")
            << head + "{\"prompt\": \"p\", \"seed\": 1, \"temperature\": 2.0, \"left\": \"A\"}]}"
            << QString("temperature 2 is not among");
        QTest::newRow("bad side")
            << head + "{\"prompt\": \"p\", \"seed\": 1, \"temperature\": 1.0, \"left\": \"C\"}]}"
            << QString("\"left\" must be");
        QTest::newRow("no trials") << head + "]}" << QString("no trials");
        QTest::newRow("no model") << QByteArray("{\"format\": \"motionpref-ab-session\"}")
                                  << QString("model_a: expected an object");
    }

    void badFilesNameTheFileAndTheProblem()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("broken.json"), content);
        const QString message = inputError([&] { AbSession::load(path); });
        QVERIFY2(message.contains(QStringLiteral("broken.json")), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    void createRejectsEmptyAndRepeatedInputs()
    {
        AbSessionOptions options;
        QVERIFY(inputError([&] {
                    AbSession::create(kModelA, kModelB, options);
                }).contains("no prompts"));
        options.prompts = {QStringLiteral("p")};
        options.temperatures = {1.0, 1.0};
        QVERIFY(
            inputError([&] { AbSession::create(kModelA, kModelB, options); }).contains("twice"));
    }

    void promptFiles()
    {
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("prompts.txt"),
                                       "# a comment\n\na person walks\n  000021#someone jumps  \n"
                                       "M004#a man waves\n");
        QCOMPARE(readPromptFile(path),
                 QStringList({"a person walks", "someone jumps", "a man waves"}));
        const QString empty = writeFile(dir, QStringLiteral("empty.txt"), "# nothing\n\n");
        QVERIFY(inputError([&] { readPromptFile(empty); }).contains("empty.txt: no prompts"));
        QVERIFY(inputError([&] {
                    readPromptFile(dir.filePath("missing.txt"));
                }).contains("missing.txt"));
    }

    void temperatures()
    {
        QCOMPARE(parseTemperatures(QStringLiteral("0.8, 1.0 1.2;0")),
                 QList<double>({0.8, 1.0, 1.2, 0.0}));
        QVERIFY(inputError([] {
                    parseTemperatures(QStringLiteral("0.8, warm"));
                }).contains("'warm' is not a number"));
        QVERIFY(inputError([] { parseTemperatures(QStringLiteral("1, 1.0")); }).contains("twice"));
        QVERIFY(inputError([] { parseTemperatures(QStringLiteral("-1")); }).contains("outside"));
        QVERIFY(inputError([] { parseTemperatures(QStringLiteral(" ")); }).contains("none"));
    }
};

QTEST_GUILESS_MAIN(AbSessionTest)
#include "ab_session_test.moc"
