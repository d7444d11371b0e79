#include "ui/train/experiment_window.h"

#include "app/core/error_text.h"
#include "ml/run/experiment_report.h"

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

#include <algorithm>
#include <cmath>

namespace mp {

ExperimentWindow::ExperimentWindow(const Texts &texts, QWidget *parent) : QWidget(parent)
{
    const auto name = [&](const char *suffix) {
        return texts.objectPrefix + QLatin1String(suffix);
    };
    setObjectName(name("View"));
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table = new QTableWidget(this);
    m_table->setObjectName(name("Table"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->setToolTip(texts.tableTip);
    m_metric = new QComboBox(this);
    m_metric->setObjectName(name("Metric"));
    m_metric->setToolTip(texts.metricTip);
    m_mode = new QComboBox(this);
    m_mode->setObjectName(name("Mode"));
    m_mode->addItem(tr("Values"));
    m_mode->addItem(texts.differenceMode);
    m_mode->setToolTip(texts.modeTip);
    auto *reloadButton = new QPushButton(tr("Re&load"), this);
    reloadButton->setToolTip(texts.reloadTip);

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    auto *chartView = new QChartView(m_chart, this);
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumHeight(texts.chartMinimumHeight);

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

    connect(m_metric, &QComboBox::currentIndexChanged, this, [this] { redrawChart(); });
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] { redrawChart(); });
    connect(reloadButton, &QPushButton::clicked, this, &ExperimentWindow::reload);
}

ExperimentWindow::~ExperimentWindow() = default;

bool ExperimentWindow::open(const QString &dir)
{
    m_dir = QDir(dir).absolutePath();
    return reload();
}

bool ExperimentWindow::reload()
{
    QString title;
    try {
        title = read(m_dir);
        m_error.clear();
    } catch (const std::exception &error) {
        m_error = errorText(error);
        m_summary->setText(m_error);
        m_summary->setStyleSheet(QStringLiteral("color: #a00000;"));
        return false;
    }
    m_summary->setStyleSheet(QString());
    setWindowTitle(title);
    fillTable();
    const QString current = m_metric->currentText();
    {
        QSignalBlocker block(m_metric);
        m_metric->clear();
        for (const auto &metric : metrics())
            m_metric->addItem(QString::fromStdString(metric));
        m_metric->setCurrentIndex(std::max(0, m_metric->findText(current)));
    }
    redrawChart();
    return true;
}

void ExperimentWindow::setChartMetric(const QString &metric)
{
    const int index = m_metric->findText(metric);
    if (index >= 0)
        m_metric->setCurrentIndex(index);
}

void ExperimentWindow::setShowDifferences(bool differences)
{
    m_mode->setCurrentIndex(differences ? 1 : 0);
}

QString ExperimentWindow::chartMetric() const
{
    return m_metric->currentIndex() < 0 ? QString() : m_metric->currentText();
}

bool ExperimentWindow::showDifferences() const
{
    return m_mode->currentIndex() == 1;
}

QString ExperimentWindow::number(double value, bool sign)
{
    if (!std::isfinite(value))
        return QStringLiteral("nan");
    return (sign && value >= 0 ? QStringLiteral("+") : QString()) + QString::number(value, 'f', 3);
}

QString ExperimentWindow::estimateText(const IntervalEstimate &value,
                                       const std::optional<IntervalEstimate> &difference)
{
    QString text = number(value.mean) + QStringLiteral(" ± ") + number(value.halfInterval);
    if (difference)
        text += QStringLiteral("\nΔ ") + number(difference->mean, true) + QStringLiteral(" ± ") +
                number(difference->halfInterval) +
                (difference->excludesZero() ? QStringLiteral(" *") : QString());
    return text;
}

void ExperimentWindow::clearChart()
{
    m_chart->removeAllSeries();
    for (QAbstractAxis *axis : m_chart->axes())
        m_chart->removeAxis(axis);
}

QLineSeries *ExperimentWindow::addWhisker(double x, double top, double bottom, double capHalfWidth,
                                          const QPen &pen, QAbstractAxis *xAxis,
                                          QAbstractAxis *yAxis)
{
    auto *whisker = new QLineSeries;
    whisker->append({{x - capHalfWidth, top},
                     {x + capHalfWidth, top},
                     {x, top},
                     {x, bottom},
                     {x - capHalfWidth, bottom},
                     {x + capHalfWidth, bottom}});
    whisker->setPen(pen);
    m_chart->addSeries(whisker);
    whisker->attachAxis(xAxis);
    whisker->attachAxis(yAxis);
    return whisker;
}

} // namespace mp
