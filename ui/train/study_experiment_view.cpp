#include "ui/train/study_experiment_view.h"

#include "ml/run/study_experiment_results.h"

#include <QCategoryAxis>
#include <QChart>
#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
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

// "0.445 ± 0.050" with its difference, or "0.420 [0.291, 0.561]" where the interval has its own
// ends (the labeler's rates: Wilson).
QString pointText(const StudyExperimentPoint &point)
{
    if (!point.bounds)
        return ExperimentWindow::estimateText(point.value, point.difference);
    return ExperimentWindow::number(point.value.mean) + QStringLiteral(" [") +
           ExperimentWindow::number(point.bounds->low) + QStringLiteral(", ") +
           ExperimentWindow::number(point.bounds->high) + QStringLiteral("]");
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
           .reloadTip = tr("Read results.csv again (the experiment rewrites it after each "
                           "budget step; an open window also reloads when it changes)"),
           .chartMinimumHeight = 260},
          parent)
{
    chart()->legend()->setAlignment(Qt::AlignBottom);
    // The experiment renames a new results.csv into the directory: a directory change.
    m_watcher = new QFileSystemWatcher(this);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this,
            &StudyExperimentView::reloadIfChanged);
}

StudyExperimentView::~StudyExperimentView() = default;

void StudyExperimentView::reloadIfChanged()
{
    const QFileInfo csv(QDir(directory()).filePath(QStringLiteral("results.csv")));
    if (csv.lastModified() != m_readTime || csv.size() != m_readSize)
        reload();
}

QString StudyExperimentView::read(const QString &dir)
{
    if (!m_watcher->directories().contains(dir)) {
        if (!m_watcher->directories().isEmpty())
            m_watcher->removePaths(m_watcher->directories());
        m_watcher->addPath(dir);
    }
    const QFileInfo csv(QDir(dir).filePath(QStringLiteral("results.csv")));
    m_readTime = csv.lastModified();
    m_readSize = csv.exists() ? csv.size() : -1;
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
                                text = pointText(point);
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
        struct Point {
            double labels;
            double mean, bottom, top; // the 95% whisker's ends
        };
        std::vector<Point> points;
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
            const bool ends = !differences && point.bounds;
            const Line::Point p{.labels = static_cast<double>(point.labels),
                                .mean = e.mean,
                                .bottom = ends ? point.bounds->low : e.mean - e.halfInterval,
                                .top = ends ? point.bounds->high : e.mean + e.halfInterval};
            line.points.push_back(p);
            low = std::min(low, p.bottom);
            high = std::max(high, p.top);
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
        for (const auto &p : lines[a].points)
            series->append(p.labels + offset, p.mean);
        const QColor color(QString::fromLatin1(kArmColors[a % std::size(kArmColors)]));
        QPen pen(color);
        pen.setWidthF(2.0);
        series->setPen(pen);
        attach(series);
        for (const auto &p : lines[a].points) {
            QPen whiskerPen(color);
            whiskerPen.setWidthF(1.2);
            QLineSeries *whisker = addWhisker(p.labels + offset, p.top, p.bottom, capHalfWidth,
                                              whiskerPen, xAxis, yAxis);
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
