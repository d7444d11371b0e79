// Issue 22's measures on hand-made labels with known answers: gold accuracy (overall and by
// block), self-consistency on repeats, per-labeler agreement, median time, watched-both share,
// side bias; the rules that make one training label of several; gold and repeat pairs mixed
// into the queue at the study's rates, corrupted as documented, kept out of training data.

#include "app/study/agreement.h"
#include "app/study/check_pairs.h"
#include "app/study/label_aggregation.h"
#include "app/study/labeler_quality.h"
#include "app/study/study_io.h"
#include "app/study/study_split.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <random>
#include <set>

using namespace mp;

namespace {

const QString kAna = QStringLiteral("ana");
const QString kBo = QStringLiteral("bo");
const QString kCy = QStringLiteral("cy");

bool close(double a, double b, double tolerance = 1e-12)
{
    return std::abs(a - b) <= tolerance;
}

LabelInput prefer(Choice choice, PreferenceDegree degree, qint64 ms = 0,
                  std::optional<bool> watched = std::nullopt)
{
    return {.choice = choice, .degree = degree, .timeOnTaskMs = ms, .watchedBoth = watched};
}

LabelRecord vote(qint64 id, const QString &labeler, Choice choice,
                 std::optional<PreferenceDegree> degree = std::nullopt)
{
    LabelRecord label;
    label.id = id;
    label.labeler = labeler;
    label.choice = choice;
    label.degree = choice == Choice::Unsure ? PreferenceDegree::Unsure : degree;
    return label;
}

QByteArray featuresNpy(const at::Tensor &features)
{
    const std::string bytes = npy::toBytes(features.to(at::kFloat).contiguous());
    return QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()));
}

at::Tensor featuresOf(const SampleInfo &sample)
{
    return npy::fromBytes(std::string_view(sample.features.constData(),
                                           static_cast<std::size_t>(sample.features.size())),
                          "test");
}

} // namespace

Q_DECLARE_METATYPE(std::vector<LabelRecord>)
Q_DECLARE_METATYPE(std::optional<Choice>)
Q_DECLARE_METATYPE(std::optional<PreferenceDegree>)

class LabelerQualityTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_counter = 0;

    QString freshStudy() { return m_dir.filePath(QStringLiteral("q%1.mpstudy").arg(++m_counter)); }

    // n normal pairs of one prompt (left side: sample_1), samples with codes.
    static std::vector<qint64> addPairs(StudyStore &store, int n, const QString &text)
    {
        const qint64 prompt = store.addPrompt(text, PromptSource::Typed);
        std::vector<qint64> pairs;
        for (int i = 0; i < n; ++i) {
            const qint64 a = store.addSample({.promptId = prompt, .seed = 2 * i, .tokens = {1, 2}});
            const qint64 b =
                store.addSample({.promptId = prompt, .seed = 2 * i + 1, .tokens = {3, 4}});
            pairs.push_back(store.addPair(prompt, a, b, 1));
        }
        return pairs;
    }

    static qint64 gold(StudyStore &store, qint64 base, bool expectFirst, const QString &labeler)
    {
        const PairInfo pair = store.pair(base);
        return store.addCheckPair({.kind = PairKind::Gold,
                                   .promptId = pair.promptId,
                                   .sample1Id = pair.sample1Id,
                                   .sample2Id = pair.sample2Id,
                                   .goldExpected = expectFirst ? pair.sample1Id : pair.sample2Id,
                                   .assignedTo = labeler});
    }

    static qint64 repeat(StudyStore &store, qint64 base, const QString &labeler)
    {
        const PairInfo pair = store.pair(base);
        return store.addCheckPair({.kind = PairKind::Repeat,
                                   .promptId = pair.promptId,
                                   .sample1Id = pair.sample1Id,
                                   .sample2Id = pair.sample2Id,
                                   .leftSample = 3 - pair.leftSample,
                                   .repeatsPair = base,
                                   .assignedTo = labeler});
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void measuresOnHandMadeLabels()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        const auto p = addPairs(store, 4, QStringLiteral("a person waves"));
        // ana: P1 S1 Better, P2 S2 Much, P3 S1 Better, P4 S1 Slightly (left = sample_1).
        store.addLabel(p[0], kAna, prefer(Choice::Sample1, PreferenceDegree::Better, 2000, true));
        store.addLabel(p[1], kAna,
                       prefer(Choice::Sample2, PreferenceDegree::MuchBetter, 4000, true));
        store.addLabel(p[2], kAna, prefer(Choice::Sample1, PreferenceDegree::Better, 6000, false));
        store.addLabel(p[3], kAna, prefer(Choice::Sample1, PreferenceDegree::SlightlyBetter, 8000));
        // bo agrees on P1, P2, P4 and not on P3; cy labels P1 only.
        store.addLabel(p[0], kBo, prefer(Choice::Sample1, PreferenceDegree::MuchBetter));
        store.addLabel(p[1], kBo, prefer(Choice::Sample2, PreferenceDegree::Better));
        store.addLabel(p[2], kBo, prefer(Choice::Sample2, PreferenceDegree::Better));
        store.addLabel(p[3], kBo, prefer(Choice::Sample1, PreferenceDegree::Better));
        store.addLabel(p[0], kCy, prefer(Choice::Sample1, PreferenceDegree::Better));

        // Gold, in this order: right, right, right, unsure (wrong). bo skips his one gold pair.
        const qint64 g1 = gold(store, p[0], true, kAna);
        const qint64 g2 = gold(store, p[1], false, kAna);
        const qint64 g3 = gold(store, p[2], true, kAna);
        const qint64 g4 = gold(store, p[3], true, kAna);
        store.addLabel(g1, kAna, prefer(Choice::Sample1, PreferenceDegree::MuchBetter, 1000));
        store.addLabel(g2, kAna, prefer(Choice::Sample2, PreferenceDegree::Better, 1000));
        store.addLabel(g3, kAna, prefer(Choice::Sample1, PreferenceDegree::Better, 1000));
        store.addLabel(g4, kAna, {.choice = Choice::Unsure, .timeOnTaskMs = 1000});
        const qint64 gb = gold(store, p[0], true, kBo);
        store.addLabel(gb, kBo, {.choice = Choice::Skipped, .skipReason = SkipReason::BothBad});

        // Repeats (the pair's own terms): P1 +2 again +2; P2 -3 now -1; P3 +2 now -2.
        const qint64 r1 = repeat(store, p[0], kAna);
        const qint64 r2 = repeat(store, p[1], kAna);
        const qint64 r3 = repeat(store, p[2], kAna);
        store.addLabel(r1, kAna, prefer(Choice::Sample1, PreferenceDegree::Better, 5000));
        store.addLabel(r2, kAna, prefer(Choice::Sample2, PreferenceDegree::SlightlyBetter, 5000));
        store.addLabel(r3, kAna, prefer(Choice::Sample2, PreferenceDegree::Better, 5000));

        const QualityReport report = computeLabelerQuality(store, 2);
        QCOMPARE(report.labelers.size(), std::size_t(3));
        const LabelerQuality &ana = report.labelers[0];
        QCOMPARE(ana.labeler, kAna);
        QCOMPARE(ana.labels, 4);
        QCOMPARE(ana.goldJudged, 4);
        QCOMPARE(ana.goldCorrect, 3);
        QVERIFY(close(ana.goldAccuracy, 0.75));
        QCOMPARE(ana.goldBlocks.size(), std::size_t(2));
        QVERIFY(close(ana.goldBlocks[0].accuracy, 1.0));
        QVERIFY(close(ana.goldBlocks[1].accuracy, 0.5));
        QCOMPARE(ana.repeats, 3);
        QVERIFY(close(ana.selfConsistency, 2.0 / 3));
        QVERIFY(close(ana.degreeConsistency, 1.0 / 3));
        QVERIFY(close(ana.repeatMeanAbsDiff, 2.0));
        // ana/bo: 3 of 4 agree, marginals (3, 1) and (2, 2): pe = 0.5, kappa = 0.5. ana/cy: one
        // item, chance agreement 1: kappa undefined, not averaged.
        QCOMPARE(ana.kappaPartners, 1);
        QVERIFY(close(ana.meanKappa, 0.5));
        QVERIFY(std::isnan(ana.agreementByDegree[0]));
        QVERIFY(close(ana.agreementByDegree[1], 1.0));     // P4 slightly: bo agrees
        QVERIFY(close(ana.agreementByDegree[2], 2.0 / 3)); // P1 (bo, cy), P3 (bo disagrees)
        QVERIFY(close(ana.agreementByDegree[3], 1.0));     // P2 much: bo agrees
        // Times of all 11 labels: 4 x 1000, 2000, 4000, 3 x 5000, 6000, 8000: median 4000.
        QVERIFY(close(ana.medianTimeMs, 4000));
        QCOMPARE(ana.watchedRecorded, 3);
        QVERIFY(close(ana.watchedShare, 2.0 / 3));
        QVERIFY(close(ana.leftShare, 0.75));
        QVERIFY(close(ana.positionBiasP, binomialTwoSidedP(3, 4)));
        QVERIFY(close(ana.positionBiasP, 10.0 / 16));

        const LabelerQuality &bo = report.labelers[1];
        QCOMPARE(bo.goldJudged, 0); // a skip is not judged
        QVERIFY(std::isnan(bo.goldAccuracy));
        QVERIFY(std::isnan(bo.selfConsistency));
        QCOMPARE(bo.labels, 4);

        // Reason tags per model: bo's skip of the gold pair is a check, not counted; one skip
        // with tags on a normal pair counts once for its one model.
        store.addLabel(p[3], kCy,
                       {.choice = Choice::Skipped,
                        .skipReason = SkipReason::BothBad,
                        .tags = {ReasonTag::Jitter, ReasonTag::FootSkating}});
        const auto reasons = reasonTagsByModel(store);
        QCOMPARE(reasons.size(), std::size_t(1));
        QCOMPARE(reasons[0].model, QStringLiteral("imported"));
        QCOMPARE(reasons[0].skips, 1);
        QCOMPARE(reasons[0].tags[static_cast<std::size_t>(ReasonTag::Jitter)], 1);
        QCOMPARE(reasons[0].tags[static_cast<std::size_t>(ReasonTag::TooShort)], 0);

        // Alpha without cy: the units of ana and bo alone.
        const std::vector<std::vector<int>> withoutCy = {{2, 3}, {-3, -2}, {2, -2}, {1, 2}};
        QVERIFY(close(report.labelers[2].alphaWithout,
                      krippendorffAlpha(withoutCy, AlphaMetric::Ordinal), 1e-12));
        // The study's agreement and training data never see the check pairs.
        QCOMPARE(computeAgreement(store).overlapPairs, 4);
        // (p[3]'s newest label is cy's skip: not trainable under "last".)
        QCOMPARE(trainablePairs(store), (std::vector<qint64>{p[0], p[1], p[2]}));
        // Majority: p[2] is a tie of ana and bo; cy's skip on p[3] is no vote.
        QCOMPARE(trainablePairs(store, {.rule = LabelAggregation::Majority}),
                 (std::vector<qint64>{p[0], p[1], p[3]}));
    }

    void aggregation_data()
    {
        QTest::addColumn<std::vector<LabelRecord>>("labels");
        QTest::addColumn<QString>("rule");
        QTest::addColumn<QStringList>("excluded");
        QTest::addColumn<std::optional<Choice>>("choice");
        QTest::addColumn<std::optional<PreferenceDegree>>("degree");
        using C = Choice;
        using D = PreferenceDegree;
        const std::optional<Choice> none;
        const std::vector<LabelRecord> split = {vote(1, kAna, C::Sample1, D::Better),
                                                vote(2, kBo, C::Sample1, D::MuchBetter),
                                                vote(3, kCy, C::Sample2, D::SlightlyBetter)};
        QTest::newRow("last") << split << "last" << QStringList() << std::optional(C::Sample2)
                              << std::optional(D::SlightlyBetter);
        // Two of three for sample_1, degrees 2 and 3: mean 2.5 rounds away from zero to 3.
        QTest::newRow("majority") << split << "majority" << QStringList()
                                  << std::optional(C::Sample1) << std::optional(D::MuchBetter);
        // (2 + 3 - 1) / 3 = 1.33: sample_1, slightly.
        QTest::newRow("mean") << split << "mean" << QStringList() << std::optional(C::Sample1)
                              << std::optional(D::SlightlyBetter);
        QTest::newRow("unanimous drops")
            << split << "unanimous" << QStringList() << none << std::optional<D>();
        const std::vector<LabelRecord> tie = {vote(1, kAna, C::Sample1, D::Better),
                                              vote(2, kBo, C::Sample2, D::Better)};
        QTest::newRow("majority tie")
            << tie << "majority" << QStringList() << none << std::optional<D>();
        QTest::newRow("mean zero is unsure")
            << tie << "mean" << QStringList() << std::optional(C::Unsure)
            << std::optional(D::Unsure);
        const std::vector<LabelRecord> skipLast = {vote(1, kAna, C::Sample2, D::MuchBetter),
                                                   vote(2, kBo, C::Skipped)};
        QTest::newRow("last is a skip") << skipLast << "last" << QStringList()
                                        << std::optional(C::Skipped) << std::optional<D>();
        QTest::newRow("a skip is no vote")
            << skipLast << "unanimous" << QStringList() << std::optional(C::Sample2)
            << std::optional(D::MuchBetter);
        QTest::newRow("excluded labeler") << tie << "last" << QStringList{kBo}
                                          << std::optional(C::Sample1) << std::optional(D::Better);
        QTest::newRow("everybody excluded")
            << tie << "majority" << QStringList{kAna, kBo} << none << std::optional<D>();
        const std::vector<LabelRecord> unsure = {vote(1, kAna, C::Unsure), vote(2, kBo, C::Unsure),
                                                 vote(3, kCy, C::Sample1, D::MuchBetter)};
        QTest::newRow("unsure majority") << unsure << "majority" << QStringList()
                                         << std::optional(C::Unsure) << std::optional(D::Unsure);
        // (0 + 0 + 3) / 3 = 1: sample_1, slightly.
        QTest::newRow("mean with unsure")
            << unsure << "mean" << QStringList() << std::optional(C::Sample1)
            << std::optional(D::SlightlyBetter);
    }

    void aggregation()
    {
        QFETCH(std::vector<LabelRecord>, labels);
        QFETCH(QString, rule);
        QFETCH(QStringList, excluded);
        QFETCH(std::optional<Choice>, choice);
        QFETCH(std::optional<PreferenceDegree>, degree);
        const auto parsed = labelAggregationFromName(rule);
        QVERIFY(parsed);
        QCOMPARE(labelAggregationName(*parsed), rule);
        const auto result =
            aggregateLabels(labels, {.rule = *parsed, .excludedLabelers = excluded});
        QCOMPARE(result ? result->choice : std::nullopt, choice);
        QCOMPARE(result ? result->degree : std::nullopt, degree);
    }

    // The rule and the exclusion reach the training JSONL and the trainable set.
    void trainingDataFollowsTheRule()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        const auto p = addPairs(store, 2, QStringLiteral("a man jumps"));
        store.addLabel(p[0], kAna, prefer(Choice::Sample1, PreferenceDegree::Better));
        store.addLabel(p[0], kBo, prefer(Choice::Sample1, PreferenceDegree::Better));
        store.addLabel(p[0], kCy, prefer(Choice::Sample2, PreferenceDegree::MuchBetter));
        store.addLabel(p[1], kAna, prefer(Choice::Sample2, PreferenceDegree::Better));
        store.addLabel(p[1], kCy, {.choice = Choice::Unsure});
        QCOMPARE(trainablePairs(store), std::vector<qint64>{p[0]}); // last: cy's
        QCOMPARE(trainablePairs(store, {.rule = LabelAggregation::Majority}),
                 std::vector<qint64>{p[0]}); // p[1] is a tie of sample_2 and unsure
        QCOMPARE(trainablePairs(store, {.rule = LabelAggregation::Last, .excludedLabelers = {kCy}}),
                 p);
        QVERIFY(trainablePairs(store, {.rule = LabelAggregation::Unanimous}).empty());
        const QString file = m_dir.filePath(QStringLiteral("majority.jsonl"));
        QCOMPARE(writeTrainingJsonl(store, {p[0]}, file, {.rule = LabelAggregation::Majority}), 1);
        QFile in(file);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray line = in.readAll();
        QVERIFY2(line.contains("\"labeler\":\"ana,bo\""), line.constData());
        QVERIFY2(line.contains("\"chosen\":[1,2]"), line.constData()); // sample_1's codes
        QVERIFY_THROWS_EXCEPTION(
            InputError,
            writeTrainingJsonl(store, {p[1]}, file, {.rule = LabelAggregation::Majority}));
    }

    // Tags and the watched-both flag go out in the paper JSONL and CSV and come back on import;
    // gold pairs stay out of the exports.
    void tagsAreExported()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        const auto p = addPairs(store, 2, QStringLiteral("a man kicks"));
        store.addLabel(p[0], kAna,
                       {.choice = Choice::Skipped,
                        .skipReason = SkipReason::BothBad,
                        .tags = {ReasonTag::TooShort, ReasonTag::WrongAction},
                        .watchedBoth = true});
        store.addLabel(gold(store, p[1], true, kAna), kAna,
                       prefer(Choice::Sample1, PreferenceDegree::Better));
        const QString paper = m_dir.filePath(QStringLiteral("tags.jsonl"));
        QCOMPARE(exportStudy(store, paper, ExportFormat::Paper), 2); // the gold pair left out
        QFile in(paper);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray text = in.readAll();
        QVERIFY2(text.contains("\"reason_tags\":[\"wrong_action\",\"too_short\"]"),
                 text.constData());
        QVERIFY(text.contains("\"watched_both\":true"));
        const QString csv = m_dir.filePath(QStringLiteral("tags.csv"));
        exportStudy(store, csv, ExportFormat::Csv);
        QFile csvIn(csv);
        QVERIFY(csvIn.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csvIn.readAll().split('\n');
        QVERIFY(lines[0].endsWith("comment,reason_tags,watched_both"));
        QVERIFY2(lines[1].endsWith(",wrong_action;too_short,1"), lines[1].constData());

        StudyStore again;
        again.open(freshStudy(), true);
        importPaperJsonl(again, paper);
        const auto label = again.currentLabel(again.pairs().front().id);
        QVERIFY(label);
        QCOMPARE(label->tags,
                 (std::vector<ReasonTag>{ReasonTag::WrongAction, ReasonTag::TooShort}));
        QCOMPARE(label->watchedBoth, std::optional<bool>(true));
    }

    void corruptions()
    {
        std::mt19937_64 rng(3);
        const at::Tensor features = at::arange(5 * 263, at::kFloat).reshape({5, 263}) / 100.0;
        SampleInfo sample{.id = 7, .promptId = 1, .seed = 4, .tokens = {10, 11, 12, 13}};
        sample.features = featuresNpy(features);
        SampleInfo other{.id = 9, .promptId = 2, .seed = 5, .tokens = {40, 41}};
        other.features = featuresNpy(features * 2);

        const SampleInfo reversed = corruptedSample(sample, GoldCorruption::Reversed, rng);
        QCOMPARE(reversed.promptId, 1);
        QCOMPARE(reversed.tokens, (std::vector<int>{13, 12, 11, 10}));
        const at::Tensor r = featuresOf(reversed);
        QVERIFY(at::equal(r[0].narrow(0, 3, 64), features[4].narrow(0, 3, 64))); // ric of the end
        QVERIFY(at::equal(r[0].narrow(0, 0, 3), -features[4].narrow(0, 0, 3)));  // velocities
        QCOMPARE(reversed.origin, sample.origin); // nothing on screen tells the copy apart
        QCOMPARE(reversed.seed, sample.seed);

        const SampleInfo frozen = corruptedSample(sample, GoldCorruption::Frozen, rng);
        QCOMPARE(frozen.tokens, (std::vector<int>{12, 12, 12, 12}));
        const at::Tensor f = featuresOf(frozen);
        for (int t = 0; t < 5; ++t) {
            QVERIFY(at::equal(f[t].narrow(0, 3, 64), features[2].narrow(0, 3, 64)));
            QCOMPARE(f[t].narrow(0, 0, 3).abs().sum().item<float>(), 0.0f);
        }

        const SampleInfo jittered = corruptedSample(sample, GoldCorruption::Jittered, rng);
        QCOMPARE(jittered.tokens[0], 10);
        QCOMPARE(jittered.tokens[2], 12);
        const at::Tensor j = featuresOf(jittered);
        const double shake = (j - features).narrow(1, 4, 63).std().item<double>();
        QVERIFY2(shake > 0.02 && shake < 0.06, qPrintable(QString::number(shake)));
        QVERIFY(at::equal(j.narrow(1, 67, 196), features.narrow(1, 67, 196))); // only positions

        QVERIFY_THROWS_EXCEPTION(InputError,
                                 corruptedSample(sample, GoldCorruption::Mismatched, rng));
        const SampleInfo mismatched =
            corruptedSample(sample, GoldCorruption::Mismatched, rng, &other);
        QCOMPARE(mismatched.promptId, 1); // shown for this prompt
        QCOMPARE(mismatched.tokens, other.tokens);
        QVERIFY(at::equal(featuresOf(mismatched), featuresOf(other)));
    }

    // Gold pairs come at the study's rate, for this labeler only, and the queue still ends.
    void goldAndRepeatsInTheQueue()
    {
        StudyStore store;
        store.open(freshStudy(), true);
        QVERIFY_THROWS_EXCEPTION(InputError, setCheckRates(store, {.gold = 0.6}));
        QVERIFY_THROWS_EXCEPTION(InputError, setCheckRates(store, {.gold = 0.3, .repeat = 0.3}));
        QVERIFY_THROWS_EXCEPTION(InputError, setCheckRates(store, {.gold = -0.1}));
        const auto normal = addPairs(store, 60, QStringLiteral("a person walks"));
        addPairs(store, 1, QStringLiteral("a person jumps")); // a second prompt: mismatched clips
        setCheckRates(store, {.gold = 0.2, .repeat = 0.1});
        QVERIFY(close(checkRates(store).gold, 0.2));
        std::mt19937_64 rng(11);
        int shown = 0;
        int golds = 0;
        int repeats = 0;
        std::set<qint64> repeatedOriginals;
        std::set<qint64> labeledNormal;
        while (auto pair = assignNextWithChecks(store, kAna, rng)) {
            QVERIFY(shown < 400);
            // Asking again before labeling gives the same pair (no new check stacked).
            QCOMPARE(assignNextWithChecks(store, kAna, rng)->id, pair->id);
            ++shown;
            if (pair->kind == PairKind::Gold) {
                ++golds;
                QVERIFY(pair->goldExpected == pair->sample1Id ||
                        pair->goldExpected == pair->sample2Id);
                QVERIFY2(pair->externalId.startsWith(QStringLiteral("gold:")),
                         qPrintable(pair->externalId));
                const qint64 corrupted =
                    pair->goldExpected == pair->sample1Id ? pair->sample2Id : pair->sample1Id;
                QVERIFY(pair->externalId.endsWith(QLatin1Char(':') + QString::number(corrupted)));
            } else if (pair->kind == PairKind::Repeat) {
                ++repeats;
                const PairInfo original = store.pair(*pair->repeatsPair);
                QCOMPARE(pair->leftSample, 3 - original.leftSample); // sides swapped
                QVERIFY(labeledNormal.contains(original.id));
                QVERIFY(repeatedOriginals.insert(original.id).second); // once each
            } else {
                labeledNormal.insert(pair->id);
            }
            QCOMPARE(pair->assignedTo, kAna);
            store.addLabel(pair->id, kAna, prefer(Choice::Sample1, PreferenceDegree::Better));
        }
        QCOMPARE(labeledNormal.size(), std::size_t(61));
        // Shares of the pairs shown: 0.2 and 0.1 expected; 61 normal pairs give ~87 shown.
        const double goldShare = static_cast<double>(golds) / shown;
        const double repeatShare = static_cast<double>(repeats) / shown;
        QVERIFY2(goldShare > 0.1 && goldShare < 0.3, qPrintable(QString::number(goldShare)));
        QVERIFY2(repeatShare > 0.03 && repeatShare < 0.2, qPrintable(QString::number(repeatShare)));
        // Nobody else is ever handed a check pair; training data holds the normal pairs only.
        QVERIFY(!store.assignNextPair(kBo));
        QCOMPARE(trainablePairs(store).size(), std::size_t(61));
        const QualityReport report = computeLabelerQuality(store);
        QCOMPARE(report.labelers.front().repeats, repeats);
        QVERIFY(close(report.labelers.front().selfConsistency, 1.0)); // same choice every time
    }
};

QTEST_GUILESS_MAIN(LabelerQualityTest)
#include "labeler_quality_test.moc"
