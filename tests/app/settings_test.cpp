#include "app/core/settings.h"

#include <QTemporaryDir>
#include <QTest>

class SettingsTest : public QObject {
    Q_OBJECT
private slots:
    void defaults()
    {
        QTemporaryDir dir;
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        QCOMPARE(settings.device(), QStringLiteral("auto"));
        QCOMPARE(settings.currentPanel(), 0);
        QVERIFY(!settings.labelerName().isEmpty());
        QVERIFY(settings.modelDir().endsWith(QStringLiteral("default")));
        QVERIFY(settings.lastStudyPath().isEmpty());
    }

    void roundTrip()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("s.ini"));
        {
            mp::Settings settings(file);
            settings.setDevice(QStringLiteral("cpu"));
            settings.setLabelerName(QStringLiteral("ana"));
            settings.setCurrentPanel(3);
            settings.setWindowGeometry(QByteArray("geometry"));
            settings.sync();
        }
        mp::Settings reread(file);
        QCOMPARE(reread.device(), QStringLiteral("cpu"));
        QCOMPARE(reread.labelerName(), QStringLiteral("ana"));
        QCOMPARE(reread.currentPanel(), 3);
        QCOMPARE(reread.windowGeometry(), QByteArray("geometry"));
    }
};

QTEST_GUILESS_MAIN(SettingsTest)
#include "settings_test.moc"
