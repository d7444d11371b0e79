#include "app/core/settings.h"
#include "app/study/study_store.h"
#include "ui/label/label_panel.h"
#include "ui/main_window.h"

#include <QApplication>
#include <QCommandLinkButton>
#include <QDate>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void panelsMenusAndStatus()
    {
        QTemporaryDir dir;
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        mp::MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        QTabWidget *panels = window.panels();
        QStringList names;
        for (int i = 0; i < panels->count(); ++i)
            names << panels->tabText(i).remove(QLatin1Char('&'));
        QCOMPARE(names, (QStringList{"Label", "Dataset", "Train", "Compare", "Export"}));

        QStringList menus;
        for (QAction *action : window.menuBar()->actions())
            menus << action->text().remove(QLatin1Char('&'));
        QCOMPARE(menus, (QStringList{"File", "Edit", "View", "Help"}));

        auto *device = window.findChild<QLabel *>(QStringLiteral("deviceLabel"));
        QVERIFY(device);
        QVERIFY2(device->text().startsWith(QStringLiteral("Device: CPU")) ||
                     device->text().startsWith(QStringLiteral("Device: CUDA")),
                 qPrintable(device->text()));
        auto *model = window.findChild<QLabel *>(QStringLiteral("modelLabel"));
        QVERIFY(model && model->text().startsWith(QStringLiteral("Model: ")));
    }

    // A file on the command line opens in its panel: a study in Label, a motion in Export, a run
    // directory in Train; anything else is refused with a reason in the status bar.
    void opensAPathInItsPanel()
    {
        QTemporaryDir dir;
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        mp::MainWindow window(settings);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTabWidget *panels = window.panels();
        const auto current = [&] { return panels->tabText(panels->currentIndex()).remove('&'); };

        const QString study = dir.filePath(QStringLiteral("lab.mpstudy"));
        QVERIFY(window.openStudy(study, true));
        window.closeStudy();
        panels->setCurrentIndex(4);
        QVERIFY(window.openPath(study));
        QCOMPARE(current(), QStringLiteral("Label"));
        QVERIFY(window.store()->isOpen());

        const QString source = QString::fromLocal8Bit(qgetenv("MP_SOURCE_DIR"));
        QVERIFY(window.openPath(source + QStringLiteral("/tests/reference/golden/t2m_evaluator/"
                                                        "humanml3d/new_joint_vecs/000001.npy")));
        QCOMPARE(current(), QStringLiteral("Export"));

        QVERIFY(!window.openPath(source + QStringLiteral("/tests/e2e/walk_npy.py")));
        QVERIFY(window.statusBar()->currentMessage().contains(QStringLiteral("not a study")));
        QVERIFY(!window.openPath(dir.filePath(QStringLiteral("missing.npy"))));
        QVERIFY(window.statusBar()->currentMessage().contains(QStringLiteral("no such file")));

        // The study is first in File > Open Recent, and choosing it reopens it.
        auto *recent = window.findChild<QMenu *>(QStringLiteral("recentStudies"));
        QVERIFY(recent && recent->isEnabled());
        QCOMPARE(recent->actions().size(), 1);
        QCOMPARE(recent->actions().first()->statusTip(), study);
        window.closeStudy();
        recent->actions().first()->trigger();
        QVERIFY(window.store()->isOpen());
        QCOMPARE(settings.recentStudies(), QStringList{study});

        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("run")));
        window.openPath(dir.filePath(QStringLiteral("run"))); // not a run yet: the panel says so
        QCOMPARE(current(), QStringLiteral("Train"));
    }

    // A first run (no study in the settings, no file given) offers to start labeling at once:
    // Start makes one dated study in the data directory, opens it and puts the keyboard in the
    // prompt box; a second start the same day makes a second file, never reusing the first.
    void firstRunStartsLabelingInANewStudy()
    {
        QTemporaryDir dir;
        qputenv("XDG_DATA_HOME", dir.filePath(QStringLiteral("share")).toUtf8());
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        const QString studies = settings.newStudyDir();
        QVERIFY2(studies.startsWith(dir.path()), qPrintable(studies));
        mp::MainWindow window(settings);
        window.resize(1150, 800);
        window.show();
        window.activateWindow(); // no window manager under Xvfb to do it
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(!window.store()->isOpen());
        QCOMPARE(window.panels()->currentIndex(), 0);
        auto *start = window.findChild<QCommandLinkButton *>(QStringLiteral("startLabelingButton"));
        QVERIFY(start && start->isVisible());
        QVERIFY(!window.findChild<QWidget *>(QStringLiteral("welcomeRecent"))->isVisible());
        auto *panel = window.findChild<mp::LabelPanel *>();
        QVERIFY(panel && !panel->promptEdit()->isVisible());

        const QString today = QDate::currentDate().toString(Qt::ISODate);
        const QString first = QStringLiteral("study-%1.mpstudy").arg(today);
        QTest::mouseClick(start, Qt::LeftButton);
        QVERIFY(window.store()->isOpen());
        QCOMPARE(QDir(studies).entryList({QStringLiteral("*.mpstudy")}, QDir::Files),
                 QStringList{first});
        QCOMPARE(window.store()->location(), QDir(studies).filePath(first));
        QCOMPARE(settings.lastStudyPath(), QDir(studies).filePath(first));
        QVERIFY(panel->promptEdit()->isVisible());
        QTRY_VERIFY(panel->promptEdit()->hasFocus());
        QTest::keyClicks(QApplication::focusWidget(), QStringLiteral("a person jumps"));
        QCOMPARE(panel->promptEdit()->text(), QStringLiteral("a person jumps"));

        // Closed again: the welcome page lists the study; Start makes the day's second one.
        window.closeStudy();
        QVERIFY(start->isVisible());
        auto *recent = window.findChild<QWidget *>(QStringLiteral("welcomeRecent"));
        QVERIFY(recent->isVisible());
        QStringList listed;
        for (auto *button : recent->findChildren<QPushButton *>())
            listed << button->text();
        QCOMPARE(listed, QStringList{first});
        QVERIFY(window.startLabeling());
        const QString second = QStringLiteral("study-%1-2.mpstudy").arg(today);
        QStringList both{first, second};
        both.sort(); // as entryList sorts: "-2.mpstudy" before ".mpstudy"
        QCOMPARE(QDir(studies).entryList({QStringLiteral("*.mpstudy")}, QDir::Files), both);
        QCOMPARE(window.store()->location(), QDir(studies).filePath(second));
        qunsetenv("XDG_DATA_HOME");
    }

    // The status bar names the model the Label panel uses, never by a path.
    void modelStatusNamesTheModelWithoutAPath()
    {
        QTemporaryDir dir;
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        {
            mp::MainWindow window(settings);
            auto *model = window.findChild<QLabel *>(QStringLiteral("modelLabel"));
            QVERIFY2(model->text().startsWith(QStringLiteral("Model: embedded default")),
                     qPrintable(model->text()));
            QVERIFY2(!model->text().contains(QLatin1Char('/')), qPrintable(model->text()));
        }
        settings.setModelDir(dir.filePath(QStringLiteral("nowhere")));
        mp::MainWindow window(settings);
        auto *model = window.findChild<QLabel *>(QStringLiteral("modelLabel"));
        QCOMPARE(model->text(),
                 QStringLiteral("Model: nowhere cannot be used (Label panel: Model...)"));
        QCOMPARE(model->toolTip(), dir.filePath(QStringLiteral("nowhere")));
    }

    void geometryAndPanelAreRemembered()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("s.ini"));
        QSize closedSize;
        {
            mp::Settings settings(file);
            mp::MainWindow window(settings);
            window.resize(1150, 930); // above the panels' minimum size, below the 1280x1024 screen
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.panels()->setCurrentIndex(2);
            closedSize = window.size();
            window.close();
        }
        mp::Settings settings(file);
        mp::MainWindow reopened(settings);
        QCOMPARE(reopened.panels()->currentIndex(), 2);
        QCOMPARE(reopened.size(), closedSize);
        QVERIFY(closedSize != QSize(1280, 800)); // not just the default size
    }
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
