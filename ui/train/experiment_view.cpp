#include "ui/train/experiment_view.h"

#include "ml/run/experiment_report.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QDir>
#include <QLabel>
#include <QLineSeries>
#include <QTableWidget>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace mp {
namespace {

constexpr double kCapHalfWidth = 0.12; // whisker caps, in category widths

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

} // namespace

ExperimentView::ExperimentView(QWidget *parent)
    : ExperimentWindow(
          {.objectPrefix = QStringLiteral("experiment"),
           .tableTip = tr("Mean ± 95% interval over the replications (seeds pooled); the second "
                          "line is the paired difference against the baseline, * where its "
                          "interval excludes zero"),
           .metricTip = tr("The metric in the bar chart"),
           .differenceMode = tr("Difference against the baseline"),
           .modeTip = tr("Bars of the values, or of the paired differences against the "
                         "untrained baseline (same evaluation seeds), with 95% whiskers"),
           .reloadTip = tr("Read the experiment directory again (a sweep still running adds its "
                           "runs as they finish)"),
           .chartMinimumHeight = 220},
          parent)
{
    chart()->legend()->hide();
}

ExperimentView::~ExperimentView() = default;

QString ExperimentView::read(const QString &dir)
{
    m_results = std::make_unique<ExperimentResults>(collectExperimentResults(dir.toStdString()));
    return tr("Experiment %1").arg(QDir(dir).dirName());
}

std::vector<std::string> ExperimentView::metrics() const
{
    return m_results ? m_results->metrics : std::vector<std::string>{};
}

void ExperimentView::fillTable()
{
    const ExperimentResults &r = *m_results;
    const auto &sweep = r.state.sweep;
    int evaluated = 0, failed = 0, pending = 0;
    QStringList failures;
    for (std::size_t i = 0; i < r.state.runs.size(); ++i) {
        const auto &run = r.state.runs[i];
        evaluated += run.state == ExperimentRunState::Evaluated;
        pending +=
            run.state == ExperimentRunState::Pending || run.state == ExperimentRunState::Trained;
        if (run.state == ExperimentRunState::Failed) {
            ++failed;
            failures << tr("%1: %2").arg(qs(run.id), qs(run.message));
        }
    }
    QString overview =
        tr("%1: %2 of %3 runs evaluated, %4 not yet, %5 failed. Evaluation: %6 replications "
           "(eval seed %7) on %8 of %9.")
            .arg(directory())
            .arg(evaluated)
            .arg(sweep.runs.size())
            .arg(pending)
            .arg(failed)
            .arg(sweep.eval.replications)
            .arg(sweep.eval.seed)
            .arg(sweep.eval.maxClips > 0 ? tr("%1 clips").arg(sweep.eval.maxClips)
                                         : tr("all clips"))
            .arg(qs(sweep.eval.dataset + "/" + sweep.eval.split + ".txt"));
    if (sweep.baseline && !r.baseline)
        overview += tr(" The baseline is not evaluated yet.");
    if (!failures.isEmpty())
        overview += QStringLiteral("\n") + failures.join(QStringLiteral("\n"));
    summary()->setText(overview);

    std::vector<const ExperimentRow *> rows;
    if (r.baseline)
        rows.push_back(&*r.baseline);
    for (const auto &row : r.configurations)
        rows.push_back(&row);
    table()->clear();
    table()->setRowCount(static_cast<int>(rows.size()));
    table()->setColumnCount(static_cast<int>(r.metrics.size()) + 2);
    QStringList headers = {tr("Configuration"), tr("Runs")};
    for (const auto &metric : r.metrics)
        headers << qs(metric);
    table()->setHorizontalHeaderLabels(headers);
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
        const ExperimentRow &row = *rows[static_cast<std::size_t>(i)];
        table()->setItem(i, 0, new QTableWidgetItem(qs(row.configuration)));
        table()->setItem(i, 1, new QTableWidgetItem(QString::number(row.evaluatedRuns)));
        for (int m = 0; m < static_cast<int>(r.metrics.size()); ++m) {
            const auto it = row.cells.find(r.metrics[static_cast<std::size_t>(m)]);
            if (it == row.cells.end()) {
                table()->setItem(i, m + 2, new QTableWidgetItem(QStringLiteral("–")));
                continue;
            }
            const QString text = estimateText(it->second.value, it->second.difference);
            auto *item = new QTableWidgetItem(text);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            table()->setItem(i, m + 2, item);
        }
    }
    table()->resizeColumnsToContents();
    table()->resizeRowsToContents();
}

void ExperimentView::redrawChart()
{
    clearChart();
    QChart *plot = chart();
    const QString metricName = chartMetric();
    if (!m_results || metricName.isEmpty()) {
        plot->setTitle(tr("No evaluated runs yet"));
        return;
    }
    const std::string metric = metricName.toStdString();
    const bool differences = showDifferences();
    struct Bar {
        QString name;
        IntervalEstimate estimate;
    };
    std::vector<Bar> bars;
    const auto addRow = [&](const ExperimentRow &row) {
        const auto it = row.cells.find(metric);
        if (it == row.cells.end())
            return;
        if (!differences)
            bars.push_back({qs(row.configuration), it->second.value});
        else if (it->second.difference)
            bars.push_back({qs(row.configuration), *it->second.difference});
    };
    if (m_results->baseline && !differences)
        addRow(*m_results->baseline);
    for (const auto &row : m_results->configurations)
        addRow(row);
    plot->setTitle(differences
                       ? tr("%1: configuration − baseline (paired), 95% whiskers").arg(metricName)
                       : tr("%1: mean, 95% whiskers").arg(metricName));
    if (bars.empty()) {
        plot->setTitle(differences ? tr("No paired differences: the baseline or the runs are "
                                        "not evaluated yet")
                                   : tr("No evaluated runs yet"));
        return;
    }
    auto *set = new QBarSet(metricName);
    QStringList categories;
    double low = 0.0, high = 0.0; // bars start at zero
    for (const Bar &bar : bars) {
        *set << bar.estimate.mean;
        categories << bar.name;
        low = std::min(low, bar.estimate.mean - bar.estimate.halfInterval);
        high = std::max(high, bar.estimate.mean + bar.estimate.halfInterval);
    }
    auto *series = new QBarSeries;
    series->append(set);
    series->setBarWidth(0.6);
    plot->addSeries(series);
    auto *xAxis = new QBarCategoryAxis;
    xAxis->append(categories);
    auto *yAxis = new QValueAxis;
    const double pad = (high - low) * 0.08 + 1e-9;
    yAxis->setRange(low < 0 ? low - pad : 0.0, high + pad);
    yAxis->applyNiceNumbers();
    plot->addAxis(xAxis, Qt::AlignBottom);
    plot->addAxis(yAxis, Qt::AlignLeft);
    series->attachAxis(xAxis);
    series->attachAxis(yAxis);
    // A whisker per bar: the cap at the top, down the middle, the cap at the bottom. The
    // category axis places category i at x = i.
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const double x = static_cast<double>(i);
        const double top = bars[i].estimate.mean + bars[i].estimate.halfInterval;
        const double bottom = bars[i].estimate.mean - bars[i].estimate.halfInterval;
        QPen pen(Qt::black);
        pen.setWidthF(1.5);
        addWhisker(x, top, bottom, kCapHalfWidth, pen, xAxis, yAxis)
            ->setName(bars[i].name + QStringLiteral(" 95%"));
    }
}

int ExperimentView::barCount() const
{
    for (QAbstractSeries *series : chart()->series())
        if (auto *bars = qobject_cast<QBarSeries *>(series))
            return bars->barSets().isEmpty() ? 0 : static_cast<int>(bars->barSets()[0]->count());
    return 0;
}

int ExperimentView::whiskerCount() const
{
    int count = 0;
    for (QAbstractSeries *series : chart()->series())
        count += qobject_cast<QLineSeries *>(series) != nullptr;
    return count;
}

} // namespace mp
