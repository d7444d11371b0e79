#include "app/core/settings.h"
#include "ui/main_window.h"

#include <QLabel>
#include <QMenuBar>
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
