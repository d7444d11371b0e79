#include "ui/train/train_charts.h"

#include "app/jobs/run_follower.h"
#include "ml/run/run_config.h"

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCursor>
#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QStackedWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

namespace mp {

namespace {

constexpr int kRedrawMs = 200; // at most five redraws a second, however fast events arrive

// Distinct, colour-blind-friendly run colours (Okabe-Ito).
const QColor kRunColours[] = {QColor(0, 114, 178),   QColor(213, 94, 0),   QColor(0, 158, 115),
                              QColor(204, 121, 167), QColor(86, 180, 233), QColor(230, 159, 0)};

// The metrics of motion_metrics events the second HumanML3D chart can show, first the default.
struct MotionMetric {
    const char *key;
    const char *label;
    bool lowerIsBetter;
};
const MotionMetric kMotionMetrics[] = {
    {"FID", "FID", true},
    {"Matching_score", "MM-Dist", true},
    {"Diversity", "Diversity", false},
    {"MultiModality", "MultiModality", false},
    {"R_precision_top_1", "R@1", false},
    {"R_precision_top_2", "R@2", false},
    {"R_precision_top_3", "R@3", false},
    {"Foot_skating_ratio", "Foot skating", true},
};

const MotionMetric &motionMetricOf(const QString &key)
{
    for (const MotionMetric &metric : kMotionMetrics)
        if (key == QLatin1String(metric.key))
            return metric;
    return kMotionMetrics[0];
}

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

QColor colourOf(int index)
{
    return kRunColours[index % std::size(kRunColours)];
}

// The line style of the n-th training metric of a chart; an eval metric is always dashed.
Qt::PenStyle trainStyle(int n)
{
    const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DotLine, Qt::DashDotLine, Qt::DashDotDotLine};
    return styles[n % std::size(styles)];
}

// The line style of the k-th metric of a HumanML3D chart (R@1 solid, R@3 dashed).
Qt::PenStyle motionStyle(int k)
{
    return k == 0 ? Qt::SolidLine : Qt::DashLine;
}

// The grey of the legend entries that stand for every run, and of the real motions' lines.
const QColor kNeutral(110, 110, 110);

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
            // A single x (one point so far) still needs an axis of some width.
            const double xMargin = maxX > minX ? xPad * (maxX - minX) : 0.5;
            xAxis->setRange(minX - xMargin, maxX + xMargin);
            const double pad =
                maxY > minY ? 0.05 * (maxY - minY) : std::max(0.05, std::abs(minY) * 0.1);
            yAxis->setRange(minY - pad, maxY + pad);
        }
        xAxis->applyNiceNumbers();
        yAxis->applyNiceNumbers();
    }
};

// 1, 2 or 5 times a power of ten, at least x (x > 0).
double niceStep(double x)
{
    if (!(x > 0))
        return 1.0;
    const double power = std::pow(10.0, std::floor(std::log10(x)));
    for (double factor : {1.0, 2.0, 5.0})
        if (factor * power >= x)
            return factor * power;
    return 10.0 * power;
}

std::optional<double> metricValue(const MetricMap &metrics, const std::string &key)
{
    const auto found = metrics.find(key);
    if (found == metrics.end() || !std::isfinite(found->second))
        return std::nullopt;
    return found->second;
}

// The HumanML3D area's height while it holds only its sentence.
constexpr int kMotionMessageHeight = 90;

} // namespace

TrainCharts::TrainCharts(QWidget *parent) : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    m_grid = grid;
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(4);
    addChart(tr("Loss"), {"loss", "eval_loss", "ppo/loss/total"});
    addChart(tr("KL"), {"objective/kl", "kl"});
    addChart(tr("Rewards"), {"rewards/chosen", "rewards/rejected", "rewards/margins",
                             "env/reward_mean", "ppo/mean_scores"});
    addChart(tr("Reward accuracy"),
             {"rewards/accuracies", "eval_rewards/accuracies", "accuracy", "eval_accuracy"});
    ChartSlot &rPrecision = addChart(tr("R-precision"), {});
    rPrecision.fromMotionMetrics = true;
    rPrecision.motionKeys = {QStringLiteral("R_precision_top_1"),
                             QStringLiteral("R_precision_top_3")};
    ChartSlot &chosen = addChart(tr("HumanML3D metric"), {});
    chosen.fromMotionMetrics = true;

    for (int i = 0; i < 4; ++i)
        grid->addWidget(m_charts[static_cast<std::size_t>(i)].view, i / 2, i % 2);
    // The HumanML3D area: its two charts, or a plain sentence while no run has metrics.
    auto *motionCharts = new QWidget(this);
    auto *motionLayout = new QVBoxLayout(motionCharts);
    motionLayout->setContentsMargins(0, 0, 0, 0);
    m_motionMetric = new QComboBox(motionCharts);
    m_motionMetric->setObjectName(QStringLiteral("motionMetric"));
    for (const MotionMetric &metric : kMotionMetrics)
        m_motionMetric->addItem(QString::fromLatin1(metric.label), QString::fromLatin1(metric.key));
    m_motionMetric->setToolTip(tr("The metric of the right-hand chart"));
    auto *metricRow = new QHBoxLayout;
    auto *caption = new QLabel(
        tr("<b>HumanML3D metrics per epoch</b> (mean over replications; whiskers: 95% interval)"),
        motionCharts);
    metricRow->addWidget(caption);
    metricRow->addStretch(1);
    metricRow->addWidget(new QLabel(tr("Right chart:"), motionCharts));
    metricRow->addWidget(m_motionMetric);
    motionLayout->addLayout(metricRow);
    auto *motionRow = new QHBoxLayout;
    motionRow->setSpacing(4);
    motionRow->addWidget(m_charts[4].view);
    motionRow->addWidget(m_charts[5].view);
    motionLayout->addLayout(motionRow, 1);
    m_motionMessage = new QLabel(this);
    m_motionMessage->setObjectName(QStringLiteral("motionMetricsMessage"));
    m_motionMessage->setWordWrap(true);
    m_motionMessage->setAlignment(Qt::AlignCenter);
    m_motionMessage->setFrameShape(QFrame::StyledPanel);
    m_motionMessage->setMargin(16);
    m_motionStack = new QStackedWidget(this);
    m_motionStack->addWidget(m_motionMessage);
    m_motionStack->addWidget(motionCharts);
    grid->addWidget(m_motionStack, 2, 0, 1, 2);
    grid->setRowStretch(0, 1);
    grid->setRowStretch(1, 1);
    grid->setRowStretch(2, 1);
    for (std::size_t i = 4; i < m_charts.size(); ++i) {
        m_charts[i].xAxis->setTitleText(tr("epoch"));
        m_charts[i].view->setMinimumHeight(200);
    }
    connect(m_motionMetric, &QComboBox::currentIndexChanged, this, &TrainCharts::redrawNow);

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
    // Line segments as markers: the style is what tells a chart's metrics apart.
    slot.chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);
    slot.chart->setMargins(QMargins(4, 4, 4, 4));
    slot.xAxis = new QValueAxis;
    slot.xAxis->setTitleText(tr("step"));
    slot.xAxis->setLabelFormat(QStringLiteral("%d"));
    slot.yAxis = new QValueAxis;
    slot.chart->addAxis(slot.xAxis, Qt::AlignBottom);
    slot.chart->addAxis(slot.yAxis, Qt::AlignLeft);
    slot.view = new QChartView(slot.chart, this);
    slot.view->setRenderHint(QPainter::Antialiasing);
    // Room for the axis labels under a legend row: shorter, Qt Charts elides them to "...".
    slot.view->setMinimumHeight(190);
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
    // A run keeps its colour when it is unticked and ticked again.
    if (!m_colourIndex.contains(follower))
        m_colourIndex.insert(follower, int(m_colourIndex.size()));
    m_runs.push_back({follower, label, m_colourIndex.value(follower)});
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

QColor TrainCharts::runColour(const RunFollower *follower) const
{
    const auto found = m_colourIndex.constFind(follower);
    return found == m_colourIndex.constEnd() ? QColor() : colourOf(*found);
}

void TrainCharts::addSeries(ChartSlot &slot, QXYSeries *series, bool inLegend)
{
    slot.chart->addSeries(series);
    series->attachAxis(slot.xAxis);
    series->attachAxis(slot.yAxis);
    if (inLegend)
        return;
    for (QLegendMarker *marker : slot.chart->legend()->markers(series))
        marker->setVisible(false);
    if (series->name().isEmpty())
        return;
    const QString xName = slot.xAxis->titleText();
    connect(series, &QXYSeries::hovered, series, [series, xName](const QPointF &at, bool entered) {
        if (!entered) {
            QToolTip::hideText();
            return;
        }
        // The data point nearest the pointer along x; x rounded: steps and evaluated epochs are
        // whole, the HumanML3D charts shift overlaid runs a little sideways.
        const QList<QPointF> points = series->points();
        const auto nearest =
            std::min_element(points.begin(), points.end(), [&at](QPointF a, QPointF b) {
                return std::abs(a.x() - at.x()) < std::abs(b.x() - at.x());
            });
        if (nearest == points.end())
            return;
        QToolTip::showText(QCursor::pos(), tr("%1\n%2 %3: %4")
                                               .arg(series->name(), xName)
                                               .arg(std::round(nearest->x()))
                                               .arg(nearest->y(), 0, 'g', 4));
    });
}

void TrainCharts::addLegendEntry(ChartSlot &slot, const QString &name, Qt::PenStyle style)
{
    auto *entry = new QLineSeries;
    entry->setName(name);
    entry->setPen(QPen(kNeutral, 2.0, style));
    addSeries(slot, entry, true);
}

void TrainCharts::scheduleRedraw()
{
    if (!m_redrawTimer.isActive())
        m_redrawTimer.start();
}

void TrainCharts::redrawNow()
{
    m_redrawTimer.stop();
    bool anyMotionPoint = false;
    for (ChartSlot &slot : m_charts) {
        if (slot.fromMotionMetrics)
            redrawMotionChart(slot, anyMotionPoint);
        else
            redrawChart(slot);
    }
    if (!anyMotionPoint)
        m_motionMessage->setText(emptyMotionMessage());
    showMotionMessage(!anyMotionPoint);
}

// The sentence takes a strip; the step charts get the room its charts would have had.
void TrainCharts::showMotionMessage(bool message)
{
    m_motionStack->setCurrentIndex(message ? 0 : 1);
    m_motionStack->setMaximumHeight(message ? kMotionMessageHeight : QWIDGETSIZE_MAX);
    m_grid->setRowStretch(2, message ? 0 : 1);
}

QString TrainCharts::emptyMotionMessage()
{
    if (m_runs.empty())
        return tr("HumanML3D metrics (R-precision, FID, ...) per epoch appear here for runs that "
                  "compute them.");
    QStringList waiting;
    for (Run &run : m_runs) {
        if (run.motionEveryEpochs < 0) {
            // config.json: the run's one configuration.
            const QString path =
                QDir(run.follower->runDir()).filePath(QStringLiteral("config.json"));
            if (QFileInfo::exists(path)) {
                try {
                    const RunConfig config = loadRunConfig(path.toStdString());
                    run.motionEveryEpochs =
                        config.eval.motionMetrics ? int(config.eval.motionEveryEpochs) : 0;
                } catch (const std::exception &) {
                    run.motionEveryEpochs = 0; // unreadable: charted without metrics
                }
            }
        }
        if (run.motionEveryEpochs > 0)
            waiting << tr("%1 evaluates after every %2 epoch(s) and at its end")
                           .arg(run.label)
                           .arg(run.motionEveryEpochs);
    }
    if (!waiting.isEmpty())
        return tr("No HumanML3D metrics yet: %1.").arg(waiting.join(QStringLiteral("; ")));
    return tr("No HumanML3D metrics in %n shown run(s). A run computes R-precision, FID and the "
              "others per epoch when \"Evaluate the policy during training\" is ticked under "
              "HumanML3D metrics (eval.motion_metrics in run.json).",
              nullptr, int(m_runs.size()));
}

QString TrainCharts::motionMetricsMessage() const
{
    return m_motionStack->currentIndex() == 0 ? m_motionMessage->text() : QString();
}

void TrainCharts::setMotionMetric(const QString &metric)
{
    const int index = m_motionMetric->findData(metric);
    if (index >= 0)
        m_motionMetric->setCurrentIndex(index);
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
    int trainMetrics = 0;
    for (const QString &key : slot.stepKeys) {
        const std::string metric = key.toStdString();
        const bool eval = key.startsWith(QLatin1String("eval_"));
        const Qt::PenStyle style = eval ? Qt::DashLine : trainStyle(trainMetrics);
        bool drawn = false;
        for (const Run &run : m_runs) {
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
            series->setPen(QPen(colourOf(run.colourIndex), 1.8, style));
            series->replace(points);
            addSeries(slot, series, false);
            drawn = true;
        }
        if (!drawn)
            continue;
        addLegendEntry(slot, shortMetricName(key), style);
        if (!eval)
            ++trainMetrics;
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

void TrainCharts::redrawMotionChart(ChartSlot &slot, bool &anyPoint)
{
    slot.chart->removeAllSeries();
    const QStringList keys = slot.motionKeys.isEmpty()
                                 ? QStringList{m_motionMetric->currentData().toString()}
                                 : slot.motionKeys;
    struct Point {
        double epoch;
        double mean;
        double ci;
    };
    struct Curve {
        const Run *run;
        int keyIndex;
        std::vector<Point> points;
    };
    std::vector<Curve> curves;
    std::vector<const Run *> runsWithPoints;
    // The real motions' value of each key (the same split every epoch): one reference line.
    std::vector<std::optional<double>> reference(static_cast<std::size_t>(keys.size()));
    Range range;
    for (const Run &run : m_runs) {
        bool runHasPoints = false;
        for (int k = 0; k < keys.size(); ++k) {
            const std::string mean = "motion/" + keys[k].toStdString();
            const std::string gt = "motion/gt_" + keys[k].toStdString();
            Curve curve{&run, k, {}};
            for (const Event &event : run.follower->events()) {
                if (event.type != EventType::MotionMetrics)
                    continue;
                const auto value = metricValue(event.metrics, mean);
                if (!value)
                    continue;
                const double ci = metricValue(event.metrics, mean + "/ci").value_or(0.0);
                curve.points.push_back({event.epoch, *value, ci});
                range.add(event.epoch, *value + ci);
                range.add(event.epoch, *value - ci);
                if (const auto real = metricValue(event.metrics, gt);
                    real && !reference[static_cast<std::size_t>(k)])
                    reference[static_cast<std::size_t>(k)] = *real;
            }
            if (!curve.points.empty()) {
                runHasPoints = true;
                curves.push_back(std::move(curve));
            }
        }
        if (runHasPoints)
            runsWithPoints.push_back(&run);
    }
    for (std::size_t k = 0; k < reference.size(); ++k)
        if (reference[k] && !range.empty())
            range.add(range.minX, *reference[k]);

    const MotionMetric &single = motionMetricOf(keys.front());
    if (slot.motionKeys.isEmpty())
        slot.chart->setTitle(single.lowerIsBetter ? tr("%1 (lower is better)").arg(single.label)
                                                  : tr("%1 (higher is better)").arg(single.label));
    else
        slot.chart->setTitle(tr("R-precision (higher is better)"));
    if (curves.empty()) {
        range.apply(slot.xAxis, slot.yAxis);
        return;
    }
    anyPoint = true;

    // Whisker caps and the sideways shift that keeps overlaid runs' whiskers apart, in epochs.
    const double span = std::max(2.0, range.maxX - range.minX);
    const double cap = 0.018 * span;
    const auto shiftOf = [&](const Run *run) {
        const auto found = std::find(runsWithPoints.begin(), runsWithPoints.end(), run);
        const double index = double(found - runsWithPoints.begin());
        return (index - (double(runsWithPoints.size()) - 1.0) / 2.0) * 2.5 * cap;
    };
    for (std::size_t k = 0; k < reference.size(); ++k) {
        if (!reference[k])
            continue;
        auto *line = new QLineSeries;
        line->setName(tr("real %1").arg(motionMetricOf(keys[int(k)]).label));
        line->setPen(QPen(kNeutral, 1.2, Qt::DotLine));
        line->append(range.minX - 0.5, *reference[k]);
        line->append(range.maxX + 0.5, *reference[k]);
        addSeries(slot, line, true);
    }
    for (const Curve &curve : curves) {
        const double shift = runsWithPoints.size() > 1 ? shiftOf(curve.run) : 0.0;
        const QColor colour = colourOf(curve.run->colourIndex);
        const QString name = curve.run->label + QLatin1Char(' ') +
                             QString::fromLatin1(motionMetricOf(keys[curve.keyIndex]).label);
        for (const Point &point : curve.points) {
            // An I-beam: the cap at each end joined by the vertical interval.
            const double x = point.epoch + shift;
            const double low = point.mean - point.ci;
            const double high = point.mean + point.ci;
            auto *whisker = new QLineSeries;
            whisker->replace({QPointF(x - cap, low), QPointF(x + cap, low), QPointF(x, low),
                              QPointF(x, high), QPointF(x - cap, high), QPointF(x + cap, high)});
            whisker->setPen(QPen(colour, 1.3));
            addSeries(slot, whisker, false);
        }
        auto *line = new QLineSeries;
        line->setName(name);
        line->setPen(QPen(colour, 2.0, motionStyle(curve.keyIndex)));
        line->setPointsVisible(true);
        line->setMarkerSize(5);
        QList<QPointF> points;
        for (const Point &point : curve.points)
            points.append(QPointF(point.epoch + shift, point.mean));
        line->replace(points);
        addSeries(slot, line, false);
    }
    for (int k = 0; k < keys.size(); ++k)
        if (std::any_of(curves.begin(), curves.end(),
                        [k](const Curve &curve) { return curve.keyIndex == k; }))
            addLegendEntry(slot, QString::fromLatin1(motionMetricOf(keys[k]).label),
                           motionStyle(k));
    Range padded = range;
    padded.add(range.minX - 0.5, range.minY);
    padded.add(range.maxX + 0.5, range.maxY);
    padded.apply(slot.xAxis, slot.yAxis);
    // Every HumanML3D metric is >= 0 and R-precision <= 1: no axis room beyond; ticks on round
    // values of the clamped range.
    double low = std::max(0.0, slot.yAxis->min());
    double high = slot.yAxis->max();
    if (keys.front().startsWith(QLatin1String("R_precision")))
        high = std::min(1.0, high);
    const double step = niceStep((high - low) / 5.0);
    low = std::floor(low / step + 1e-9) * step;
    high = std::ceil(high / step - 1e-9) * step;
    slot.yAxis->setRange(low, high);
    slot.yAxis->setTickType(QValueAxis::TicksDynamic);
    slot.yAxis->setTickAnchor(0.0);
    slot.yAxis->setTickInterval(step);
    // Whole epochs on the axis, however few.
    slot.xAxis->setTickType(QValueAxis::TicksDynamic);
    slot.xAxis->setTickAnchor(0.0);
    slot.xAxis->setTickInterval(std::max(1.0, std::ceil((padded.maxX - padded.minX) / 8.0)));
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
