#pragma once
// The results of a blind A/B session as the paper's Figure 3: per temperature a stacked bar of
// B's win / tie / loss rates against A (Qt Charts), and a table of the counts.

#include <QWidget>

class QBarCategoryAxis;
class QBarSet;
class QChart;
class QChartView;
class QLabel;
class QTableWidget;
class QValueAxis;

namespace mp {

class AbSession;

// A temperature as the Blind A/B tab shows it: "greedy" at 0 or below, else 3 significant digits.
QString temperatureText(double temperature);

class AbResultsView : public QWidget {
    Q_OBJECT
public:
    explicit AbResultsView(QWidget *parent = nullptr);

    void setSession(const AbSession &session);
    void clear();

    // Percentages drawn for a temperature's bar: win, tie, loss (tests).
    QList<double> barValues(int temperatureIndex) const;
    QTableWidget *table() const { return m_table; }
    QChart *chart() const { return m_chart; }

private:
    QTableWidget *m_table = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_view = nullptr;
    QBarSet *m_wins = nullptr;
    QBarSet *m_ties = nullptr;
    QBarSet *m_losses = nullptr;
    QBarCategoryAxis *m_categories = nullptr;
    QValueAxis *m_percent = nullptr;
};

} // namespace mp
