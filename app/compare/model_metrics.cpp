#include "app/compare/model_metrics.h"

#include "app/core/json_file.h"
#include "ml/core/error.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

namespace mp {

namespace {
[[noreturn]] void fail(const QString &path, const QString &problem)
{
    throw InputError((path + QStringLiteral(": ") + problem).toStdString());
}

QString quoted(const QString &path)
{
    return path.contains(QLatin1Char(' ')) ? QLatin1Char('"') + path + QLatin1Char('"') : path;
}
} // namespace

QString ModelMetrics::format(const QString &key, int decimals) const
{
    const auto it = metrics.constFind(key);
    if (it == metrics.constEnd())
        return QString();
    return QStringLiteral("%1 ± %2")
        .arg(it->mean, 0, 'f', decimals)
        .arg(it->confInterval, 0, 'f', decimals);
}

const QList<MetricRow> &compareMetricRows()
{
    static const QList<MetricRow> rows = {
        {QStringLiteral("R_precision_top_1"), QStringLiteral("R-precision top-1 ↑"), true, false},
        {QStringLiteral("R_precision_top_2"), QStringLiteral("R-precision top-2 ↑"), true, false},
        {QStringLiteral("R_precision_top_3"), QStringLiteral("R-precision top-3 ↑"), true, false},
        {QStringLiteral("FID"), QStringLiteral("FID ↓"), false, true},
        {QStringLiteral("Matching_score"), QStringLiteral("MM-Dist ↓"), false, true},
        {QStringLiteral("Diversity"), QStringLiteral("Diversity →"), false, false},
        {QStringLiteral("MultiModality"), QStringLiteral("MultiModality ↑"), true, false},
        {QStringLiteral("Foot_skating_ratio"), QStringLiteral("Foot skating ↓"), false, true},
        // motionpref-cli eval --pairs: how often the model prefers the labelled winner.
        {QStringLiteral("Preference_accuracy"), QStringLiteral("Preference accuracy ↑"), true,
         false},
    };
    return rows;
}

ModelMetrics readModelMetrics(const QString &path)
{
    const QJsonObject root = readJsonObjectFile(path, QStringLiteral("a JSON object of metrics"));
    ModelMetrics result;
    result.path = path;
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (it.key() == QLatin1String("meta")) {
            result.replications = it->toObject().value(QStringLiteral("replications")).toInt();
            continue;
        }
        const QJsonObject entry = it->toObject();
        if (!entry.value(QStringLiteral("mean")).isDouble())
            fail(path, QStringLiteral("metric \"%1\" has no numeric \"mean\"").arg(it.key()));
        MetricValue value;
        value.mean = entry.value(QStringLiteral("mean")).toDouble();
        value.confInterval = entry.value(QStringLiteral("conf_interval")).toDouble();
        for (const QJsonValue &v : entry.value(QStringLiteral("values")).toArray())
            value.values.append(v.toDouble());
        result.metrics.insert(it.key(), value);
    }
    if (result.metrics.isEmpty())
        fail(path, QStringLiteral("holds no metrics"));
    if (result.replications == 0 && !result.metrics.first().values.isEmpty())
        result.replications = static_cast<int>(result.metrics.first().values.size());
    return result;
}

QStringList metricsCandidates(const QString &bundleDir, const QString &adapterDir)
{
    const QLatin1String name("metrics.json");
    QStringList candidates;
    if (!adapterDir.isEmpty()) {
        const QDir adapter(adapterDir);
        candidates << adapter.filePath(name);
        // A run directory keeps its adapter under best/ or checkpoints/<n>/.
        candidates << QDir::cleanPath(adapter.filePath(QStringLiteral("../") + name));
    } else if (!bundleDir.isEmpty()) {
        candidates << QDir(bundleDir).filePath(name);
    }
    return candidates;
}

QString findModelMetrics(const QString &bundleDir, const QString &adapterDir)
{
    for (const QString &candidate : metricsCandidates(bundleDir, adapterDir))
        if (QFileInfo(candidate).isFile())
            return candidate;
    return QString();
}

QString evalCommandFor(const QString &bundleDir, const QString &adapterDir)
{
    QString command = QStringLiteral("motionpref-cli eval --model %1").arg(quoted(bundleDir));
    if (!adapterDir.isEmpty())
        command += QStringLiteral(" --adapter %1").arg(quoted(adapterDir));
    const QString out = metricsCandidates(bundleDir, adapterDir).value(0);
    command += QStringLiteral(" --dataset <HumanML3D-layout dataset> --out %1").arg(quoted(out));
    return command;
}

} // namespace mp
