// The Compare panel's generator on a tiny random bundle: A and B generated with the same seed on
// a worker thread, in submission order; an adapter changes B's motion, the same model and seed
// repeat it; a bad model is reported with its path.

// LibTorch before Qt: Qt's `slots` keyword macro breaks torch's jit headers.
#include "tiny_bundle.h"

#include "app/compare/compare_generator.h"
#include "ml/models/lora.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace mp;

namespace {
bool sameClip(const MotionClip &a, const MotionClip &b)
{
    return a.numFrames == b.numFrames && a.positions == b.positions;
}
} // namespace

class CompareGeneratorTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    AbModelRef m_base;
    AbModelRef m_tuned;

    MotionPairResult run(CompareGenerator &generator, const MotionPairRequest &request)
    {
        QSignalSpy finished(&generator, &CompareGenerator::finished);
        generator.submit(request);
        if (!finished.wait(20000))
            return {};
        return finished.first().at(0).value<MotionPairResult>();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const auto bundleDir = test::writeTinyBundle(m_dir.filePath("b").toStdString());
        m_base = {QString::fromStdString(bundleDir.string()), QString()};
        // An adapter with random (non-zero) B matrices, so it changes what the model samples.
        ModelBundle bundle(bundleDir);
        torch::manual_seed(3);
        LoraConfig config{.rank = 2, .alpha = 4.0};
        applyLora(*bundle.t5(), config);
        {
            torch::NoGradGuard noGrad;
            for (auto &parameter : loraParameters(*bundle.t5()))
                parameter.normal_(0.0, 2.0);
        }
        const QString adapter = m_dir.filePath("run/best");
        saveLoraAdapter(*bundle.t5(), config, adapter.toStdString());
        m_tuned = {m_base.bundleDir, adapter};
    }

    void sameSeedSameModelGivesTheSameMotion()
    {
        CompareGenerator generator;
        const MotionPairResult result = run(generator, {.key = "side",
                                                        .modelA = m_base,
                                                        .modelB = m_base,
                                                        .prompt = "a person walks forward",
                                                        .seed = 11,
                                                        .temperature = 1.0});
        QVERIFY2(result.ok(), qPrintable(result.error));
        QCOMPARE(result.request.key, QStringLiteral("side"));
        QCOMPARE(result.motionA.clip.numJoints, 22);
        QVERIFY(result.motionA.clip.numFrames > 0);
        QVERIFY(sameClip(result.motionA.clip, result.motionB.clip));
        QCOMPARE(result.motionA.tokens, result.motionB.tokens);
        QVERIFY(!result.motionA.tokens.empty());
        QVERIFY(result.descriptionA.startsWith("T5 d16 1+2 layers"));
        QVERIFY(!result.descriptionA.contains("LoRA"));
    }

    void anAdapterChangesTheMotion()
    {
        CompareGenerator generator;
        int differing = 0;
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            const MotionPairResult result = run(generator, {.key = "side",
                                                            .modelA = m_base,
                                                            .modelB = m_tuned,
                                                            .prompt = "a person jumps twice",
                                                            .seed = seed,
                                                            .temperature = 1.0});
            QVERIFY2(result.ok(), qPrintable(result.error));
            QVERIFY(result.descriptionB.contains("LoRA r 2"));
            // The tiny random model mostly misses the start-of-motion token (a degenerate,
            // mean-pose motion), so compare what it sampled.
            differing += result.motionA.tokens == result.motionB.tokens ? 0 : 1;
        }
        QVERIFY2(differing > 0, "the adapter never changed the motion");
    }

    void aRewrittenAdapterIsLoadedAgain()
    {
        QTemporaryDir scratch;
        const QString adapter = scratch.filePath("best");
        const auto writeAdapter = [&](double scale) {
            ModelBundle bundle(m_base.bundleDir.toStdString());
            torch::manual_seed(3);
            const LoraConfig config{.rank = 2, .alpha = 4.0};
            applyLora(*bundle.t5(), config);
            torch::NoGradGuard noGrad;
            for (auto &parameter : loraParameters(*bundle.t5()))
                parameter.normal_(0.0, 2.0).mul_(scale);
            saveLoraAdapter(*bundle.t5(), config, adapter.toStdString());
        };
        writeAdapter(1.0);
        CompareGenerator generator;
        const AbModelRef tuned{m_base.bundleDir, adapter};
        auto differing = [&] {
            int count = 0;
            for (std::uint64_t seed = 1; seed <= 4; ++seed) {
                const MotionPairResult r = run(generator, {.key = "side",
                                                           .modelA = m_base,
                                                           .modelB = tuned,
                                                           .prompt = "a person jumps twice",
                                                           .seed = seed});
                count += r.motionA.tokens == r.motionB.tokens ? 0 : 1;
            }
            return count;
        };
        QVERIFY(differing() > 0);
        QThread::msleep(20); // a later modification time
        writeAdapter(0.0);   // a zero adapter: B is A again
        QCOMPARE(differing(), 0);
    }

    void requestsRunInOrderAndQueuedOnesCanBeDropped()
    {
        CompareGenerator generator;
        QSignalSpy finished(&generator, &CompareGenerator::finished);
        for (const char *key : {"trial:1:0", "trial:1:1", "trial:1:2", "side"})
            generator.submit({.key = key,
                              .modelA = m_base,
                              .modelB = m_base,
                              .prompt = "a person waves",
                              .seed = qstrcmp(key, "side") == 0 ? 99u : 5u,
                              .temperature = 0.0});
        QVERIFY(generator.isBusy());
        QCOMPARE(generator.runningKey(), QStringLiteral("trial:1:0"));
        QVERIFY(generator.isQueued("trial:1:2"));
        generator.dropQueued("trial:1:");
        QVERIFY(!generator.isQueued("trial:1:2"));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 20000);
        QCOMPARE(finished.at(0).at(0).value<MotionPairResult>().request.key, "trial:1:0");
        QCOMPARE(finished.at(1).at(0).value<MotionPairResult>().request.key, "side");
        // Greedy decoding (temperature 0) does not depend on the seed.
        QCOMPARE(finished.at(0).at(0).value<MotionPairResult>().motionA.tokens,
                 finished.at(1).at(0).value<MotionPairResult>().motionA.tokens);
        QVERIFY(!generator.isBusy());
    }

    void aResultDoneButNotYetDeliveredIsNotLost()
    {
        CompareGenerator generator;
        QSignalSpy finished(&generator, &CompareGenerator::finished);
        generator.submit(
            {.key = "first", .modelA = m_base, .modelB = m_base, .prompt = "a person walks"});
        // The worker finishes while no event is processed, so its result is still queued.
        QThread::msleep(1500);
        QVERIFY(generator.isBusy());
        generator.submit(
            {.key = "second", .modelA = m_base, .modelB = m_base, .prompt = "a person runs"});
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 20000);
        QCOMPARE(finished.at(0).at(0).value<MotionPairResult>().request.key, "first");
        QCOMPARE(finished.at(1).at(0).value<MotionPairResult>().request.key, "second");
    }

    void aBadModelIsReportedWithItsPath()
    {
        CompareGenerator generator;
        const AbModelRef missing{m_dir.filePath("no-such-bundle"), QString()};
        MotionPairResult result =
            run(generator,
                {.key = "side", .modelA = m_base, .modelB = missing, .prompt = "a person walks"});
        QVERIFY(!result.ok());
        QVERIFY2(result.error.contains("no-such-bundle"), qPrintable(result.error));
        const AbModelRef badAdapter{m_base.bundleDir, m_dir.filePath("b")}; // a bundle, no adapter
        result = run(
            generator,
            {.key = "side", .modelA = m_base, .modelB = badAdapter, .prompt = "a person walks"});
        QVERIFY(!result.ok());
        QVERIFY2(result.error.contains("adapter_config.json"), qPrintable(result.error));
        result =
            run(generator, {.key = "side", .modelA = m_base, .modelB = m_base, .prompt = "   "});
        QVERIFY(!result.ok());
    }
};

QTEST_GUILESS_MAIN(CompareGeneratorTest)
#include "compare_generator_test.moc"
