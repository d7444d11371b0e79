#include "ui/train/study_experiment_view.h"

#include "ml/run/study_experiment_results.h"

#include <QCategoryAxis>
#include <QChart>
#include <QDir>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QTableWidget>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <optional>

namespace mp {
namespace {

constexpr const char *kArmLine = "armLine";
constexpr const char *kWhisker = "whisker";
// One colour per arm, in the order of the experiment's arms.
constexpr const char *kArmColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

} // namespace

StudyExperimentView::StudyExperimentView(QWidget *parent)
    : ExperimentWindow(
          {.objectPrefix = QStringLiteral("studyExperiment"),
           .tableTip = tr("Mean ± 95% interval (seeds pooled); the second line is the paired "
                          "difference against the untrained model, * where its interval "
                          "excludes zero"),
           .metricTip = tr("The metric charted against the labeling budget"),
           .differenceMode = tr("Difference against the untrained model"),
           .modeTip = tr("The values, or the paired differences against the untrained model "
                         "(same evaluation seed), with 95% whiskers"),
           .reloadTip = tr("Read results.csv again (the experiment writes it when it ends)"),
           .chartMinimumHeight = 260},
          parent)
{
    chart()->legend()->setAlignment(Qt::AlignBottom);
}

StudyExperimentView::~StudyExperimentView() = default;

QString StudyExperimentView::read(const QString &dir)
{
    m_results =
        std::make_unique<StudyExperimentResults>(readStudyExperimentResults(dir.toStdString()));
    return tr("Study experiment %1").arg(QDir(dir).dirName());
}

std::vector<std::string> StudyExperimentView::metrics() const
{
    return m_results ? m_results->metrics : std::vector<std::string>{};
}

void StudyExperimentView::fillTable()
{
    const StudyExperimentResults &r = *m_results;
    QStringList arms, budgets;
    for (const auto &arm : r.arms)
        arms << qs(arm);
    for (const auto budget : r.budgets)
        budgets << QString::number(budget);
    summary()->setText(
        tr("%1: arms %2; labeling budgets %3.")
            .arg(directory(), arms.join(QStringLiteral(", ")), budgets.join(QStringLiteral(", "))) +
        (r.description.empty() ? QString() : QStringLiteral("\n") + qs(r.description)));
    table()->clear();
    table()->setColumnCount(static_cast<int>(r.metrics.size()) + 2);
    QStringList headers = {tr("Arm"), tr("Labels")};
    for (const auto &metric : r.metrics)
        headers << qs(metric);
    table()->setHorizontalHeaderLabels(headers);
    table()->setRowCount((r.untrained.empty() ? 0 : 1) +
                         static_cast<int>(r.arms.size() * r.budgets.size()));
    int row = 0;
    const auto setCell = [&](int column, const QString &text) {
        auto *item = new QTableWidgetItem(text);
        if (column >= 2)
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        table()->setItem(row, column, item);
    };
    if (!r.untrained.empty()) {
        setCell(0, tr("untrained"));
        setCell(1, QStringLiteral("0"));
        for (int m = 0; m < static_cast<int>(r.metrics.size()); ++m) {
            const auto it = r.untrained.find(r.metrics[static_cast<std::size_t>(m)]);
            setCell(m + 2,
                    it == r.untrained.end() ? QStringLiteral("–") : estimateText(it->second));
        }
        ++row;
    }
    for (const auto &arm : r.arms)
        for (const auto budget : r.budgets) {
            setCell(0, qs(arm));
            setCell(1, QString::number(budget));
            for (int m = 0; m < static_cast<int>(r.metrics.size()); ++m) {
                QString text = QStringLiteral("–");
                const auto armIt = r.series.find(arm);
                if (armIt != r.series.end()) {
                    const auto metricIt =
                        armIt->second.find(r.metrics[static_cast<std::size_t>(m)]);
                    if (metricIt != armIt->second.end())
                        for (const auto &point : metricIt->second)
                            if (point.labels == budget)
                                text = estimateText(point.value, point.difference);
                }
                setCell(m + 2, text);
            }
            ++row;
        }
    table()->resizeColumnsToContents();
    table()->resizeRowsToContents();
}

void StudyExperimentView::redrawChart()
{
    clearChart();
    QChart *plot = chart();
    const QString metricName = chartMetric();
    if (!m_results || metricName.isEmpty() || m_results->budgets.empty()) {
        plot->setTitle(tr("No results yet"));
        return;
    }
    const std::string metric = metricName.toStdString();
    const bool differences = showDifferences();
    const StudyExperimentResults &r = *m_results;

    struct Line {
        QString arm;
        std::vector<std::pair<double, IntervalEstimate>> points; // labels, estimate
    };
    std::vector<Line> lines;
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    for (const auto &arm : r.arms) {
        const auto armIt = r.series.find(arm);
        if (armIt == r.series.end())
            continue;
        const auto it = armIt->second.find(metric);
        if (it == armIt->second.end())
            continue;
        Line line{qs(arm), {}};
        for (const auto &point : it->second) {
            if (differences && !point.difference)
                continue;
            const IntervalEstimate e = differences ? *point.difference : point.value;
            line.points.emplace_back(static_cast<double>(point.labels), e);
            low = std::min(low, e.mean - e.halfInterval);
            high = std::max(high, e.mean + e.halfInterval);
        }
        if (!line.points.empty())
            lines.push_back(std::move(line));
    }
    std::optional<double> reference; // the untrained model's value, or 0 for differences
    if (differences)
        reference = 0.0;
    else if (const auto it = r.untrained.find(metric); it != r.untrained.end())
        reference = it->second.mean;
    if (lines.empty()) {
        plot->setTitle(differences ? tr("%1 has no paired differences (it is measured against the "
                                        "untrained model already)")
                                         .arg(metricName)
                                   : tr("No values of %1").arg(metricName));
        return;
    }
    if (reference) {
        low = std::min(low, *reference);
        high = std::max(high, *reference);
    }
    plot->setTitle(differences
                       ? tr("%1: arm − untrained (paired) by labels, 95% whiskers").arg(metricName)
                       : tr("%1 by labels: mean, 95% whiskers; dashed: untrained").arg(metricName));
    const double minX = static_cast<double>(r.budgets.front());
    const double maxX = static_cast<double>(r.budgets.back());
    const double span = std::max(1.0, maxX - minX);
    // Ticks at the budgets themselves.
    auto *xAxis = new QCategoryAxis;
    xAxis->setTitleText(tr("labels"));
    xAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    xAxis->setRange(minX - span * 0.08 - (minX == maxX ? 1.0 : 0.0),
                    maxX + span * 0.08 + (minX == maxX ? 1.0 : 0.0));
    for (const auto budget : r.budgets)
        xAxis->append(QString::number(budget), static_cast<double>(budget));
    auto *yAxis = new QValueAxis;
    const double pad = (high - low) * 0.08 + 1e-9;
    yAxis->setRange(low - pad, high + pad);
    yAxis->applyNiceNumbers();
    plot->addAxis(xAxis, Qt::AlignBottom);
    plot->addAxis(yAxis, Qt::AlignLeft);
    const auto attach = [&](QAbstractSeries *series) {
        plot->addSeries(series);
        series->attachAxis(xAxis);
        series->attachAxis(yAxis);
    };
    if (reference) {
        auto *base = new QLineSeries;
        base->setName(differences ? tr("no change") : tr("untrained"));
        base->append({{xAxis->min(), *reference}, {xAxis->max(), *reference}});
        QPen pen(Qt::gray);
        pen.setStyle(Qt::DashLine);
        pen.setWidthF(1.5);
        base->setPen(pen);
        attach(base);
    }
    // Arms side by side at each budget (a small offset), so their whiskers do not overlap.
    const double offsetStep = span * 0.012;
    const double capHalfWidth = span * 0.008;
    for (std::size_t a = 0; a < lines.size(); ++a) {
        const double offset =
            (static_cast<double>(a) - static_cast<double>(lines.size() - 1) / 2.0) * offsetStep;
        auto *series = new QLineSeries;
        series->setName(lines[a].arm);
        series->setObjectName(QString::fromLatin1(kArmLine));
        series->setPointsVisible(true);
        for (const auto &[x, e] : lines[a].points)
            series->append(x + offset, e.mean);
        const QColor color(QString::fromLatin1(kArmColors[a % std::size(kArmColors)]));
        QPen pen(color);
        pen.setWidthF(2.0);
        series->setPen(pen);
        attach(series);
        for (const auto &[x, e] : lines[a].points) {
            const double cx = x + offset;
            const double top = e.mean + e.halfInterval, bottom = e.mean - e.halfInterval;
            QPen whiskerPen(color);
            whiskerPen.setWidthF(1.2);
            QLineSeries *whisker =
                addWhisker(cx, top, bottom, capHalfWidth, whiskerPen, xAxis, yAxis);
            whisker->setObjectName(QString::fromLatin1(kWhisker));
            for (QLegendMarker *marker : plot->legend()->markers(whisker))
                marker->setVisible(false);
        }
    }
}

int StudyExperimentView::armLineCount() const
{
    int count = 0;
    for (QAbstractSeries *series : chart()->series())
        count += series->objectName() == QLatin1String(kArmLine);
    return count;
}

int StudyExperimentView::pointCount() const
{
    int count = 0;
    for (QAbstractSeries *series : chart()->series())
        if (series->objectName() == QLatin1String(kArmLine))
            count += static_cast<int>(qobject_cast<QLineSeries *>(series)->count());
    return count;
}

int StudyExperimentView::whiskerCount() const
{
    int count = 0;
    for (QAbstractSeries *series : chart()->series())
        count += series->objectName() == QLatin1String(kWhisker);
    return count;
}

} // namespace mp
