#include "app/core/settings.h"
#include "app/study/study_store.h"
#include "ui/dataset/dataset_panel.h"
#include "ui/dataset/pair_filter_proxy.h"
#include "ui/main_window.h"

#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QScreen>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>

using namespace mp;

class DatasetPanelTest : public QObject {
    Q_OBJECT
private slots:
    void showsFiltersAndSummarisesAStudy()
    {
        QTemporaryDir dir;
        const QString studyPath = dir.filePath("study.mpstudy");
        {
            StudyStore store;
            store.open(studyPath, true);
            for (int i = 0; i < 6; ++i) {
                const qint64 prompt = store.addPrompt(
                    QStringLiteral("prompt %1 %2").arg(i).arg(i % 2 ? "jump" : "walk"),
                    PromptSource::Typed);
                const qint64 a =
                    store.addSample({.promptId = prompt, .seed = 2 * i, .tokens = {1}});
                const qint64 b =
                    store.addSample({.promptId = prompt, .seed = 2 * i + 1, .tokens = {2}});
                const qint64 pair = store.addPair(prompt, a, b, 1);
                if (i < 4) {
                    store.addShownLabel(pair, "ana", ShownChoice::Left,
                                        PreferenceDegree::MuchBetter);
                    store.addShownLabel(pair, "ben", i % 2 ? ShownChoice::Right : ShownChoice::Left,
                                        PreferenceDegree::Better);
                }
            }
        }
        mp::Settings settings(dir.filePath("s.ini"));
        MainWindow window(settings);
        QVERIFY(window.openStudy(studyPath, false));
        auto *panel = window.findChild<DatasetPanel *>();
        QVERIFY(panel);
        QTableView *table = panel->table();
        QCOMPARE(table->model()->rowCount(), 8 + 2); // 4 pairs x 2 labelers + 2 unlabeled

        panel->filter()->setDegree(static_cast<int>(PreferenceDegree::MuchBetter));
        QCOMPARE(table->model()->rowCount(), 4);
        panel->filter()->setDegree(PairFilterProxy::kUnlabeledOnly);
        QCOMPARE(table->model()->rowCount(), 2);
        panel->filter()->setDegree(PairFilterProxy::kAnyDegree);
        panel->filter()->setLabeler("ben");
        QCOMPARE(table->model()->rowCount(), 4);
        panel->filter()->setLabeler({});
        panel->filter()->setText("JUMP");
        QCOMPARE(table->model()->rowCount(), 5); // pairs 1 and 3 twice, pair 5 unlabeled

        auto *summary = panel->findChild<QTextBrowser *>("agreementSummary");
        QVERIFY(summary->toPlainText().contains("Fleiss"));
        QVERIFY(summary->toPlainText().contains("ana"));

        auto *studyLabel = window.findChild<QLabel *>("studyLabel");
        QVERIFY2(studyLabel->text().contains("6 pairs, 4 labeled"), qPrintable(studyLabel->text()));
        panel->filter()->setText({});
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            window.panels()->setCurrentWidget(panel);
            window.resize(1280, 800);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            QTest::qWait(300);
            window.screen()->grabWindow(0).save(shots + "/dataset-panel.png");
        }
        window.close();

        // The study is reopened at the next start.
        MainWindow again(settings);
        QVERIFY(again.store()->isOpen());
    }

    void badStudyFileIsAnErrorNotACrash()
    {
        QTemporaryDir dir;
        const QString bogus = dir.filePath("not-a-study.mpstudy");
        QFile file(bogus);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("this is not sqlite");
        file.close();
        mp::Settings settings(dir.filePath("s.ini"));
        MainWindow window(settings);
        QTimer::singleShot(200, [] {
            if (QWidget *box = QApplication::activeModalWidget())
                box->close();
        });
        QVERIFY(!window.openStudy(bogus, false));
        QVERIFY(!window.store()->isOpen());
    }
};

QTEST_MAIN(DatasetPanelTest)
#include "dataset_panel_test.moc"
