#include "ui/train_charts.h"

#include "app/jobs/run_follower.h"

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mp {

namespace {

constexpr int kRedrawMs = 200; // at most five redraws a second, however fast events arrive

// Distinct, colour-blind-friendly run colours (Okabe-Ito).
const QColor kRunColours[] = {QColor(0, 114, 178),   QColor(213, 94, 0),   QColor(0, 158, 115),
                              QColor(204, 121, 167), QColor(86, 180, 233), QColor(230, 159, 0)};

const QStringList kEvaluationMetrics = {
    "R_precision_top_1", "R_precision_top_2", "R_precision_top_3", "FID",
    "Matching_score",    "Diversity",         "MultiModality",     "Foot_skating_ratio"};

// "rewards/margins" -> "margins", "eval_rewards/accuracies" -> "eval accuracies": legends stay
// short.
QString shortMetricName(const QString &key)
{
    QString name = key;
    for (const char *prefix : {"rewards/", "objective/", "env/"})
        name.replace(QLatin1String(prefix), QString());
    name.replace(QLatin1Char('/'), QLatin1Char(' '));
    name.replace(QLatin1Char('_'), QLatin1Char(' '));
    return name;
}

QColor runColour(int index, int metricIndex)
{
    QColor colour = kRunColours[index % std::size(kRunColours)];
    // Later metrics of the same run are lighter shades, so runs stay told apart by hue.
    return metricIndex == 0 ? colour : colour.lighter(100 + 35 * metricIndex);
}

struct Range {
    double minX = std::numeric_limits<double>::infinity();
    double maxX = -std::numeric_limits<double>::infinity();
    double minY = std::numeric_limits<double>::infinity();
    double maxY = -std::numeric_limits<double>::infinity();
    void add(double x, double y)
    {
        minX = std::min(minX, x);
        maxX = std::max(maxX, x);
        minY = std::min(minY, y);
        maxY = std::max(maxY, y);
    }
    bool empty() const { return !std::isfinite(minX); }
    void apply(QValueAxis *xAxis, QValueAxis *yAxis, double xPad = 0.0) const
    {
        if (empty()) {
            xAxis->setRange(0, 100);
            yAxis->setRange(0, 1);
        } else {
            const double span = maxX > minX ? maxX - minX : 1.0;
            xAxis->setRange(minX - xPad * span, maxX + xPad * span);
            const double pad =
                maxY > minY ? 0.05 * (maxY - minY) : std::max(0.05, std::abs(minY) * 0.1);
            yAxis->setRange(minY - pad, maxY + pad);
        }
        xAxis->applyNiceNumbers();
        yAxis->applyNiceNumbers();
    }
};

std::optional<double> metricValue(const MetricMap &metrics, const std::string &key)
{
    const auto found = metrics.find(key);
    if (found == metrics.end() || !std::isfinite(found->second))
        return std::nullopt;
    return found->second;
}

} // namespace

TrainCharts::TrainCharts(QWidget *parent) : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(4);
    addChart(tr("Loss"), {"loss", "eval_loss", "ppo/loss/total"});
    addChart(tr("KL"), {"objective/kl", "kl"});
    addChart(tr("Rewards"), {"rewards/chosen", "rewards/rejected", "rewards/margins",
                             "env/reward_mean", "ppo/mean_scores"});
    addChart(tr("Reward accuracy"),
             {"rewards/accuracies", "eval_rewards/accuracies", "accuracy", "eval_accuracy"});
    ChartSlot &evaluation = addChart(tr("HumanML3D metrics"), {});
    evaluation.fromEvaluations = true;

    for (int i = 0; i < 4; ++i)
        grid->addWidget(m_charts[static_cast<std::size_t>(i)].view, i / 2, i % 2);
    auto *evalBox = new QWidget(this);
    auto *evalLayout = new QVBoxLayout(evalBox);
    evalLayout->setContentsMargins(0, 0, 0, 0);
    m_evalMetric = new QComboBox(evalBox);
    m_evalMetric->addItems(kEvaluationMetrics);
    m_evalMetric->setToolTip(tr("Metric per evaluation; the band is the 95% confidence interval"));
    auto *metricRow = new QHBoxLayout;
    metricRow->addWidget(new QLabel(tr("Evaluation metric:"), evalBox));
    metricRow->addWidget(m_evalMetric);
    metricRow->addStretch(1);
    evalLayout->addLayout(metricRow);
    evalLayout->addWidget(evaluation.view, 1);
    grid->addWidget(evalBox, 2, 0, 1, 2);
    connect(m_evalMetric, &QComboBox::currentIndexChanged, this, &TrainCharts::redrawNow);

    m_redrawTimer.setSingleShot(true);
    m_redrawTimer.setInterval(kRedrawMs);
    connect(&m_redrawTimer, &QTimer::timeout, this, &TrainCharts::redrawNow);
}

TrainCharts::ChartSlot &TrainCharts::addChart(const QString &title, const QStringList &stepKeys)
{
    ChartSlot slot;
    slot.title = title;
    slot.stepKeys = stepKeys;
    slot.chart = new QChart;
    slot.chart->setTitle(title);
    slot.chart->setAnimationOptions(QChart::NoAnimation);
    slot.chart->legend()->setAlignment(Qt::AlignBottom);
    QFont legendFont = slot.chart->legend()->font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85); // six entries fit under a chart
    slot.chart->legend()->setFont(legendFont);
    slot.chart->setMargins(QMargins(4, 4, 4, 4));
    slot.xAxis = new QValueAxis;
    slot.xAxis->setTitleText(tr("step"));
    slot.xAxis->setLabelFormat(QStringLiteral("%d"));
    slot.yAxis = new QValueAxis;
    slot.chart->addAxis(slot.xAxis, Qt::AlignBottom);
    slot.chart->addAxis(slot.yAxis, Qt::AlignLeft);
    slot.view = new QChartView(slot.chart, this);
    slot.view->setRenderHint(QPainter::Antialiasing);
    slot.view->setMinimumHeight(160);
    m_charts.push_back(slot);
    return m_charts.back();
}

QStringList TrainCharts::chartTitles() const
{
    QStringList titles;
    for (const ChartSlot &slot : m_charts)
        titles << slot.title;
    return titles;
}

void TrainCharts::addRun(RunFollower *follower, const QString &label)
{
    m_runs.push_back({follower, label, m_nextColour++});
    connect(follower, &RunFollower::eventsAppended, this, &TrainCharts::scheduleRedraw);
    connect(follower, &QObject::destroyed, this, [this, follower] { removeRun(follower); });
    scheduleRedraw();
}

void TrainCharts::removeRun(RunFollower *follower)
{
    const auto found = std::find_if(m_runs.begin(), m_runs.end(), [follower](const Run &run) {
        return run.follower == follower;
    });
    if (found == m_runs.end())
        return;
    disconnect(follower, nullptr, this, nullptr);
    m_runs.erase(found);
    scheduleRedraw();
}

void TrainCharts::scheduleRedraw()
{
    if (!m_redrawTimer.isActive())
        m_redrawTimer.start();
}

void TrainCharts::redrawNow()
{
    m_redrawTimer.stop();
    for (ChartSlot &slot : m_charts) {
        if (slot.fromEvaluations)
            redrawEvaluationChart(slot);
        else
            redrawChart(slot);
    }
}

void TrainCharts::redrawChart(ChartSlot &slot)
{
    slot.chart->removeAllSeries();
    Range range;
    auto *spikes = new QScatterSeries;
    spikes->setName(tr("spikes"));
    spikes->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
    spikes->setMarkerSize(11);
    spikes->setColor(QColor(200, 0, 0));
    for (const Run &run : m_runs) {
        int metricIndex = 0;
        for (const QString &key : slot.stepKeys) {
            const std::string metric = key.toStdString();
            QList<QPointF> points;
            for (const Event &event : run.follower->events()) {
                if (event.type == EventType::Step || event.type == EventType::Eval) {
                    if (const auto value = metricValue(event.metrics, metric)) {
                        points.append(QPointF(double(event.step), *value));
                        range.add(double(event.step), *value);
                    }
                } else if (event.type == EventType::Spike) {
                    const auto name = event.text.find("metric");
                    const auto value = metricValue(event.metrics, "value");
                    if (name != event.text.end() && name->second == metric && value) {
                        spikes->append(double(event.step), *value);
                        range.add(double(event.step), *value);
                    }
                }
            }
            if (points.isEmpty())
                continue;
            auto *series = new QLineSeries;
            series->setName(run.label + QLatin1Char(' ') + shortMetricName(key));
            QPen pen(runColour(run.colourIndex, metricIndex++));
            pen.setWidthF(1.6);
            if (key.startsWith(QLatin1String("eval_")))
                pen.setStyle(Qt::DashLine);
            series->setPen(pen);
            series->replace(points);
            slot.chart->addSeries(series);
            series->attachAxis(slot.xAxis);
            series->attachAxis(slot.yAxis);
        }
    }
    if (spikes->count() > 0) {
        slot.chart->addSeries(spikes);
        spikes->attachAxis(slot.xAxis);
        spikes->attachAxis(slot.yAxis);
    } else {
        delete spikes;
    }
    range.apply(slot.xAxis, slot.yAxis);
    slot.chart->setTitle(range.empty() && !m_runs.empty()
                             ? tr("%1 (not logged by these runs)").arg(slot.title)
                             : slot.title);
}

void TrainCharts::redrawEvaluationChart(ChartSlot &slot)
{
    slot.chart->removeAllSeries();
    const QString key = m_evalMetric->currentText();
    slot.chart->setTitle(tr("HumanML3D: %1 (95% CI)").arg(key));
    const std::string mean = key.toStdString();
    const std::string ci = mean + "/ci";
    Range range;
    for (const Run &run : m_runs) {
        QList<QPointF> points;
        QList<QPointF> upper;
        QList<QPointF> lower;
        for (const Event &event : run.follower->events()) {
            if (event.type != EventType::Eval)
                continue;
            const auto value = metricValue(event.metrics, mean);
            if (!value)
                continue;
            const double halfWidth = metricValue(event.metrics, ci).value_or(0.0);
            points.append(QPointF(double(event.step), *value));
            upper.append(QPointF(double(event.step), *value + halfWidth));
            lower.append(QPointF(double(event.step), *value - halfWidth));
            range.add(double(event.step), *value + halfWidth);
            range.add(double(event.step), *value - halfWidth);
        }
        if (points.isEmpty())
            continue;
        const QColor colour = runColour(run.colourIndex, 0);
        auto *upperSeries = new QLineSeries;
        auto *lowerSeries = new QLineSeries;
        upperSeries->replace(upper);
        lowerSeries->replace(lower);
        auto *band = new QAreaSeries(upperSeries, lowerSeries);
        band->setName(run.label + tr(" 95% CI"));
        QColor fill = colour;
        fill.setAlpha(60);
        band->setBrush(fill);
        band->setPen(Qt::NoPen);
        slot.chart->addSeries(band);
        band->attachAxis(slot.xAxis);
        band->attachAxis(slot.yAxis);
        auto *line = new QLineSeries;
        line->setName(run.label + QLatin1Char(' ') + key);
        line->setPen(QPen(colour, 2));
        line->setPointsVisible(true);
        line->replace(points);
        slot.chart->addSeries(line);
        line->attachAxis(slot.xAxis);
        line->attachAxis(slot.yAxis);
    }
    range.apply(slot.xAxis, slot.yAxis, 0.05);
    if (range.empty() && !m_runs.empty())
        slot.chart->setTitle(tr("HumanML3D: %1 (no evaluation yet)").arg(key));
}

int TrainCharts::pointCount(const QString &chartTitle, const QString &seriesName) const
{
    for (const ChartSlot &slot : m_charts) {
        if (slot.title != chartTitle)
            continue;
        for (QAbstractSeries *series : slot.chart->series())
            if (series->name() == seriesName)
                if (auto *xy = qobject_cast<QXYSeries *>(series))
                    return xy->count();
    }
    return 0;
}

int TrainCharts::spikeCount(const QString &chartTitle) const
{
    return pointCount(chartTitle, tr("spikes"));
}

} // namespace mp
