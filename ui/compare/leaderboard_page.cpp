#include "ui/compare/leaderboard_page.h"

#include "app/compare/leaderboard.h"
#include "app/core/error_text.h"
#include "app/core/settings.h"
#include "app/study/study_store.h"
#include "ui/compare/path_field.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QListWidget>
#include <QPushButton>
#include <QScatterSeries>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace mp {

struct LeaderboardPage::Result {
    Leaderboard board;
    QString error;
    int labelsWithoutModel = 0;
};

namespace {

QTableWidgetItem *cell(const QString &text, bool number = true)
{
    auto *item = new QTableWidgetItem(text);
    item->setTextAlignment((number ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    return item;
}

QString signedNumber(double value)
{
    return (value > 0 ? QStringLiteral("+") : QString()) + QString::number(value, 'f', 2);
}

} // namespace

LeaderboardPage::LeaderboardPage(Settings &settings, QWidget *parent)
    : QWidget(parent), m_settings(settings)
{
    setObjectName(QStringLiteral("leaderboardPage"));
    // A study file by its name; a connection string as it is (a lab's shared study).
    m_study = new PathField(
        [](const QString &location) {
            return StudyStore::isConnectionString(location) ? location
                                                            : QFileInfo(location).fileName();
        },
        tr("Labels between samples of different models in this study count as comparisons:"), this);
    m_study->setObjectName(QStringLiteral("leaderboardStudy"));
    m_study->setPlaceholderText(tr("no study: blind A/B sessions only"));
    auto *studyButton = new QPushButton(tr("S&tudy..."), this);
    auto *studyRow = new QHBoxLayout;
    studyRow->addWidget(m_study, 1);
    studyRow->addWidget(studyButton);

    m_abFiles = new QListWidget(this);
    m_abFiles->setObjectName(QStringLiteral("leaderboardAbFiles"));
    m_abFiles->setMaximumHeight(80);
    m_abFiles->setToolTip(tr("Saved blind A/B sessions (JSON): every answered trial counts"));
    auto *addAb = new QPushButton(tr("&Add A/B sessions..."), this);
    m_removeAb = new QPushButton(tr("Remo&ve"), this);
    m_removeAb->setEnabled(false);
    m_rank = new QPushButton(tr("&Rank models"), this);
    m_rank->setObjectName(QStringLiteral("rankModels"));
    m_rank->setToolTip(tr("Fit Bradley-Terry to every comparison, with 1000 bootstrap replicates "
                          "for the 95% intervals"));
    auto *abButtons = new QVBoxLayout;
    abButtons->addWidget(addAb);
    abButtons->addWidget(m_removeAb);
    abButtons->addStretch(1);
    auto *abRow = new QHBoxLayout;
    abRow->addWidget(m_abFiles, 1);
    abRow->addLayout(abButtons);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("leaderboardStatus"));
    m_status->setWordWrap(true);
    m_status->setText(tr("Choose a study and/or blind A/B sessions, then Rank models. A tie "
                         "(unsure) counts as half a win for each side."));

    auto *form = new QFormLayout;
    form->addRow(tr("Study:"), studyRow);
    form->addRow(tr("Blind A/B:"), abRow);
    auto *rankRow = new QHBoxLayout;
    rankRow->addWidget(m_rank);
    rankRow->addWidget(m_status, 1);
    form->addRow(rankRow);

    m_table = new QTableWidget(0, 8, this);
    m_table->setObjectName(QStringLiteral("leaderboardTable"));
    m_table->setHorizontalHeaderLabels({tr("Model"), tr("Rating"), tr("95% interval"), tr("Elo"),
                                        tr("Wins"), tr("Ties"), tr("Losses"), tr("n")});
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setToolTip(tr("Rating: log-odds against the anchor (0); P(a beats b) = "
                           "1 / (1 + exp(rating_b - rating_a)). Elo = 1000 + 173.7 x rating."));

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->setTitle(tr("Rating (log-odds against the anchor) with 95% bootstrap interval"));
    m_chart->legend()->hide();
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chartView = new QChartView(m_chart, this);
    m_chartView->setObjectName(QStringLiteral("leaderboardChart"));
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumHeight(200);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_chartView);
    splitter->addWidget(m_table);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(splitter, 1);

    connect(studyButton, &QPushButton::clicked, this, &LeaderboardPage::chooseStudy);
    connect(addAb, &QPushButton::clicked, this, &LeaderboardPage::chooseAbFiles);
    connect(m_removeAb, &QPushButton::clicked, this, [this] {
        qDeleteAll(m_abFiles->selectedItems());
        m_removeAb->setEnabled(m_abFiles->count() > 0);
    });
    connect(m_abFiles, &QListWidget::itemSelectionChanged, this,
            [this] { m_removeAb->setEnabled(!m_abFiles->selectedItems().isEmpty()); });
    connect(m_rank, &QPushButton::clicked, this, &LeaderboardPage::rank);
    connect(&m_watcher, &QFutureWatcher<std::shared_ptr<Result>>::finished, this,
            &LeaderboardPage::showResult);

    setStudy(m_settings.lastStudyPath());
}

LeaderboardPage::~LeaderboardPage()
{
    m_watcher.disconnect();
    m_watcher.waitForFinished();
}

void LeaderboardPage::setStudy(const QString &location)
{
    m_study->setPath(location);
}

QString LeaderboardPage::study() const
{
    return m_study->path();
}

void LeaderboardPage::addAbFiles(const QStringList &files)
{
    const QStringList known = abFiles();
    for (const QString &file : files)
        if (!known.contains(file)) {
            // The file's name, the path in the tooltip: no machine path fills the list.
            auto *item = new QListWidgetItem(QFileInfo(file).fileName(), m_abFiles);
            item->setToolTip(QDir::toNativeSeparators(file));
            item->setData(Qt::UserRole, file);
        }
}

QStringList LeaderboardPage::abFiles() const
{
    QStringList files;
    for (int i = 0; i < m_abFiles->count(); ++i)
        files << m_abFiles->item(i)->data(Qt::UserRole).toString();
    return files;
}

bool LeaderboardPage::isRanking() const
{
    return m_watcher.isRunning();
}

void LeaderboardPage::chooseStudy()
{
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Study for the leaderboard"), study(),
                                     tr("Studies (*.mpstudy *.db *.sqlite);;All files (*)"));
    if (!path.isEmpty())
        setStudy(path);
}

void LeaderboardPage::chooseAbFiles()
{
    addAbFiles(QFileDialog::getOpenFileNames(this, tr("Blind A/B sessions"), QString(),
                                             tr("A/B sessions (*.json);;All files (*)")));
}

void LeaderboardPage::rank()
{
    if (isRanking())
        return;
    const QString location = study();
    const QStringList files = abFiles();
    m_rank->setEnabled(false);
    m_status->setText(tr("Fitting..."));
    m_status->setStyleSheet(QString());
    m_watcher.setFuture(QtConcurrent::run([location, files] {
        auto result = std::make_shared<Result>();
        try {
            LeaderboardData data;
            if (!location.isEmpty()) {
                StudyStore store; // this thread's own connection
                store.open(location);
                data.addStudy(store);
            }
            for (const QString &file : files)
                data.addAbSessionFile(file);
            result->labelsWithoutModel = data.labelsWithoutModel();
            result->board = computeLeaderboard(data, {});
        } catch (const std::exception &error) {
            result->error = errorText(error);
        }
        return result;
    }));
}

void LeaderboardPage::showResult()
{
    m_rank->setEnabled(true);
    const std::shared_ptr<Result> result = m_watcher.result();
    if (!result->error.isEmpty()) {
        m_status->setText(result->error);
        m_status->setStyleSheet(QStringLiteral("color: #a00000;"));
        emit rankingFinished(false);
        return;
    }
    showBoard(result->board);
    QString text = tr("%1 comparisons; anchor %2 (rating 0).")
                       .arg(result->board.comparisons)
                       .arg(result->board.anchor);
    if (result->labelsWithoutModel > 0)
        text +=
            QLatin1Char(' ') +
            tr("%1 labels left out: a sample records no model.").arg(result->labelsWithoutModel);
    m_status->setText(text);
    m_status->setToolTip(result->board.sources.join(QLatin1Char('\n')));
    emit rankingFinished(true);
}

void LeaderboardPage::showBoard(const Leaderboard &board)
{
    const int count = int(board.rows.size());
    m_table->setRowCount(count);
    for (int r = 0; r < count; ++r) {
        const LeaderboardRow &row = board.rows[r];
        m_table->setItem(r, 0, cell(row.model.name, false));
        m_table->item(r, 0)->setToolTip(row.model.adapterPath.isEmpty()
                                            ? row.model.bundlePath
                                            : row.model.bundlePath + QLatin1Char('\n') +
                                                  row.model.adapterPath);
        m_table->setItem(r, 1, cell(signedNumber(row.rating)));
        m_table->setItem(
            r, 2,
            cell(QStringLiteral("[%1, %2]").arg(signedNumber(row.lower), signedNumber(row.upper))));
        m_table->setItem(r, 3, cell(QString::number(row.elo(), 'f', 0)));
        m_table->setItem(r, 4, cell(QString::number(row.wins)));
        m_table->setItem(r, 5, cell(QString::number(row.ties)));
        m_table->setItem(r, 6, cell(QString::number(row.losses)));
        m_table->setItem(r, 7, cell(QString::number(row.count())));
    }

    // A forest plot: the best model on top, its interval as a horizontal whisker.
    m_chart->removeAllSeries();
    for (QAbstractAxis *axis : m_chart->axes())
        m_chart->removeAxis(axis);
    auto *ratingAxis = new QValueAxis;
    ratingAxis->setTitleText(tr("log-odds against %1").arg(board.anchor));
    auto *modelAxis = new QCategoryAxis;
    modelAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_chart->addAxis(ratingAxis, Qt::AlignBottom);
    m_chart->addAxis(modelAxis, Qt::AlignLeft);
    double low = 0;
    double high = 0;
    auto *points = new QScatterSeries;
    points->setMarkerSize(10);
    points->setColor(QColor(0x3b, 0x8e, 0xd0));
    const QPen whiskerPen(QColor(0x40, 0x40, 0x40), 2);
    for (int r = 0; r < count; ++r) {
        const LeaderboardRow &row = board.rows[r];
        const double y = count - r; // best on top
        auto *whisker = new QLineSeries;
        whisker->setPen(whiskerPen);
        whisker->append(row.lower, y);
        whisker->append(row.upper, y);
        for (const double end : {row.lower, row.upper}) { // the caps
            auto *cap = new QLineSeries;
            cap->setPen(whiskerPen);
            cap->append(end, y - 0.12);
            cap->append(end, y + 0.12);
            m_chart->addSeries(cap);
            cap->attachAxis(ratingAxis);
            cap->attachAxis(modelAxis);
        }
        m_chart->addSeries(whisker);
        whisker->attachAxis(ratingAxis);
        whisker->attachAxis(modelAxis);
        points->append(row.rating, y);
        modelAxis->append(row.model.name, y);
        low = std::min({low, row.lower, row.rating});
        high = std::max({high, row.upper, row.rating});
    }
    m_chart->addSeries(points);
    points->attachAxis(ratingAxis);
    points->attachAxis(modelAxis);
    const double pad = std::max(0.1, 0.08 * (high - low));
    ratingAxis->setRange(low - pad, high + pad);
    ratingAxis->applyNiceNumbers();
    modelAxis->setRange(0.4, count + 0.6);
}

} // namespace mp
