#pragma once
// The Compare panel's Leaderboard page: every label between samples of different models in a
// study and every answered trial of the chosen blind A/B session files, ranked by Bradley-Terry
// with bootstrap 95% intervals (app/compare/leaderboard.h), as a table and a chart (one point
// per model with its interval as whiskers). The fit runs on a worker thread, which opens the
// study itself (a StudyStore belongs to its thread).

#include <QFutureWatcher>
#include <QWidget>

#include <memory>

class QChart;
class QChartView;
class QLabel;
class QListWidget;
class QPushButton;
class QTableWidget;

namespace mp {

class PathField;
class Settings;
struct Leaderboard;

class LeaderboardPage : public QWidget {
    Q_OBJECT
public:
    explicit LeaderboardPage(Settings &settings, QWidget *parent = nullptr);
    ~LeaderboardPage() override;

    // Empty: no study (A/B sessions only). Default: the study opened last.
    void setStudy(const QString &location);
    QString study() const;
    void addAbFiles(const QStringList &files);
    QStringList abFiles() const;
    // Fits on the worker; rankingFinished() when the table and chart show the result.
    void rank();
    bool isRanking() const;

    QTableWidget *table() const { return m_table; }
    QChartView *chartView() const { return m_chartView; }
    QLabel *status() const { return m_status; }

signals:
    void rankingFinished(bool ok);

private:
    struct Result;
    void showResult();
    void showBoard(const Leaderboard &board);
    void chooseStudy();
    void chooseAbFiles();

    Settings &m_settings;
    PathField *m_study = nullptr;
    QListWidget *m_abFiles = nullptr;
    QPushButton *m_rank = nullptr;
    QPushButton *m_removeAb = nullptr;
    QLabel *m_status = nullptr;
    QTableWidget *m_table = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_chartView = nullptr;
    QFutureWatcher<std::shared_ptr<Result>> m_watcher;
};

} // namespace mp
