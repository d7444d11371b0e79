// Study import against a file that claims too much (issue 20): a line nested a million levels is
// reported by file and line, the message stays short, and nothing is stored.

#include "app/study/study_io.h"
#include "app/study/study_store.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace mp;

class StudyImportLimitsTest : public QObject {
    Q_OBJECT

private slots:
    void hostileLinesAreRefusedAndNothingIsStored_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("expected");
        const QByteArray deep = QByteArray(1000000, '[') + QByteArray(1000000, ']');
        QTest::newRow("json nested a million levels")
            << QByteArray(R"({"id": "a", "prompt": )") + deep + "}"
            << QStringLiteral("labels.jsonl:1");
    }

    void hostileLinesAreRefusedAndNothingIsStored()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("labels.jsonl"));
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(line + "\n");
        out.close();
        StudyStore store;
        store.open(dir.filePath(QStringLiteral("study.mpstudy")), true);
        try {
            importPaperJsonl(store, file);
            QFAIL("imported");
        } catch (const InputError &e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(expected), e.what());
            QVERIFY2(std::string(e.what()).size() < 1000, "the message quotes the whole line");
        }
        QCOMPARE(store.pairs().size(), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(StudyImportLimitsTest)
#include "study_import_limits_test.moc"
