#pragma once
// A model's HumanML3D metrics as `motionpref-cli eval --out metrics.json` writes them
// (ml/eval/evaluation.h: per key "mean", "conf_interval", "values", plus "meta"), read for the
// Compare panel's table; and where such a file is looked for next to a bundle or an adapter.

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace mp {

struct MetricValue {
    double mean = 0.0;
    double confInterval = 0.0; // 1.96 std / sqrt(replications)
    QList<double> values;      // per replication
};

struct ModelMetrics {
    QString path;
    QMap<QString, MetricValue> metrics; // MotionGPT's keys: R_precision_top_1, FID, ...
    int replications = 0;

    bool has(const QString &key) const { return metrics.contains(key); }
    // "0.412 ± 0.004"; an empty string when the key is absent.
    QString format(const QString &key, int decimals = 3) const;
};

// The rows of the Compare panel's table: key and title, in the paper's order.
struct MetricRow {
    QString key;
    QString title;
    bool higherIsBetter = false;
    bool lowerIsBetter = false; // neither: closer to the real motions' value is better
};
const QList<MetricRow> &compareMetricRows();

// Reads a metrics.json; InputError naming the file for unreadable JSON or a metric without a
// numeric "mean".
ModelMetrics readModelMetrics(const QString &path);

// Where a model's metrics.json may lie, most specific first: in the adapter directory and the
// run directory above it (when there is an adapter), else in the bundle directory.
QStringList metricsCandidates(const QString &bundleDir, const QString &adapterDir);
// The first candidate that exists, or an empty string.
QString findModelMetrics(const QString &bundleDir, const QString &adapterDir);

// The command that computes them, for the "no metrics yet" message.
QString evalCommandFor(const QString &bundleDir, const QString &adapterDir);

} // namespace mp
