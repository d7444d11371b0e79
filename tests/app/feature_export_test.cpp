// Export for other model families (app/study/feature_export.*): pairs.jsonl plus each motion's
// HumanML3D features (T, 263, not normalised) and joints (T, 22, 3). Stored features are written
// as stored; a sample with only codes is decoded by its model's bundle, and the test decodes the
// codes itself (a second ModelBundle) and recovers the joints to hold the files against.
// With tests/reference/.venv present, numpy reads the files back too.

#include "tiny_bundle.h"

#include "app/study/feature_export.h"
#include "app/study/pair_generation.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

namespace {
QList<QJsonObject> readLines(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QList<QJsonObject> out;
    for (const QByteArray &line : file.readAll().split('\n'))
        if (!line.trimmed().isEmpty())
            out << QJsonDocument::fromJson(line).object();
    return out;
}
} // namespace

class FeatureExportTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_bundleDir;
    QString m_study;
    std::vector<int> m_codes = {3, 7, 1, 12};
    qint64 m_codesSample = 0;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_bundleDir = QString::fromStdString(
            test::writeTinyBundle(m_dir.filePath("models").toStdString()).string());
        m_study = m_dir.filePath("s.mpstudy");
        StudyStore store;
        store.open(m_study, true);
        ModelBundle bundle(m_bundleDir.toStdString());
        const ModelIdentity identity = ModelIdentity::ofDirectory(m_bundleDir);
        // Two generated pairs (features stored in the study), labeled.
        for (int i = 0; i < 2; ++i) {
            PairRequest request;
            request.prompt = QStringLiteral("a person walks forward %1").arg(i);
            request.seeds = {std::uint64_t(10 + i), std::uint64_t(20 + i)};
            const PairResult result = generateAndStorePair(store, bundle, identity, request);
            store.addLabel(result.stored.pairId, QStringLiteral("ana"),
                           {.choice = i == 0 ? Choice::Sample1 : Choice::Sample2,
                            .degree = PreferenceDegree::MuchBetter});
        }
        // A pair whose first sample holds only codes; its model is the bundle.
        const qint64 model = store.addModel(identity.name, identity.path, identity.contentHash);
        const qint64 prompt =
            store.addPrompt(QStringLiteral("a person jumps"), PromptSource::Typed);
        SampleInfo codesOnly{.promptId = prompt, .modelId = model, .seed = 5, .tokens = m_codes};
        m_codesSample = store.addSample(codesOnly);
        const qint64 other = store.pairs().front().sample1Id;
        const qint64 pair = store.addPair(prompt, m_codesSample, other, 1);
        store.addLabel(pair, QStringLiteral("bo"),
                       {.choice = Choice::Sample1, .degree = PreferenceDegree::SlightlyBetter});
        // Not exported: an unsure label and a skip.
        const qint64 unsure = store.addPair(prompt, m_codesSample, other, 2);
        store.addLabel(unsure, QStringLiteral("bo"),
                       {.choice = Choice::Unsure, .degree = PreferenceDegree::Unsure});
    }

    void writesPairsFeaturesAndJoints()
    {
        StudyStore store;
        store.open(m_study);
        const QString out = m_dir.filePath("export");
        const FeatureExportReport report = exportFeatures(store, out);
        QCOMPARE(report.records, 3);
        QCOMPARE(report.motions, 5); // 4 generated + 1 from codes (one generated sample twice)
        QCOMPARE(report.decoded, 1);
        const QList<QJsonObject> lines = readLines(out + "/pairs.jsonl");
        QCOMPARE(lines.size(), 3);
        const QJsonObject first = lines.front();
        QCOMPARE(first.value("prompt").toString(), QStringLiteral("a person walks forward 0"));
        QCOMPARE(first.value("degree").toString(), QStringLiteral("Much better"));
        QCOMPARE(first.value("margin").toInt(), 3);
        QCOMPARE(first.value("labeler").toString(), QStringLiteral("ana"));
        QCOMPARE(first.value("chosen").toObject().value("model").toString(),
                 QStringLiteral("bundle"));
        for (const QJsonObject &line : lines)
            for (const char *side : {"chosen", "rejected"}) {
                const QJsonObject motion = line.value(side).toObject();
                const at::Tensor features =
                    npy::read((out + "/" + motion.value("features").toString()).toStdString());
                const at::Tensor joints =
                    npy::read((out + "/" + motion.value("joints").toString()).toStdString());
                QCOMPARE(features.scalar_type(), at::kFloat);
                QCOMPARE(features.dim(), 2);
                QCOMPARE(features.size(1), 263);
                QCOMPARE(features.size(0), motion.value("num_frames").toInteger());
                QCOMPARE(joints.sizes().vec(),
                         (std::vector<std::int64_t>{features.size(0), 22, 3}));
                QVERIFY(torch::allclose(joints, recoverFromRic(features), 1e-6, 1e-6));
                // As stored: denormalised features, bit for bit.
                const SampleInfo sample = store.sample(motion.value("sample_id").toInteger());
                if (!sample.features.isEmpty()) {
                    const at::Tensor stored = npy::fromBytes(
                        std::string_view(sample.features.constData(), sample.features.size()),
                        "stored");
                    QVERIFY(torch::equal(stored.to(at::kFloat), features));
                }
            }
        // The codes-only sample against an independent decode.
        const QJsonObject decoded = lines.back().value("chosen").toObject();
        QCOMPARE(decoded.value("sample_id").toInteger(), m_codesSample);
        ModelBundle bundle(m_bundleDir.toStdString());
        const at::Tensor expected =
            bundle.decodeCodes(std::vector<std::int64_t>(m_codes.begin(), m_codes.end()));
        const at::Tensor features =
            npy::read((out + "/" + decoded.value("features").toString()).toStdString());
        QVERIFY(torch::allclose(features, expected.to(at::kFloat), 1e-6, 1e-6));
        // Not normalised: the decoded features are not in the bundle's normalised space.
        QVERIFY(!torch::allclose(features, bundle.normalize(features), 1e-3, 1e-3));

        const QJsonObject meta = [&] {
            QFile file(out + "/meta.json");
            file.open(QIODevice::ReadOnly);
            return QJsonDocument::fromJson(file.readAll()).object();
        }();
        QCOMPARE(meta.value("format").toString(), QStringLiteral("motionpref-features"));
        QCOMPARE(meta.value("normalised").toBool(true), false);
        QCOMPARE(meta.value("fps").toDouble(), 20.0);

        // numpy reads the files as HumanML3D users would.
        const QString venv = qEnvironmentVariable("MP_SOURCE_DIR") +
                             QStringLiteral("/tests/reference/.venv/bin/python");
        if (QFile::exists(venv)) {
            QProcess numpy;
            numpy.start(venv, {QStringLiteral("-c"),
                               QStringLiteral(
                                   "import json, sys, numpy as np\n"
                                   "d = sys.argv[1]\n"
                                   "n = 0\n"
                                   "for line in open(d + '/pairs.jsonl'):\n"
                                   "    r = json.loads(line)\n"
                                   "    for side in ('chosen', 'rejected'):\n"
                                   "        m = r[side]\n"
                                   "        f = np.load(d + '/' + m['features'])\n"
                                   "        j = np.load(d + '/' + m['joints'])\n"
                                   "        assert f.dtype == np.float32 and f.shape == "
                                   "(m['num_frames'], 263), f.shape\n"
                                   "        assert j.shape == (m['num_frames'], 22, 3), j.shape\n"
                                   "        assert np.isfinite(f).all() and np.isfinite(j).all()\n"
                                   "        n += 1\n"
                                   "print(n)\n"),
                               out});
            QVERIFY(numpy.waitForFinished(60000));
            QCOMPARE(numpy.exitCode(), 0);
            QCOMPARE(numpy.readAllStandardOutput().trimmed(), QByteArray("6"));
        }
    }

    void refusesAnExportAndCodesWithoutAModel()
    {
        StudyStore store;
        store.open(m_study);
        const QString out = m_dir.filePath("export2");
        exportFeatures(store, out);
        try {
            exportFeatures(store, out);
            QFAIL("an existing export was overwritten");
        } catch (const InputError &error) {
            QVERIFY(QString::fromUtf8(error.what()).contains("holds a pairs.jsonl already"));
        }
        QCOMPARE(exportFeatures(store, out, {}, true).records, 3);

        // Codes whose model is not recorded: an error naming the sample, unless --model.
        const qint64 prompt = store.prompts().front().id;
        const qint64 orphan = store.addSample({.promptId = prompt, .seed = 9, .tokens = {1, 2}});
        const qint64 pair = store.addPair(prompt, orphan, m_codesSample, 1);
        store.addLabel(pair, QStringLiteral("cy"),
                       {.choice = Choice::Sample2, .degree = PreferenceDegree::Better});
        try {
            exportFeatures(store, m_dir.filePath("export3"),
                           {.pairIds = std::vector<qint64>{pair}});
            QFAIL("codes without a model were exported");
        } catch (const InputError &error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(message.contains(QStringLiteral("sample %1").arg(orphan)) &&
                         message.contains("--model"),
                     qPrintable(message));
        }
        const FeatureExportReport report =
            exportFeatures(store, m_dir.filePath("export4"),
                           {.pairIds = std::vector<qint64>{pair}, .modelDir = m_bundleDir});
        QCOMPARE(report.records, 1);
        QCOMPARE(report.decoded, 2);
    }
};

QTEST_GUILESS_MAIN(FeatureExportTest)
#include "feature_export_test.moc"
