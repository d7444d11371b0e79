// Import/export of the paper's record form, TRL and CSV; splits and the trainer's JSONL.

#include "app/study/study_io.h"
#include "app/study/study_split.h"
#include "app/study/study_store.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <random>
#include <set>

using namespace mp;

namespace {

void writeText(const QString &path, const QByteArray &text)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(text);
}

QList<QJsonObject> readJsonl(const QString &path)
{
    QFile file(path);
    QList<QJsonObject> out;
    if (!file.open(QIODevice::ReadOnly))
        return out;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (!line.isEmpty())
            out << QJsonDocument::fromJson(line).object();
    }
    return out;
}

// A version 1.0 .npy of little-endian int64 with the given shape, written byte by byte.
QByteArray npyInt64(const std::vector<qint64> &values, const QByteArray &shape)
{
    QByteArray header = "{'descr': '<i8', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0)
        header += ' ';
    header += '\n';
    QByteArray out("\x93NUMPY\x01\x00", 8);
    out += char(header.size() & 0xff);
    out += char(header.size() >> 8);
    out += header;
    for (qint64 v : values) {
        for (int b = 0; b < 8; ++b)
            out += char((static_cast<quint64>(v) >> (8 * b)) & 0xff);
    }
    return out;
}

const QByteArray kThreeRecords =
    R"({"id": "a1", "prompt": "a man walks forward", "sample_1": {"gif": "x.gif", "features": "data2/features/a1_1.npy", "from": "motionGPT", "seed": 11, "tokens": [1, 2, 3]}, "sample_2": {"features": "data2/features/a1_2.npy", "from": "motionGPT", "seed": 12, "tokens": [4, 5]}, "chosen": [{"choice": "sample_2", "degree of preference": "Much better", "user": "u1"}, {"choice": "sample_1", "degree of preference": "Slightly better", "user": "u2"}]}
{"id": 7, "prompt": "a man walks forward", "sample_1": {"seed": 1, "tokens": [9]}, "sample_2": {"seed": 2, "tokens": [10, 11]}, "chosen": [{"choice": "skipped", "degree of preference": "Better", "user": "u1"}]}
)"
    // Not a raw string: moc cannot parse escaped quotes inside one.
    "\n{\"id\": \"c3\", \"prompt\": \"someone waves, \\\"hello\\\"\", \"sample_1\": {\"seed\": 5, "
    "\"tokens\": []}, \"sample_2\": {\"seed\": 6, \"tokens\": [511]}, \"chosen\": []}\n";

} // namespace

class StudyIoTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_counter = 0;

    QString freshStudy(StudyStore &store)
    {
        const QString path = m_dir.filePath(QStringLiteral("s%1.sqlite").arg(++m_counter));
        store.open(path, true);
        return path;
    }

    // n pairs labeled by "ana" with degrees cycling Much, Better, Slightly, Negligible, plus
    // a skipped and an unsure pair that no split may contain.
    std::vector<qint64> labeledStudy(StudyStore &store, int n)
    {
        freshStudy(store);
        const qint64 prompt = store.addPrompt(QStringLiteral("p"), PromptSource::Typed);
        std::vector<qint64> ids;
        for (int i = 0; i < n + 2; ++i) {
            const qint64 s1 = store.addSample({.promptId = prompt, .seed = i, .tokens = {i % 512}});
            const qint64 s2 =
                store.addSample({.promptId = prompt, .seed = 1000 + i, .tokens = {7, 8}});
            const qint64 pair = store.addPair(prompt, s1, s2, 1);
            if (i == n) {
                store.addLabel(pair, QStringLiteral("ana"), {.choice = Choice::Skipped});
            } else if (i == n + 1) {
                store.addLabel(pair, QStringLiteral("ana"), {.choice = Choice::Unsure});
            } else {
                store.addLabel(pair, QStringLiteral("ana"),
                               {.choice = i % 2 ? Choice::Sample2 : Choice::Sample1,
                                .degree = static_cast<PreferenceDegree>(3 - i % 4)});
                ids.push_back(pair);
            }
        }
        return ids;
    }

private slots:
    void tokenPathRule()
    {
        // spec §1.1: features[:-4].replace('data2','data3') + "_token.npy", features->tokens.
        QCOMPARE(tokenPathFor(QStringLiteral("data2/features/walk/17_1.npy")),
                 QStringLiteral("data3/tokens/walk/17_1_token.npy"));
        QCOMPARE(tokenPathFor(QStringLiteral("/d/data2/features/x.npy")),
                 QStringLiteral("/d/data3/tokens/x_token.npy"));
        QCOMPARE(motionString({3, 7}),
                 QStringLiteral("<motion_id_512><motion_id_3><motion_id_7><motion_id_513>"));
        QCOMPARE(motionString({}), QStringLiteral("<motion_id_512><motion_id_513>"));
    }

    void importPaperRecords()
    {
        const QString file = m_dir.filePath(QStringLiteral("three.jsonl"));
        writeText(file, kThreeRecords);
        StudyStore store;
        freshStudy(store);
        const ImportReport report = importPaperJsonl(store, file);
        QCOMPARE(report.records, 3);
        QCOMPARE(report.labels, 3);
        QCOMPARE(report.prompts, 2); // the first two records share their prompt
        const auto a1 = store.pairByExternalId(QStringLiteral("a1"));
        QVERIFY(a1);
        QCOMPARE(store.sample(a1->sample1Id).tokens, (std::vector<int>{1, 2, 3}));
        QCOMPARE(store.sample(a1->sample2Id).seed, 12);
        QCOMPARE(store.sample(a1->sample1Id).origin, QStringLiteral("motionGPT"));
        QCOMPARE(store.sample(a1->sample1Id).featuresPath,
                 QStringLiteral("data2/features/a1_1.npy"));
        // chosen[-1] counts.
        const auto current = store.currentLabel(a1->id);
        QCOMPARE(current->labeler, QStringLiteral("u2"));
        QCOMPARE(*current->choice, Choice::Sample1);
        QCOMPARE(*current->degree, PreferenceDegree::SlightlyBetter);
        const auto seven = store.pairByExternalId(QStringLiteral("7"));
        QVERIFY(seven);
        QCOMPARE(*store.currentLabel(seven->id)->choice, Choice::Skipped);
        QVERIFY(!store.currentLabel(store.pairByExternalId(QStringLiteral("c3"))->id));
        QCOMPARE(store.prompts().front().source, PromptSource::Imported);
    }

    void badInputIsRejectedWhole()
    {
        const QString file = m_dir.filePath(QStringLiteral("bad.jsonl"));
        QByteArray text = kThreeRecords;
        text +=
            R"({"id": "d4", "prompt": "x", "sample_1": {"seed": 1, "tokens": [1]}, "sample_2": {"seed": 2, "tokens": [2]}, "chosen": [{"choice": "sample_1", "degree of preference": "Very much better", "user": "u"}]})"
            "\n";
        text += "{\"id\": \"e5\", \"prompt\": \"truncated\n";
        text +=
            R"({"id": "f6", "prompt": "y", "sample_1": {"seed": 1, "features": "data2/features/none.npy"}, "sample_2": {"seed": 2, "tokens": [2]}})"
            "\n";
        text +=
            R"({"id": "a1", "prompt": "again", "sample_1": {"tokens": [1]}, "sample_2": {"tokens": [2]}})"
            "\n";
        text +=
            R"({"id": "g7", "prompt": "z", "sample_1": {"tokens": [600]}, "sample_2": {"tokens": [2]}, "chosen": [{"choice": "left"}]})"
            "\n";
        writeText(file, text);
        StudyStore store;
        freshStudy(store);
        try {
            importPaperJsonl(store, file);
            QFAIL("a file with bad lines was imported");
        } catch (const ImportError &e) {
            const QStringList errors = e.lineErrors();
            QCOMPARE(errors.size(), 5);
            QVERIFY2(errors[0].startsWith(QLatin1String("bad.jsonl:5: chosen[0]: unknown degree "
                                                        "of preference 'Very much better'")),
                     qPrintable(errors[0]));
            QVERIFY2(errors[1].startsWith(QLatin1String("bad.jsonl:6: not valid JSON")),
                     qPrintable(errors[1]));
            QVERIFY2(errors[2].startsWith(QLatin1String("bad.jsonl:7: sample_1: token file")) &&
                         errors[2].contains(QLatin1String("data3/tokens/none_token.npy")) &&
                         errors[2].endsWith(QLatin1String("does not exist")),
                     qPrintable(errors[2]));
            QVERIFY2(errors[3].startsWith(QLatin1String("bad.jsonl:8: id 'a1' repeats line 1")),
                     qPrintable(errors[3]));
            QVERIFY2(errors[4].startsWith(QLatin1String("bad.jsonl:9: sample_1: token 600")),
                     qPrintable(errors[4]));
            QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("nothing imported")));
        }
        QCOMPARE(store.counts().pairs, 0); // the good lines were not stored either
        QCOMPARE(store.counts().prompts, 0);
        // Importing the good file twice: the second time every id is already there.
        const QString good = m_dir.filePath(QStringLiteral("good.jsonl"));
        writeText(good, kThreeRecords);
        importPaperJsonl(store, good);
        QVERIFY_THROWS_EXCEPTION(ImportError, importPaperJsonl(store, good));
        QCOMPARE(store.counts().pairs, 3);
        QVERIFY_THROWS_EXCEPTION(
            InputError, importPaperJsonl(store, m_dir.filePath(QStringLiteral("no.jsonl"))));
    }

    void tokensFromNpyFiles()
    {
        QTemporaryDir root;
        writeText(root.filePath(QStringLiteral("data3/tokens/m_1_token.npy")),
                  npyInt64({5, 6, 7}, "(1, 3)"));
        writeText(root.filePath(QStringLiteral("data3/tokens/m_2_token.npy")),
                  npyInt64({8}, "(1, 1)"));
        writeText(
            root.filePath(QStringLiteral("prefs.jsonl")),
            R"({"id": 1, "prompt": "p", "sample_1": {"features": "data2/features/m_1.npy", "seed": 1}, "sample_2": {"features": "data2/features/m_2.npy", "seed": 2}, "chosen": [{"choice": "sample_1", "degree of preference": "Negligibly better/unsure", "user": "u"}]})"
            "\n");
        StudyStore store;
        freshStudy(store);
#if __has_include("ml/data/npy.h")
        importPaperJsonl(store, root.filePath(QStringLiteral("prefs.jsonl")));
        const PairInfo pair = store.pairs().front();
        QCOMPARE(store.sample(pair.sample1Id).tokens, (std::vector<int>{5, 6, 7}));
        QCOMPARE(store.sample(pair.sample2Id).tokens, (std::vector<int>{8}));
        QCOMPARE(*store.currentLabel(pair.id)->degree, PreferenceDegree::Unsure);
#else
        try {
            importPaperJsonl(store, root.filePath(QStringLiteral("prefs.jsonl")));
            QFAIL("imported token files without an .npy reader");
        } catch (const ImportError &e) {
            QVERIFY(e.lineErrors().front().contains(QLatin1String(".npy")));
        }
#endif
    }

    void paperRoundTrip()
    {
        const QString file = m_dir.filePath(QStringLiteral("rt.jsonl"));
        writeText(file, kThreeRecords);
        StudyStore first;
        freshStudy(first);
        importPaperJsonl(first, file);
        // A label made here, with this program's extensions: left side, skip reason, time.
        const qint64 extra =
            first.addPair(first.prompts().front().id, first.addSample({.promptId = 1, .seed = 40}),
                          first.addSample({.promptId = 1, .seed = 41}), 2);
        first.addShownLabel(extra, QStringLiteral("ana"), ShownChoice::Skip, std::nullopt,
                            SkipReason::Identical, 3100, QStringLiteral("same motion"));
        const QString out1 = m_dir.filePath(QStringLiteral("rt1.jsonl"));
        QCOMPARE(exportStudy(first, out1, ExportFormat::Paper), 4);

        StudyStore second;
        freshStudy(second);
        importPaperJsonl(second, out1);
        const QString out2 = m_dir.filePath(QStringLiteral("rt2.jsonl"));
        exportStudy(second, out2, ExportFormat::Paper);
        auto strip = [](QList<QJsonObject> records) {
            for (QJsonObject &record : records) {
                QJsonArray chosen = record.value(QLatin1String("chosen")).toArray();
                for (qsizetype i = 0; i < chosen.size(); ++i) {
                    QJsonObject entry = chosen[i].toObject();
                    entry.remove(QStringLiteral("created_at")); // the time of the import
                    chosen[i] = entry;
                }
                record.insert(QStringLiteral("chosen"), chosen);
            }
            return records;
        };
        const auto records1 = strip(readJsonl(out1));
        QCOMPARE(records1.size(), 4);
        QCOMPARE(strip(readJsonl(out2)), records1);
        const QJsonObject last = records1.back();
        QCOMPARE(last.value(QLatin1String("left")).toString(), QStringLiteral("sample_2"));
        const QJsonObject entry = last.value(QLatin1String("chosen")).toArray()[0].toObject();
        QCOMPARE(entry.value(QLatin1String("choice")).toString(), QStringLiteral("skipped"));
        QCOMPARE(entry.value(QLatin1String("skip_reason")).toString(), QStringLiteral("identical"));
        QCOMPARE(entry.value(QLatin1String("time_on_task_ms")).toInt(), 3100);
        // chosen[] keeps both labelers, the pair's current one last.
        const QJsonArray chosen = records1.front().value(QLatin1String("chosen")).toArray();
        QCOMPARE(chosen.size(), 2);
        QCOMPARE(chosen[1].toObject().value(QLatin1String("user")).toString(),
                 QStringLiteral("u2"));
        QCOMPARE(chosen[0].toObject().value(QLatin1String("degree of preference")).toString(),
                 QStringLiteral("Much better"));
    }

    void trlAndCsv()
    {
        const QString file = m_dir.filePath(QStringLiteral("t.jsonl"));
        writeText(file, kThreeRecords);
        StudyStore store;
        freshStudy(store);
        importPaperJsonl(store, file);
        const QString trl = m_dir.filePath(QStringLiteral("trl.jsonl"));
        QCOMPARE(exportStudy(store, trl, ExportFormat::Trl), 1); // skipped and unlabeled left out
        const QJsonObject record = readJsonl(trl).front();
        QCOMPARE(record.value(QLatin1String("prompt")).toString(),
                 QStringLiteral("a man walks forward"));
        QCOMPARE(record.value(QLatin1String("chosen")).toString(),
                 QStringLiteral("<motion_id_512><motion_id_1><motion_id_2><motion_id_3>"
                                "<motion_id_513>"));
        QCOMPARE(record.value(QLatin1String("rejected")).toString(),
                 QStringLiteral("<motion_id_512><motion_id_4><motion_id_5><motion_id_513>"));
        QCOMPARE(record.value(QLatin1String("margin")).toInt(), 1);
        QCOMPARE(record.value(QLatin1String("annotator")).toString(), QStringLiteral("u2"));

        store.addLabel(store.pairByExternalId(QStringLiteral("c3"))->id, QStringLiteral("=cmd"),
                       {.choice = Choice::Sample2, .degree = PreferenceDegree::Better});
        const QString csv = m_dir.filePath(QStringLiteral("labels.csv"));
        QCOMPARE(exportStudy(store, csv, ExportFormat::Csv), 4);
        QFile in(csv);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = in.readAll().split('\n');
        QVERIFY(lines[0].startsWith("pair_id,external_id,prompt,labeler,choice,shown_side"));
        QCOMPARE(lines.size(), 6); // header, 4 rows, the final empty piece
        QVERIFY2(lines[4].contains("\"someone waves, \"\"hello\"\"\",'=cmd,sample_2,right,"
                                   "Better,-2,"),
                 lines[4].constData());
        QCOMPARE(exportFormatFromName(QStringLiteral("csv")), std::optional(ExportFormat::Csv));
        QVERIFY(!exportFormatFromName(QStringLiteral("xml")));
    }

    void splitsAreDeterministicAndSaved()
    {
        StudyStore store;
        const std::vector<qint64> labeled = labeledStudy(store, 20);
        QCOMPARE(trainablePairs(store), labeled); // no skipped or unsure pair
        const SavedSplit a = makeSplit(store, {.name = QStringLiteral("dpo"), .seed = 2222});
        QCOMPARE(a.test.size(), std::size_t(2)); // ceil(0.1 * 20)
        QCOMPARE(a.train.size(), std::size_t(18));
        std::vector<qint64> all = a.train;
        all.insert(all.end(), a.test.begin(), a.test.end());
        std::sort(all.begin(), all.end());
        QCOMPARE(all, labeled);
        const SavedSplit again = makeSplit(store, {.name = QStringLiteral("dpo"), .seed = 2222});
        QCOMPARE(again.test, a.test);
        QCOMPARE(again.train, a.train);
        QVERIFY(makeSplit(store, {.seed = 42}).train != a.train);

        // Saved lists are reused even after more labels arrive; replace redoes them.
        const SavedSplit saved = ensureSplit(store, {.name = QStringLiteral("dpo"), .seed = 2222});
        const qint64 prompt = store.prompts().front().id;
        const qint64 late = store.addPair(prompt, store.addSample({.promptId = prompt}),
                                          store.addSample({.promptId = prompt}), 1);
        store.addLabel(late, QStringLiteral("bo"),
                       {.choice = Choice::Sample1, .degree = PreferenceDegree::MuchBetter});
        const SavedSplit reused = ensureSplit(store, {.name = QStringLiteral("dpo"), .seed = 7});
        QCOMPARE(reused.train, saved.train);
        QCOMPARE(reused.seed, 2222);
        const SavedSplit redone =
            ensureSplit(store, {.name = QStringLiteral("dpo"), .seed = 2222}, true);
        QCOMPARE(redone.train.size() + redone.test.size(), std::size_t(21));
        QCOMPARE(redone.test.size(), std::size_t(3)); // ceil(2.1)

        QVERIFY_THROWS_EXCEPTION(InputError, makeSplit(store, {.testFraction = 1.0}));
        StudyStore tiny;
        labeledStudy(tiny, 1);
        QVERIFY_THROWS_EXCEPTION(InputError, makeSplit(tiny, {}));
    }

    void shuffleIsAFixedPermutation()
    {
        // A regression vector from this implementation: the same seed must give the same
        // permutation on every platform (mt19937_64 is fully specified by the standard).
        std::vector<qint64> ids{1, 2, 3, 4, 5, 6, 7, 8};
        seededShuffle(ids, 2222);
        std::vector<qint64> sorted = ids;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted, (std::vector<qint64>{1, 2, 3, 4, 5, 6, 7, 8}));
        std::vector<qint64> twice{1, 2, 3, 4, 5, 6, 7, 8};
        seededShuffle(twice, 2222);
        QCOMPARE(twice, ids);
        QVERIFY(ids != sorted);
        std::mt19937_64 reference(5489u);
        reference.discard(9999);
        QCOMPARE(reference(), 9981545732273789042ull); // the standard's own check value
    }

    void subsetsByDegreeAndPercent()
    {
        StudyStore store;
        const std::vector<qint64> labeled = labeledStudy(store, 20);
        // Degrees cycle Much, Better, Slightly, Negligible: 5 of each.
        const auto much = selectSubset(store, labeled, {.degrees = {PreferenceDegree::MuchBetter}});
        QCOMPARE(much.size(), std::size_t(5));
        for (qint64 id : much)
            QCOMPARE(*store.currentLabel(id)->degree, PreferenceDegree::MuchBetter);
        const auto strong = selectSubset(
            store, labeled, {.degrees = {PreferenceDegree::MuchBetter, PreferenceDegree::Better}});
        QCOMPARE(strong.size(), std::size_t(10));
        const auto half = selectSubset(store, labeled, {.percent = 50});
        QCOMPARE(half.size(), std::size_t(10));
        QVERIFY(std::is_sorted(half.begin(), half.end())); // the input order is kept
        QCOMPARE(selectSubset(store, labeled, {.percent = 50}), half);
        QCOMPARE(selectSubset(store, labeled, {.percent = 100}), labeled);
        QCOMPARE(
            selectSubset(store, labeled, {.degrees = {PreferenceDegree::MuchBetter}, .percent = 40})
                .size(),
            std::size_t(2));
        QVERIFY_THROWS_EXCEPTION(InputError, selectSubset(store, labeled, {.percent = 0}));
    }

    void trainingJsonlAndIdLists()
    {
        StudyStore store;
        const std::vector<qint64> labeled = labeledStudy(store, 4);
        const QString file = m_dir.filePath(QStringLiteral("train.jsonl"));
        QCOMPARE(writeTrainingJsonl(store, {labeled[1], labeled[0]}, file), 2);
        const auto records = readJsonl(file);
        // Pair 1 (i = 1): sample_2 preferred with "Better"; sample_1 has token [1].
        QCOMPARE(records[0].value(QLatin1String("pair_id")).toInteger(), labeled[1]);
        QCOMPARE(records[0].value(QLatin1String("chosen")).toArray(), (QJsonArray{7, 8}));
        QCOMPARE(records[0].value(QLatin1String("rejected")).toArray(), (QJsonArray{1}));
        QCOMPARE(records[0].value(QLatin1String("degree")).toString(), QStringLiteral("Better"));
        QCOMPARE(records[0].value(QLatin1String("margin")).toInt(), 2);
        QCOMPARE(records[1].value(QLatin1String("chosen")).toArray(), (QJsonArray{0}));
        QCOMPARE(records[1].value(QLatin1String("degree")).toString(),
                 QStringLiteral("Much better"));
        QCOMPARE(records[1].value(QLatin1String("labeler")).toString(), QStringLiteral("ana"));
        // A skipped pair cannot be trained on.
        const qint64 skipped = store.pairs()[4].id;
        QVERIFY_THROWS_EXCEPTION(InputError, writeTrainingJsonl(store, {skipped}, file));

        const QString ids = m_dir.filePath(QStringLiteral("train.txt"));
        writeIdList(labeled, ids);
        QCOMPARE(readIdList(ids), labeled);
        writeText(ids, "1\n2\nthree\n");
        try {
            readIdList(ids);
            QFAIL("read a bad id list");
        } catch (const InputError &e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("train.txt line 3")));
        }
    }
};

QTEST_GUILESS_MAIN(StudyIoTest)
#include "study_io_test.moc"
