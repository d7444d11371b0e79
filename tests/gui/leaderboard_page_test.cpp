// The Compare panel's Leaderboard page: a study with labels across two models and a blind A/B
// session file fill the table (the fit of tests/app/leaderboard_study.h) and the chart; a bad
// session file is named in the status line; a blind session saved in the panel joins the list.
// With MP_SCREENSHOT_DIR set, the page is saved as leaderboard.png.

#include "app/compare/leaderboard.h"
#include "app/core/settings.h"
#include "app/study/study_store.h"
#include "tests/app/leaderboard_study.h"
#include "ui/compare/blind_ab_page.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/leaderboard_page.h"

#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mp;

class LeaderboardPageTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    test::LeaderboardFixture m_fixture;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<ComparePanel> m_panel;

    bool rankAndWait()
    {
        LeaderboardPage *page = m_panel->leaderboard();
        QSignalSpy finished(page, &LeaderboardPage::rankingFinished);
        QTest::mouseClick(page->findChild<QPushButton *>(QStringLiteral("rankModels")),
                          Qt::LeftButton);
        if (!finished.wait(20000))
            return false;
        return finished.first().first().toBool();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_fixture = test::makeLeaderboardFixture(m_dir.path());
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("s.ini")));
        m_settings->setDevice(QStringLiteral("cpu"));
        m_settings->setLastStudyPath(m_fixture.study);
        m_panel = std::make_unique<ComparePanel>(*m_settings);
        m_panel->resize(1100, 760);
        m_panel->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
        m_panel->modes()->setCurrentWidget(m_panel->leaderboard());
        QCOMPARE(m_panel->modes()->tabText(m_panel->modes()->currentIndex()),
                 QStringLiteral("Leaderboard"));
    }

    void tableFillsFromStudyAndAbSession()
    {
        LeaderboardPage *page = m_panel->leaderboard();
        QCOMPARE(page->study(), m_fixture.study); // the study opened last
        page->addAbFiles({m_fixture.abFile});
        QCOMPARE(page->abFiles(), QStringList{m_fixture.abFile});
        // Files by name, paths in the tooltips: no machine path in the window.
        const auto *studyField = page->findChild<QLineEdit *>("leaderboardStudy");
        QCOMPARE(studyField->text(), QFileInfo(m_fixture.study).fileName());
        QVERIFY(studyField->toolTip().contains(QDir::toNativeSeparators(m_fixture.study)));
        const auto *abList = page->findChild<QListWidget *>("leaderboardAbFiles");
        QCOMPARE(abList->item(0)->text(), QFileInfo(m_fixture.abFile).fileName());
        QVERIFY(rankAndWait());

        // The same fit, computed here directly.
        LeaderboardData data;
        {
            StudyStore store;
            store.open(m_fixture.study);
            data.addStudy(store);
        }
        data.addAbSessionFile(m_fixture.abFile);
        const Leaderboard expected = computeLeaderboard(data, {});

        QTableWidget *table = page->table();
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("base + lora"));
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("base"));
        QCOMPARE(table->item(0, 1)->text(),
                 QStringLiteral("+%1").arg(expected.rows.front().rating, 0, 'f', 2));
        QVERIFY(expected.rows.front().rating > 0.5 && expected.rows.front().rating < 0.65);
        QCOMPARE(table->item(1, 1)->text(), QStringLiteral("0.00"));
        QCOMPARE(table->item(0, 4)->text(), QStringLiteral("9")); // 6 + 3 wins
        QCOMPARE(table->item(0, 5)->text(), QStringLiteral("3")); // 2 + 1 ties
        QCOMPARE(table->item(0, 6)->text(), QStringLiteral("4")); // 2 + 2 losses
        QCOMPARE(table->item(0, 7)->text(), QStringLiteral("16"));
        QVERIFY(table->item(0, 2)->text().startsWith(QLatin1Char('[')));
        QVERIFY(page->status()->text().contains(QStringLiteral("16 comparisons; anchor base")));
        // Points and whiskers: one scatter series, a whisker and two caps per model.
        QCOMPARE(page->chartView()->chart()->series().size(), 1 + 3 * 2);

        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QTest::qWait(200);
            QVERIFY(m_panel->grab().save(shots + QStringLiteral("/leaderboard.png")));
        }
    }

    void aBadSessionFileIsNamed()
    {
        LeaderboardPage *page = m_panel->leaderboard();
        const QString bad = m_dir.filePath(QStringLiteral("not-a-session.json"));
        test::writeMarker(m_dir.filePath(QStringLiteral("x")), "{}");
        QFile::copy(m_dir.filePath(QStringLiteral("x/config.json")), bad);
        page->addAbFiles({bad});
        QVERIFY(!rankAndWait());
        QVERIFY2(page->status()->text().contains(bad), qPrintable(page->status()->text()));
        QCOMPARE(page->table()->rowCount(), 2); // the last good result stays
    }

    void aSavedBlindSessionJoinsTheList()
    {
        const QString path = m_dir.filePath(QStringLiteral("saved.json"));
        emit m_panel->blind()->sessionFileChosen(path);
        QVERIFY(m_panel->leaderboard()->abFiles().contains(path));
    }
};

QTEST_MAIN(LeaderboardPageTest)
#include "leaderboard_page_test.moc"
