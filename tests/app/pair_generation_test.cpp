// Pair generation on a tiny random bundle: two seeded samples in one call, stored with their
// prompt, model, codes, features and side mapping in one transaction.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "tiny_bundle.h"

#include "app/study/pair_generation.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"

#include <QTemporaryDir>
#include <QTest>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>
#include <set>

using namespace mp;

class PairGenerationTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<ModelBundle> m_bundle;
    ModelIdentity m_model;
    int m_counter = 0;

    QString freshStudy() { return m_dir.filePath(QStringLiteral("s%1.mpstudy").arg(++m_counter)); }
    static PairRequest request(const char *prompt, std::uint64_t seed1, std::uint64_t seed2)
    {
        PairRequest r;
        r.prompt = QString::fromLatin1(prompt);
        r.source = PromptSource::List;
        r.seeds = {seed1, seed2};
        r.sampling = {.temperature = 1.2, .topK = 8, .topP = 0.95};
        return r;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto dir = test::writeTinyBundle(m_dir.filePath(QStringLiteral("b")).toStdString());
        m_bundle = std::make_unique<ModelBundle>(dir);
        m_model = ModelIdentity::ofDirectory(QString::fromStdString(dir.string()));
    }

    void generatesTwoSeededSamplesWithClipsAndFeatures()
    {
        const GeneratedPair pair = generatePair(*m_bundle, request("a person walks", 5, 9));
        QCOMPARE(pair.samples.size(), std::size_t(2));
        QCOMPARE(pair.samples[0].seed, std::uint64_t(5));
        QCOMPARE(pair.samples[1].seed, std::uint64_t(9));
        QCOMPARE(pair.fps, 20.0);
        for (int i = 0; i < 2; ++i) {
            const MotionSample &sample = pair.samples[i];
            const at::Tensor features = npy::fromBytes(
                std::string_view(pair.featuresNpy[i].constData(), pair.featuresNpy[i].size()),
                "features");
            QCOMPARE(features.scalar_type(), at::kFloat);
            QVERIFY(features.sizes() == sample.features.sizes());
            QVERIFY(torch::allclose(features, sample.features.to(at::kFloat)));
            QCOMPARE(pair.clips[i].numJoints, 22);
            QCOMPARE(pair.clips[i].numFrames, int(sample.joints.size(0)));
            QCOMPARE(pair.clips[i].fps, 20.0);
        }
        // Seeded: the same request gives the same codes, another seed (almost surely) others.
        const GeneratedPair again = generatePair(*m_bundle, request("a person walks", 5, 9));
        QVERIFY(again.samples[0].codes == pair.samples[0].codes);
        QVERIFY(again.samples[1].codes == pair.samples[1].codes);
        std::set<std::vector<std::int64_t>> distinct;
        for (std::uint64_t seed = 20; seed < 26; seed += 2)
            for (const auto &s :
                 generatePair(*m_bundle, request("a person runs", seed, seed + 1)).samples)
                distinct.insert(s.tokens);
        QVERIFY2(distinct.size() > 1, "six seeds gave one token sequence");
    }

    void generatesOffTheCallingThread()
    {
        const auto main = generatePair(*m_bundle, request("a person jumps", 3, 4));
        GeneratedPair fromWorker =
            QtConcurrent::run([this] {
                return generatePair(*m_bundle, request("a person jumps", 3, 4));
            }).result();
        QVERIFY(fromWorker.samples[0].codes == main.samples[0].codes);
        QVERIFY(fromWorker.samples[1].codes == main.samples[1].codes);
    }

    void rejectsBadRequests_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<double>("topP");
        QTest::addColumn<int>("topK");
        QTest::addColumn<QString>("expected");
        QTest::newRow("blank prompt") << QStringLiteral("   ") << 1.0 << 0 << "prompt";
        QTest::newRow("top-p zero") << QStringLiteral("a person waves") << 0.0 << 0 << "top-p";
        QTest::newRow("negative top-k") << QStringLiteral("a person waves") << 1.0 << -1 << "top-k";
    }
    void rejectsBadRequests()
    {
        QFETCH(QString, prompt);
        QFETCH(double, topP);
        QFETCH(int, topK);
        QFETCH(QString, expected);
        PairRequest r = request("x", 1, 2);
        r.prompt = prompt;
        r.sampling.topP = topP;
        r.sampling.topK = topK;
        try {
            generatePair(*m_bundle, r);
            QFAIL("no error");
        } catch (const InputError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(expected), e.what());
        }
    }

    void storesPromptModelSamplesAndPair()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        const GeneratedPair pair = generatePair(*m_bundle, request("a person kicks", 11, 12));
        const StoredPair stored = storePair(store, pair, m_model, 2);
        QCOMPARE(stored.leftSample, 2);

        const PairInfo info = store.pair(stored.pairId);
        QCOMPARE(info.promptText, QStringLiteral("a person kicks"));
        QCOMPARE(info.leftSample, 2);
        QCOMPARE(info.sample1Id, stored.sampleIds[0]);
        QCOMPARE(info.sample2Id, stored.sampleIds[1]);
        QCOMPARE(store.prompt(stored.promptId).source, PromptSource::List);
        for (int i = 0; i < 2; ++i) {
            const SampleInfo sample = store.sample(stored.sampleIds[i]);
            QCOMPARE(sample.seed, qint64(pair.samples[i].seed));
            QCOMPARE(sample.modelId, std::optional<qint64>(stored.modelId));
            QCOMPARE(sample.temperature, 1.2);
            QCOMPARE(sample.topK, 8);
            QCOMPARE(sample.topP, 0.95);
            const std::vector<int> codes(pair.samples[i].codes.begin(),
                                         pair.samples[i].codes.end());
            QVERIFY(sample.tokens == codes);
            QCOMPARE(sample.features, pair.featuresNpy[i]);
        }
        const auto models = store.models();
        QCOMPARE(models.size(), std::size_t(1));
        QCOMPARE(models[0].contentHash, m_model.contentHash);
        QCOMPARE(models[0].name, QStringLiteral("bundle"));

        // A second pair: the same model row, the given prompt row reused, a random side.
        PairRequest again = request("a person kicks", 13, 14);
        again.promptId = stored.promptId;
        const StoredPair second = storePair(store, generatePair(*m_bundle, again), m_model);
        QCOMPARE(second.modelId, stored.modelId);
        QCOMPARE(second.promptId, stored.promptId);
        QVERIFY(second.leftSample == 1 || second.leftSample == 2);
        QCOMPARE(store.counts().prompts, qint64(1));
        QCOMPARE(store.counts().samples, qint64(4));
        QCOMPARE(store.counts().pairs, qint64(2));
    }

    void storesAllOrNothing()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        PairRequest r = request("a person turns", 1, 2);
        r.promptId = 999; // no such prompt: nothing of the pair may stay behind
        const GeneratedPair pair = generatePair(*m_bundle, r);
        QVERIFY_THROWS_EXCEPTION(InputError, storePair(store, pair, m_model));
        QCOMPARE(store.counts().samples, qint64(0));
        QCOMPARE(store.models().size(), std::size_t(0));
    }

    void generateAndStoreReturnsBoth()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        const PairResult result =
            generateAndStorePair(store, *m_bundle, m_model, request("a person squats", 7, 8));
        QCOMPARE(result.generated.samples.size(), std::size_t(2));
        const PairInfo info = store.pair(result.stored.pairId);
        QCOMPARE(store.sample(info.sample1Id).seed, qint64(7));
        QCOMPARE(store.sample(info.sample2Id).seed, qint64(8));
        QCOMPARE(info.leftSample, result.stored.leftSample);
    }
};

QTEST_GUILESS_MAIN(PairGenerationTest)
#include "pair_generation_test.moc"
