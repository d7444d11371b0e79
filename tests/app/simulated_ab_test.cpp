// Blind A/B sessions rated by a program (app/compare/simulated_ab.h) with the embedded default
// on a small corpus: the rater sees screen order only and its answers map to B's outcomes
// through the trial's sides; the simulated labeler finds the default no different from itself;
// the result is a session file that reloads.
#include "app/compare/compare_model.h"
#include "app/compare/simulated_ab.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/corpus/corpus_builder.h"
#include "tests/app/input_error_text.h"

#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace mp;
using mp::test::inputError;

class SimulatedAbTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_corpus;
    AbModelRef m_default;

    SimulatedAbOptions options(int prompts = 3) const
    {
        SimulatedAbOptions out;
        out.corpusDir = m_corpus;
        out.split = QStringLiteral("train");
        out.prompts = prompts;
        out.temperatures = {0.8, 1.2};
        out.seed = 5;
        return out;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_corpus = m_dir.filePath(QStringLiteral("corpus"));
        corpus::buildCorpus(m_corpus.toStdString(), {.numClips = 30, .seed = 4321, .threads = 1});
        m_default.bundleDir = QString::fromStdString(requireDefaultModelDir().string());
    }

    void answersAreScreenSidesMappedThroughAOnLeft()
    {
        const SimulatedAbRater labeler(m_corpus, QStringLiteral("train"), 2, 5, {});
        AbSession session = AbSession::create(
            m_default, m_default, {.prompts = labeler.prompts(), .temperatures = {0.8, 1.2}});
        QList<int> seen;
        ModelCache models;
        rateAbSession(session, models, [&](const AbScreen &screen) {
            seen << screen.trialIndex;
            const AbTrial &trial = session.trial(screen.trialIndex);
            // The trial's own prompt and temperature, with two generated motions.
            if (screen.prompt != trial.prompt || screen.temperature != trial.temperature ||
                screen.left.clip.empty() || screen.right.clip.empty())
                return AbAnswer::None;
            return AbAnswer::Right;
        });
        QCOMPARE(seen, (QList<int>{0, 1, 2, 3}));
        QVERIFY(session.isComplete());
        int wins = 0;
        for (const AbTrial &trial : session.trials()) {
            QCOMPARE(trial.answer, AbAnswer::Right);
            QCOMPARE(trial.outcome(), trial.aOnLeft ? AbOutcome::Win : AbOutcome::Loss);
            wins += trial.aOnLeft ? 1 : 0;
        }
        QCOMPARE(wins, 2); // balanced sides: the right side is B in half the trials
        QCOMPARE(session.total().wins, 2);
        QCOMPARE(session.total().losses, 2);

        // Answered trials are kept: rating again asks nothing.
        bool asked = false;
        rateAbSession(session, models, [&](const AbScreen &) {
            asked = true;
            return AbAnswer::Left;
        });
        QVERIFY(!asked);
        QCOMPARE(session.total().wins, 2);
    }

    void cancellingKeepsTheAnswersSoFar()
    {
        AbSession session = AbSession::create(
            m_default, m_default, {.prompts = {QStringLiteral("a person walks forward")}});
        ModelCache models;
        QVERIFY_THROWS_EXCEPTION(
            Cancelled,
            rateAbSession(
                session, models, [](const AbScreen &) { return AbAnswer::Tie; },
                [](std::int64_t done, std::int64_t, std::string_view) { return done < 1; }));
        QCOMPARE(session.answeredCount(), 1);
    }

    void theDefaultAgainstItselfIsATieAndTheFileReloads()
    {
        SimulatedAbOptions noiseless = options();
        noiseless.labeler.noiseStd = 0.0;
        int calls = 0;
        const AbSession session =
            runSimulatedAb(m_default, m_default, noiseless,
                           [&](std::int64_t, std::int64_t total, std::string_view stage) {
                               ++calls;
                               return total == 6 && stage == "rate";
                           });
        QCOMPARE(calls, 6);
        QCOMPARE(session.size(), 6);
        QVERIFY(session.isComplete());
        // The same seed gives both models the same motion: nothing to prefer.
        for (double temperature : {0.8, 1.2}) {
            QCOMPARE(session.tally(temperature).ties, 3);
            QCOMPARE(session.tally(temperature).answered(), 3);
        }
        QVERIFY(session.rater().startsWith(QStringLiteral("the simulated labeler")));
        QVERIFY(session.rater().contains(QStringLiteral("noise 0, seed 1)")));
        QVERIFY(session.promptSource().contains(QStringLiteral("3 distinct captions (seed 5)")));

        const QString path = m_dir.filePath(QStringLiteral("self.json"));
        session.save(path);
        const AbSession loaded = AbSession::load(path);
        QCOMPARE(loaded.size(), session.size());
        for (int i = 0; i < session.size(); ++i) {
            QCOMPARE(loaded.trial(i).prompt, session.trial(i).prompt);
            QCOMPARE(loaded.trial(i).seed, session.trial(i).seed);
            QCOMPARE(loaded.trial(i).aOnLeft, session.trial(i).aOnLeft);
            QCOMPARE(loaded.trial(i).answer, session.trial(i).answer);
        }
        QCOMPARE(loaded.modelA(), m_default);
        QCOMPARE(loaded.promptSource(), session.promptSource());
        QCOMPARE(loaded.rater(), session.rater());
        // A person's session says nothing of a rater.
        const QJsonObject human =
            AbSession::create(m_default, m_default, {.prompts = {QStringLiteral("a person walks")}})
                .toJson();
        QVERIFY(human.value(QStringLiteral("rater")).isNull());
        QVERIFY(AbSession::fromJson(human, QStringLiteral("human.json")).rater().isEmpty());
    }

    void aNoisyLabelerSplitsIdenticalMotionsBothWays()
    {
        // Noise alone decides: with a spread well above the unsure band, B wins some and loses
        // some of identical pairs.
        const SimulatedAbRater labeler(m_corpus, QStringLiteral("train"), 1, 5,
                                       {.noiseStd = 1.0, .seed = 3});
        ModelCache models;
        QList<AbAnswer> answers;
        const GeneratedMotion motion =
            models.get(m_default)->generate(labeler.prompts().front(), 11, 0.9);
        for (int trial = 0; trial < 40; ++trial)
            answers << labeler.rate({.trialIndex = trial,
                                     .prompt = labeler.prompts().front(),
                                     .left = motion,
                                     .right = motion});
        QVERIFY(answers.contains(AbAnswer::Left));
        QVERIFY(answers.contains(AbAnswer::Right));
        // Deterministic in (labeler seed, trial index).
        QCOMPARE(labeler.rate({.trialIndex = 7,
                               .prompt = labeler.prompts().front(),
                               .left = motion,
                               .right = motion}),
                 answers[7]);
    }

    void badInputsNameTheProblem()
    {
        QTemporaryDir empty;
        QVERIFY(inputError([&] {
                    SimulatedAbOptions bad = options();
                    bad.corpusDir = empty.path();
                    runSimulatedAb(m_default, m_default, bad);
                }).contains(QStringLiteral("manifest.json")));
        QVERIFY(inputError([&] {
                    runSimulatedAb(m_default, m_default, options(1000));
                }).contains(QStringLiteral("distinct captions")));
        QVERIFY(inputError([&] {
                    SimulatedAbOptions noCorpus = options();
                    noCorpus.corpusDir.clear();
                    runSimulatedAb(m_default, m_default, noCorpus);
                }).contains(QStringLiteral("corpus")));
        const SimulatedAbRater labeler(m_corpus, QStringLiteral("train"), 1, 5, {});
        const GeneratedMotion none;
        QVERIFY(inputError([&] {
                    labeler.rate(
                        {.prompt = QStringLiteral("not a caption"), .left = none, .right = none});
                }).contains(QStringLiteral("not a caption")));
        QVERIFY(inputError([&] {
                    AbModelRef missing{m_dir.filePath(QStringLiteral("nowhere")), QString()};
                    runSimulatedAb(missing, m_default, options());
                }).contains(QStringLiteral("nowhere")));
    }

    void wilsonIntervalMatchesHandComputedValues()
    {
        const auto none = wilsonInterval(0, 10);
        QVERIFY(qAbs(none.low) < 1e-9);
        QVERIFY(qAbs(none.high - 0.2775402) < 1e-6);
        const auto half = wilsonInterval(5, 10);
        QVERIFY(qAbs(half.low - 0.2365896) < 1e-6);
        QVERIFY(qAbs(half.high - 0.7634104) < 1e-6);
        const auto most = wilsonInterval(81, 100);
        QVERIFY(qAbs(most.low - 0.7222098) < 1e-6);
        QVERIFY(qAbs(most.high - 0.8748535) < 1e-6);
        const auto empty = wilsonInterval(0, 0);
        QCOMPARE(empty.low, 0.0);
        QCOMPARE(empty.high, 1.0);
    }
};

QTEST_GUILESS_MAIN(SimulatedAbTest)
#include "simulated_ab_test.moc"
