// New studies are never made over an existing file: createStudy refuses one (and leaves its bytes
// alone), createDatedStudy takes the day's next free name, and the CLI's `study create` goes
// through the same function (e2e study_cli).

#include "app/study/new_study.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <QDate>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class NewStudyTest : public QObject {
    Q_OBJECT
private slots:
    void createsAndRefusesAnExistingFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.mpstudy"));
        {
            StudyStore store;
            createStudy(store, path);
            QVERIFY(store.isOpen());
            store.addPrompt(QStringLiteral("a person jumps twice"), PromptSource::Typed);
        }
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray before = file.readAll();
        file.close();
        StudyStore again;
        QVERIFY_THROWS_EXCEPTION(InputError, createStudy(again, path));
        QVERIFY(!again.isOpen());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), before);
        again.open(path);
        QCOMPARE(again.prompts().size(), size_t(1));

        // A folder that is not there: a clear error naming the file, and nothing left behind.
        const QString nowhere = dir.filePath(QStringLiteral("missing/lab.mpstudy"));
        try {
            createStudy(again, nowhere);
            QFAIL("created a study in a missing folder");
        } catch (const InputError &error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(nowhere), error.what());
        }
    }

    void datedNames()
    {
        const QDate day(2026, 12, 6);
        QCOMPARE(datedStudyName(day), QStringLiteral("study-2026-12-06.mpstudy"));
        QCOMPARE(datedStudyName(day, 2), QStringLiteral("study-2026-12-06-2.mpstudy"));
    }

    // The folder is made; the second study of the day gets a suffix; an unrelated file with the
    // next name is skipped, not opened or overwritten.
    void createsTheDaysNextStudy()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath(QStringLiteral("data/studies"));
        const QDate day(2026, 12, 6);
        StudyStore store;
        const QString first = createDatedStudy(store, folder, day);
        QCOMPARE(first, QDir(folder).filePath(QStringLiteral("study-2026-12-06.mpstudy")));
        QVERIFY(store.isOpen());
        store.close();

        QFile other(QDir(folder).filePath(QStringLiteral("study-2026-12-06-2.mpstudy")));
        QVERIFY(other.open(QIODevice::WriteOnly));
        other.write("not a study");
        other.close();
        const QString third = createDatedStudy(store, folder, day);
        QCOMPARE(third, QDir(folder).filePath(QStringLiteral("study-2026-12-06-3.mpstudy")));
        QVERIFY(other.open(QIODevice::ReadOnly));
        QCOMPARE(other.readAll(), QByteArray("not a study"));
        QCOMPARE(QDir(folder).entryList({QStringLiteral("*.mpstudy")}).size(), 3);
    }
};

QTEST_GUILESS_MAIN(NewStudyTest)
#include "new_study_test.moc"
