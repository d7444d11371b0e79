#include "app/compare/compare_model.h"
#include "app/compare/model_metrics.h"
#include "ml/core/error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

namespace {
void writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

// As ml/eval/evaluation.cpp's evaluationToJson writes it.
const QByteArray kMetrics = R"({
  "FID": {"conf_interval": 0.0123, "mean": 0.4567, "values": [0.44, 0.47]},
  "R_precision_top_1": {"conf_interval": 0.004, "mean": 0.412, "values": [0.41, 0.414]},
  "gt_R_precision_top_1": {"conf_interval": 0.002, "mean": 0.511, "values": [0.51, 0.512]},
  "meta": {"num_samples": 64, "replications": 2, "seconds_by_stage": {"generate": 1.5}}
})";
} // namespace

class ModelMetricsTest : public QObject {
    Q_OBJECT
private slots:
    void readsEvalOutput()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("metrics.json"));
        writeFile(path, kMetrics);
        const ModelMetrics metrics = readModelMetrics(path);
        QCOMPARE(metrics.replications, 2);
        QVERIFY(metrics.has(QStringLiteral("FID")));
        QVERIFY(!metrics.has(QStringLiteral("MultiModality")));
        QCOMPARE(metrics.metrics.value(QStringLiteral("FID")).values, QList<double>({0.44, 0.47}));
        QCOMPARE(metrics.format(QStringLiteral("R_precision_top_1")),
                 QStringLiteral("0.412 ± 0.004"));
        QCOMPARE(metrics.format(QStringLiteral("FID"), 2), QStringLiteral("0.46 ± 0.01"));
        QVERIFY(metrics.format(QStringLiteral("Diversity")).isEmpty());
    }

    void badFilesNameTheFile_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("truncated") << kMetrics.left(40) << QString("invalid JSON");
        QTest::newRow("no mean") << QByteArray(R"({"FID": {"conf_interval": 1}})")
                                 << QString("metric \"FID\" has no numeric \"mean\"");
        QTest::newRow("array") << QByteArray("[]") << QString("expected a JSON object");
        QTest::newRow("empty") << QByteArray(R"({"meta": {}})") << QString("holds no metrics");
    }

    void badFilesNameTheFile()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bad-metrics.json"));
        writeFile(path, content);
        QString message;
        try {
            readModelMetrics(path);
        } catch (const InputError &error) {
            message = QString::fromUtf8(error.what());
        }
        QVERIFY2(message.contains(QStringLiteral("bad-metrics.json")), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    void foundNextToTheAdapterOrTheBundle()
    {
        QTemporaryDir dir;
        const QString bundle = dir.filePath(QStringLiteral("bundle"));
        const QString adapter = dir.filePath(QStringLiteral("run/best"));
        QDir().mkpath(bundle);
        QDir().mkpath(adapter);
        QVERIFY(findModelMetrics(bundle, QString()).isEmpty());
        writeFile(bundle + QStringLiteral("/metrics.json"), kMetrics);
        QCOMPARE(findModelMetrics(bundle, QString()), bundle + QStringLiteral("/metrics.json"));
        // An adapter's metrics are its own, never the bundle's.
        QVERIFY(findModelMetrics(bundle, adapter).isEmpty());
        writeFile(dir.filePath(QStringLiteral("run/metrics.json")), kMetrics);
        QCOMPARE(findModelMetrics(bundle, adapter),
                 dir.filePath(QStringLiteral("run/metrics.json")));
        writeFile(adapter + QStringLiteral("/metrics.json"), kMetrics);
        QCOMPARE(findModelMetrics(bundle, adapter), adapter + QStringLiteral("/metrics.json"));

        const QString command = evalCommandFor(bundle, adapter);
        QVERIFY(command.startsWith(QStringLiteral("motionpref-cli eval --model ") + bundle));
        QVERIFY(command.contains(QStringLiteral("--adapter ") + adapter));
        QVERIFY(
            command.contains(QStringLiteral("--out ") + adapter + QStringLiteral("/metrics.json")));
    }

    void displayNames()
    {
        QCOMPARE(modelDisplayName({QStringLiteral("/x/models/default"), QString()}),
                 QStringLiteral("default"));
        QCOMPARE(modelDisplayName(
                     {QStringLiteral("/x/models/default/"), QStringLiteral("/runs/dpo-ipo/best")}),
                 QStringLiteral("default + dpo-ipo/best"));
        QCOMPARE(modelDisplayName({QStringLiteral("/m/base"), QStringLiteral("/runs/lora-r8")}),
                 QStringLiteral("base + lora-r8"));
        // A full fine-tuning run's best/ and model/ are bundles: named with their run.
        QCOMPARE(modelDisplayName({QStringLiteral("/runs/full-ft/best"), QString()}),
                 QStringLiteral("full-ft/best"));
        QCOMPARE(modelDisplayName({QStringLiteral("/runs/full-ft/model/"), QString()}),
                 QStringLiteral("full-ft/model"));
        // An experiment's run (experiment run: runs/NAME/train/best) by its NAME.
        QCOMPARE(modelDisplayName({QStringLiteral("/m/default"),
                                   QStringLiteral("/exp/runs/c01_dpo_s1/train/best")}),
                 QStringLiteral("default + c01_dpo_s1/best"));
        QCOMPARE(
            modelDisplayName({QStringLiteral("/exp/runs/c09_full-ft_s1/train/best"), QString()}),
            QStringLiteral("c09_full-ft_s1/best"));
    }

    void loadingABadBundleIsAnInputError()
    {
        QTemporaryDir dir;
        QString message;
        try {
            CompareModel model({dir.filePath(QStringLiteral("nowhere")), QString()},
                               QStringLiteral("cpu"));
        } catch (const InputError &error) {
            message = QString::fromUtf8(error.what());
        }
        QVERIFY2(message.contains(QStringLiteral("nowhere")), qPrintable(message));
    }
};

QTEST_GUILESS_MAIN(ModelMetricsTest)
#include "model_metrics_test.moc"
