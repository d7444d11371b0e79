#include "ui/train/study_experiment_view.h"

#include "app/core/error_text.h"
#include "ml/run/study_experiment_results.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
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

QString cellText(const StudyExperimentPoint &point)
{
    QString text =
        number(point.value.mean) + QStringLiteral(" ± ") + number(point.value.halfInterval);
    if (const auto &d = point.difference)
        text += QStringLiteral("\nΔ ") + number(d->mean, true) + QStringLiteral(" ± ") +
                number(d->halfInterval) + (d->excludesZero() ? QStringLiteral(" *") : QString());
    return text;
}

} // namespace

StudyExperimentView::StudyExperimentView(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("studyExperimentView"));
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table = new QTableWidget(this);
    m_table->setObjectName(QStringLiteral("studyExperimentTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->setToolTip(tr("Mean ± 95% interval (seeds pooled); the second line is the paired "
                           "difference against the untrained model, * where its interval "
                           "excludes zero"));
    m_metric = new QComboBox(this);
    m_metric->setObjectName(QStringLiteral("studyExperimentMetric"));
    m_metric->setToolTip(tr("The metric charted against the labeling budget"));
    m_mode = new QComboBox(this);
    m_mode->setObjectName(QStringLiteral("studyExperimentMode"));
    m_mode->addItem(tr("Values"));
    m_mode->addItem(tr("Difference against the untrained model"));
    m_mode->setToolTip(tr("The values, or the paired differences against the untrained model "
                          "(same evaluation seed), with 95% whiskers"));
    auto *reloadButton = new QPushButton(tr("Re&load"), this);
    reloadButton->setToolTip(tr("Read results.csv again (the experiment writes it when it "
                                "ends)"));

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    auto *chartView = new QChartView(m_chart, this);
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumHeight(260);

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Chart:"), this));
    controls->addWidget(m_metric, 1);
    controls->addWidget(m_mode, 1);
    controls->addWidget(reloadButton);
    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addLayout(controls);
    bottomLayout->addWidget(chartView, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(bottom);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);

    connect(m_metric, &QComboBox::currentIndexChanged, this, &StudyExperimentView::redrawChart);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &StudyExperimentView::redrawChart);
    connect(reloadButton, &QPushButton::clicked, this, &StudyExperimentView::reload);
}

StudyExperimentView::~StudyExperimentView() = default;

bool StudyExperimentView::open(const QString &dir)
{
    m_dir = QDir(dir).absolutePath();
    return reload();
}

bool StudyExperimentView::reload()
{
    try {
        m_results = std::make_unique<StudyExperimentResults>(
            readStudyExperimentResults(m_dir.toStdString()));
        m_error.clear();
    } catch (const std::exception &error) {
        m_error = errorText(error);
        m_summary->setText(m_error);
        m_summary->setStyleSheet(QStringLiteral("color: #a00000;"));
        return false;
    }
    m_summary->setStyleSheet(QString());
    setWindowTitle(tr("Study experiment %1").arg(QDir(m_dir).dirName()));
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

void StudyExperimentView::fillTable()
{
    const StudyExperimentResults &r = *m_results;
    QStringList arms, budgets;
    for (const auto &arm : r.arms)
        arms << qs(arm);
    for (const auto budget : r.budgets)
        budgets << QString::number(budget);
    m_summary->setText(
        tr("%1: arms %2; labeling budgets %3.")
            .arg(m_dir, arms.join(QStringLiteral(", ")), budgets.join(QStringLiteral(", "))) +
        (r.description.empty() ? QString() : QStringLiteral("\n") + qs(r.description)));
    m_table->clear();
    m_table->setColumnCount(static_cast<int>(r.metrics.size()) + 2);
    QStringList headers = {tr("Arm"), tr("Labels")};
    for (const auto &metric : r.metrics)
        headers << qs(metric);
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setRowCount((r.untrained.empty() ? 0 : 1) +
                         static_cast<int>(r.arms.size() * r.budgets.size()));
    int row = 0;
    const auto setCell = [&](int column, const QString &text) {
        auto *item = new QTableWidgetItem(text);
        if (column >= 2)
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_table->setItem(row, column, item);
    };
    if (!r.untrained.empty()) {
        setCell(0, tr("untrained"));
        setCell(1, QStringLiteral("0"));
        for (int m = 0; m < static_cast<int>(r.metrics.size()); ++m) {
            const auto it = r.untrained.find(r.metrics[static_cast<std::size_t>(m)]);
            setCell(m + 2, it == r.untrained.end()
                               ? QStringLiteral("–")
                               : number(it->second.mean) + QStringLiteral(" ± ") +
                                     number(it->second.halfInterval));
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
                                text = cellText(point);
                }
                setCell(m + 2, text);
            }
            ++row;
        }
    m_table->resizeColumnsToContents();
    m_table->resizeRowsToContents();
}

void StudyExperimentView::setChartMetric(const QString &metric)
{
    const int index = m_metric->findText(metric);
    if (index >= 0)
        m_metric->setCurrentIndex(index);
}

void StudyExperimentView::setShowDifferences(bool differences)
{
    m_mode->setCurrentIndex(differences ? 1 : 0);
}

void StudyExperimentView::redrawChart()
{
    m_chart->removeAllSeries();
    for (QAbstractAxis *axis : m_chart->axes())
        m_chart->removeAxis(axis);
    if (!m_results || m_metric->currentIndex() < 0 || m_results->budgets.empty()) {
        m_chart->setTitle(tr("No results yet"));
        return;
    }
    const std::string metric = m_metric->currentText().toStdString();
    const bool differences = m_mode->currentIndex() == 1;
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
        m_chart->setTitle(differences
                              ? tr("%1 has no paired differences (it is measured against the "
                                   "untrained model already)")
                                    .arg(m_metric->currentText())
                              : tr("No values of %1").arg(m_metric->currentText()));
        return;
    }
    if (reference) {
        low = std::min(low, *reference);
        high = std::max(high, *reference);
    }
    m_chart->setTitle(differences ? tr("%1: arm − untrained (paired) by labels, 95% whiskers")
                                        .arg(m_metric->currentText())
                                  : tr("%1 by labels: mean, 95% whiskers; dashed: untrained")
                                        .arg(m_metric->currentText()));
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
    m_chart->addAxis(xAxis, Qt::AlignBottom);
    m_chart->addAxis(yAxis, Qt::AlignLeft);
    const auto attach = [&](QAbstractSeries *series) {
        m_chart->addSeries(series);
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
            auto *whisker = new QLineSeries;
            whisker->setObjectName(QString::fromLatin1(kWhisker));
            whisker->append({{cx - capHalfWidth, top},
                             {cx + capHalfWidth, top},
                             {cx, top},
                             {cx, bottom},
                             {cx - capHalfWidth, bottom},
                             {cx + capHalfWidth, bottom}});
            QPen whiskerPen(color);
            whiskerPen.setWidthF(1.2);
            whisker->setPen(whiskerPen);
            attach(whisker);
            for (QLegendMarker *marker : m_chart->legend()->markers(whisker))
                marker->setVisible(false);
        }
    }
}

int StudyExperimentView::armLineCount() const
{
    int count = 0;
    for (QAbstractSeries *series : m_chart->series())
        count += series->objectName() == QLatin1String(kArmLine);
    return count;
}

int StudyExperimentView::pointCount() const
{
    int count = 0;
    for (QAbstractSeries *series : m_chart->series())
        if (series->objectName() == QLatin1String(kArmLine))
            count += static_cast<int>(qobject_cast<QLineSeries *>(series)->count());
    return count;
}

int StudyExperimentView::whiskerCount() const
{
    int count = 0;
    for (QAbstractSeries *series : m_chart->series())
        count += series->objectName() == QLatin1String(kWhisker);
    return count;
}

} // namespace mp
