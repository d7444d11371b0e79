#include "ui/compare/ab_results_view.h"

#include "app/compare/ab_session.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QStackedBarSeries>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

namespace mp {

QString temperatureText(double temperature)
{
    return temperature <= 0 ? QObject::tr("greedy") : QString::number(temperature, 'g', 3);
}

namespace {
QString percent(double fraction)
{
    return QStringLiteral("%1%").arg(100.0 * fraction, 0, 'f', 0);
}

QTableWidgetItem *cell(const QString &text)
{
    auto *item = new QTableWidgetItem(text);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    return item;
}
} // namespace

AbResultsView::AbResultsView(QWidget *parent) : QWidget(parent)
{
    m_table = new QTableWidget(0, 5, this);
    m_table->setObjectName(QStringLiteral("abTallies"));
    m_table->setHorizontalHeaderLabels(
        {tr("Temp."), tr("B wins"), tr("Ties"), tr("A wins"), tr("Answered")});
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->setFocusPolicy(Qt::NoFocus);
    m_table->setToolTip(tr("Model B against model A: B wins when the rater preferred B's motion"));

    m_wins = new QBarSet(tr("B wins"));
    m_ties = new QBarSet(tr("Tie"));
    m_losses = new QBarSet(tr("A wins"));
    m_wins->setColor(QColor(0x3b, 0x8e, 0xd0));
    m_ties->setColor(QColor(0xb8, 0xb8, 0xb8));
    m_losses->setColor(QColor(0xe0, 0x7a, 0x3f));
    auto *series = new QStackedBarSeries;
    series->append(m_wins);
    series->append(m_ties);
    series->append(m_losses);
    series->setLabelsVisible(true);
    series->setLabelsFormat(QStringLiteral("@value"));
    series->setLabelsPrecision(3);
    series->setBarWidth(0.6);

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->addSeries(series);
    m_chart->setTitle(tr("Model B against model A (% of answers)"));
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_categories = new QBarCategoryAxis;
    m_categories->setTitleText(tr("temperature"));
    m_percent = new QValueAxis;
    m_percent->setRange(0, 100);
    m_percent->setTickCount(6);
    m_percent->setLabelFormat(QStringLiteral("%d"));
    m_chart->addAxis(m_categories, Qt::AlignBottom);
    m_chart->addAxis(m_percent, Qt::AlignLeft);
    series->attachAxis(m_categories);
    series->attachAxis(m_percent);
    m_view = new QChartView(m_chart, this);
    m_view->setObjectName(QStringLiteral("abChart"));
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumHeight(220);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view, 3);
    layout->addWidget(m_table, 2);
}

void AbResultsView::clear()
{
    m_table->setRowCount(0);
    for (QBarSet *set : {m_wins, m_ties, m_losses})
        set->remove(0, set->count());
    m_categories->clear();
}

void AbResultsView::setSession(const AbSession &session)
{
    clear();
    QStringList categories;
    const QList<double> &temperatures = session.temperatures();
    m_table->setRowCount(static_cast<int>(temperatures.size()) + 1);
    auto fillRow = [this](int row, const QString &name, const AbTally &tally) {
        m_table->setItem(row, 0, cell(name));
        m_table->setItem(row, 1, cell(QString::number(tally.wins)));
        m_table->setItem(row, 2, cell(QString::number(tally.ties)));
        m_table->setItem(row, 3, cell(QString::number(tally.losses)));
        m_table->setItem(row, 4,
                         cell(QStringLiteral("%1 / %2").arg(tally.answered()).arg(tally.total())));
        // The rates are the chart's; the tooltips give them in numbers.
        const QString rates = tally.answered() > 0
                                  ? tr("B wins %1, ties %2, A wins %3 of the answered trials")
                                        .arg(percent(tally.winRate()), percent(tally.tieRate()),
                                             percent(tally.lossRate()))
                                  : tr("No answer yet");
        for (int column = 0; column < m_table->columnCount(); ++column)
            m_table->item(row, column)->setToolTip(rates);
    };
    // The number of answers goes in the axis title when every temperature has the same: five
    // or more categories with "(n=150)" each do not fit the panel's width.
    bool sameCount = true;
    for (double temperature : temperatures)
        sameCount &=
            session.tally(temperature).answered() == session.tally(temperatures.front()).answered();
    m_categories->setTitleText(
        sameCount && !temperatures.isEmpty()
            ? tr("temperature (n = %1 each)").arg(session.tally(temperatures.front()).answered())
            : tr("temperature"));
    for (int i = 0; i < temperatures.size(); ++i) {
        const AbTally tally = session.tally(temperatures[i]);
        const QString name = temperatureText(temperatures[i]);
        fillRow(i, name, tally);
        categories << (sameCount ? name
                                 : QStringLiteral("%1 (n=%2)").arg(name).arg(tally.answered()));
        m_wins->append(100.0 * tally.winRate());
        m_ties->append(100.0 * tally.tieRate());
        m_losses->append(100.0 * tally.lossRate());
    }
    fillRow(static_cast<int>(temperatures.size()), tr("all"), session.total());
    QFont bold = m_table->font();
    bold.setBold(true);
    for (int column = 0; column < m_table->columnCount(); ++column)
        m_table->item(m_table->rowCount() - 1, column)->setFont(bold);
    m_categories->append(categories);
    // Every row in view, the total included, up to eight temperatures; more scroll.
    const int visibleRows = std::min(m_table->rowCount(), 9);
    m_table->setMinimumHeight(m_table->horizontalHeader()->sizeHint().height() +
                              visibleRows * m_table->verticalHeader()->defaultSectionSize() +
                              2 * m_table->frameWidth());
}

QList<double> AbResultsView::barValues(int temperatureIndex) const
{
    if (temperatureIndex < 0 || temperatureIndex >= m_wins->count())
        return {};
    return {m_wins->at(temperatureIndex), m_ties->at(temperatureIndex),
            m_losses->at(temperatureIndex)};
}

} // namespace mp
