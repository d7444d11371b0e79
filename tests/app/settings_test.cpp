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

    // New studies go to the user's data directory unless the settings name another folder.
    void newStudyDir()
    {
        QTemporaryDir dir;
        const QByteArray saved = qgetenv("XDG_DATA_HOME");
        qputenv("XDG_DATA_HOME", dir.filePath(QStringLiteral("share")).toUtf8());
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        QVERIFY2(settings.newStudyDir().startsWith(dir.filePath(QStringLiteral("share/"))),
                 qPrintable(settings.newStudyDir()));
        QVERIFY(settings.newStudyDir().endsWith(QStringLiteral("/studies")));
        settings.setNewStudyDir(QStringLiteral("/elsewhere"));
        QCOMPARE(settings.newStudyDir(), QStringLiteral("/elsewhere"));
        if (saved.isNull())
            qunsetenv("XDG_DATA_HOME");
        else
            qputenv("XDG_DATA_HOME", saved);
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

    // Recent studies: newest first, no duplicates, at most kMaxRecentStudies, removable.
    void recentStudies()
    {
        QTemporaryDir dir;
        mp::Settings settings(dir.filePath(QStringLiteral("s.ini")));
        QVERIFY(settings.recentStudies().isEmpty());
        for (int i = 0; i < 10; ++i)
            settings.setLastStudyPath(QStringLiteral("/s/%1.mpstudy").arg(i));
        settings.setLastStudyPath(QStringLiteral("/s/5.mpstudy"));
        const QStringList recent = settings.recentStudies();
        QCOMPARE(recent.size(), mp::Settings::kMaxRecentStudies);
        QCOMPARE(recent.first(), QStringLiteral("/s/5.mpstudy"));
        QCOMPARE(recent.at(1), QStringLiteral("/s/9.mpstudy"));
        QCOMPARE(recent.count(QStringLiteral("/s/5.mpstudy")), 1);
        QVERIFY(!recent.contains(QStringLiteral("/s/0.mpstudy")));
        settings.removeRecentStudy(QStringLiteral("/s/9.mpstudy"));
        QCOMPARE(settings.recentStudies().size(), mp::Settings::kMaxRecentStudies - 1);
        QCOMPARE(settings.lastStudyPath(), QStringLiteral("/s/5.mpstudy"));
    }
};

QTEST_GUILESS_MAIN(SettingsTest)
#include "settings_test.moc"
