#include "ui/train/experiment_view.h"

#include "app/core/error_text.h"
#include "ml/run/experiment_report.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace mp {
namespace {

constexpr double kCapHalfWidth = 0.12; // whisker caps, in category widths

QString number(double value, bool sign = false)
{
    if (!std::isfinite(value))
        return QStringLiteral("nan");
    return (sign && value >= 0 ? QStringLiteral("+") : QString()) + QString::number(value, 'f', 3);
}

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

} // namespace

ExperimentView::ExperimentView(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("experimentView"));
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table = new QTableWidget(this);
    m_table->setObjectName(QStringLiteral("experimentTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->setToolTip(tr("Mean ± 95% interval over the replications (seeds pooled); the "
                           "second line is the paired difference against the baseline, * where "
                           "its interval excludes zero"));
    m_metric = new QComboBox(this);
    m_metric->setObjectName(QStringLiteral("experimentMetric"));
    m_metric->setToolTip(tr("The metric in the bar chart"));
    m_mode = new QComboBox(this);
    m_mode->setObjectName(QStringLiteral("experimentMode"));
    m_mode->addItem(tr("Values"));
    m_mode->addItem(tr("Difference against the baseline"));
    m_mode->setToolTip(tr("Bars of the values, or of the paired differences against the "
                          "untrained baseline (same evaluation seeds), with 95% whiskers"));
    auto *reloadButton = new QPushButton(tr("Re&load"), this);
    reloadButton->setToolTip(tr("Read the experiment directory again (a sweep still running "
                                "adds its runs as they finish)"));

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->legend()->hide();
    m_chartView = new QChartView(m_chart, this);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumHeight(220);

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Chart:"), this));
    controls->addWidget(m_metric, 1);
    controls->addWidget(m_mode, 1);
    controls->addWidget(reloadButton);

    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addLayout(controls);
    bottomLayout->addWidget(m_chartView, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(bottom);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);

    connect(m_metric, &QComboBox::currentIndexChanged, this, &ExperimentView::redrawChart);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &ExperimentView::redrawChart);
    connect(reloadButton, &QPushButton::clicked, this, &ExperimentView::reload);
}

ExperimentView::~ExperimentView() = default;

bool ExperimentView::open(const QString &dir)
{
    m_dir = QDir(dir).absolutePath();
    return reload();
}

bool ExperimentView::reload()
{
    try {
        auto results =
            std::make_unique<ExperimentResults>(collectExperimentResults(m_dir.toStdString()));
        m_results = std::move(results);
        m_error.clear();
    } catch (const std::exception &error) {
        m_error = errorText(error);
        m_summary->setText(m_error);
        m_summary->setStyleSheet(QStringLiteral("color: #a00000;"));
        return false;
    }
    m_summary->setStyleSheet(QString());
    setWindowTitle(tr("Experiment %1").arg(QDir(m_dir).dirName()));
    fillTable();
    const QString current = m_metric->currentText();
    {
        QSignalBlocker block(m_metric);
        m_metric->clear();
        for (const auto &metric : m_results->metrics)
            m_metric->addItem(qs(metric));
        m_metric->setCurrentIndex(std::max(0, m_metric->findText(current)));
    }
    redrawChart();
    return true;
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
    QString summary =
        tr("%1: %2 of %3 runs evaluated, %4 not yet, %5 failed. Evaluation: %6 replications "
           "(eval seed %7) on %8 of %9.")
            .arg(m_dir)
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
        summary += tr(" The baseline is not evaluated yet.");
    if (!failures.isEmpty())
        summary += QStringLiteral("\n") + failures.join(QStringLiteral("\n"));
    m_summary->setText(summary);

    std::vector<const ExperimentRow *> rows;
    if (r.baseline)
        rows.push_back(&*r.baseline);
    for (const auto &row : r.configurations)
        rows.push_back(&row);
    m_table->clear();
    m_table->setRowCount(static_cast<int>(rows.size()));
    m_table->setColumnCount(static_cast<int>(r.metrics.size()) + 2);
    QStringList headers = {tr("Configuration"), tr("Runs")};
    for (const auto &metric : r.metrics)
        headers << qs(metric);
    m_table->setHorizontalHeaderLabels(headers);
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
        const ExperimentRow &row = *rows[static_cast<std::size_t>(i)];
        m_table->setItem(i, 0, new QTableWidgetItem(qs(row.configuration)));
        m_table->setItem(i, 1, new QTableWidgetItem(QString::number(row.evaluatedRuns)));
        for (int m = 0; m < static_cast<int>(r.metrics.size()); ++m) {
            const auto it = row.cells.find(r.metrics[static_cast<std::size_t>(m)]);
            if (it == row.cells.end()) {
                m_table->setItem(i, m + 2, new QTableWidgetItem(QStringLiteral("–")));
                continue;
            }
            QString text = number(it->second.value.mean) + QStringLiteral(" ± ") +
                           number(it->second.value.halfInterval);
            if (const auto &d = it->second.difference) {
                text += QStringLiteral("\nΔ ") + number(d->mean, true) + QStringLiteral(" ± ") +
                        number(d->halfInterval) +
                        (d->excludesZero() ? QStringLiteral(" *") : QString());
            }
            auto *item = new QTableWidgetItem(text);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(i, m + 2, item);
        }
    }
    m_table->resizeColumnsToContents();
    m_table->resizeRowsToContents();
}

void ExperimentView::setChartMetric(const QString &metric)
{
    const int index = m_metric->findText(metric);
    if (index >= 0)
        m_metric->setCurrentIndex(index);
}

void ExperimentView::setShowDifferences(bool differences)
{
    m_mode->setCurrentIndex(differences ? 1 : 0);
}

void ExperimentView::redrawChart()
{
    m_chart->removeAllSeries();
    for (QAbstractAxis *axis : m_chart->axes())
        m_chart->removeAxis(axis);
    if (!m_results || m_metric->currentIndex() < 0) {
        m_chart->setTitle(tr("No evaluated runs yet"));
        return;
    }
    const std::string metric = m_metric->currentText().toStdString();
    const bool differences = m_mode->currentIndex() == 1;
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
    m_chart->setTitle(
        differences
            ? tr("%1: configuration − baseline (paired), 95% whiskers").arg(m_metric->currentText())
            : tr("%1: mean, 95% whiskers").arg(m_metric->currentText()));
    if (bars.empty()) {
        m_chart->setTitle(differences ? tr("No paired differences: the baseline or the runs are "
                                           "not evaluated yet")
                                      : tr("No evaluated runs yet"));
        return;
    }
    auto *set = new QBarSet(m_metric->currentText());
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
    m_chart->addSeries(series);
    auto *xAxis = new QBarCategoryAxis;
    xAxis->append(categories);
    auto *yAxis = new QValueAxis;
    const double pad = (high - low) * 0.08 + 1e-9;
    yAxis->setRange(low < 0 ? low - pad : 0.0, high + pad);
    yAxis->applyNiceNumbers();
    m_chart->addAxis(xAxis, Qt::AlignBottom);
    m_chart->addAxis(yAxis, Qt::AlignLeft);
    series->attachAxis(xAxis);
    series->attachAxis(yAxis);
    // A whisker per bar: the cap at the top, down the middle, the cap at the bottom. The
    // category axis places category i at x = i.
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const double x = static_cast<double>(i);
        const double top = bars[i].estimate.mean + bars[i].estimate.halfInterval;
        const double bottom = bars[i].estimate.mean - bars[i].estimate.halfInterval;
        auto *whisker = new QLineSeries;
        whisker->setName(bars[i].name + QStringLiteral(" 95%"));
        whisker->append({{x - kCapHalfWidth, top},
                         {x + kCapHalfWidth, top},
                         {x, top},
                         {x, bottom},
                         {x - kCapHalfWidth, bottom},
                         {x + kCapHalfWidth, bottom}});
        QPen pen(Qt::black);
        pen.setWidthF(1.5);
        whisker->setPen(pen);
        m_chart->addSeries(whisker);
        whisker->attachAxis(xAxis);
        whisker->attachAxis(yAxis);
    }
}

int ExperimentView::barCount() const
{
    for (QAbstractSeries *series : m_chart->series())
        if (auto *bars = qobject_cast<QBarSeries *>(series))
            return bars->barSets().isEmpty() ? 0 : static_cast<int>(bars->barSets()[0]->count());
    return 0;
}

int ExperimentView::whiskerCount() const
{
    int count = 0;
    for (QAbstractSeries *series : m_chart->series())
        count += qobject_cast<QLineSeries *>(series) != nullptr;
    return count;
}

} // namespace mp
