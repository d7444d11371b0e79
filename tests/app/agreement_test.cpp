// Agreement statistics against published worked examples, and the study-level report.

#include "app/study/agreement.h"
#include "app/study/study_store.h"

#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace mp;

namespace {
bool close(double a, double b, double tolerance)
{
    return std::abs(a - b) <= tolerance;
}
} // namespace

class AgreementTest : public QObject {
    Q_OBJECT
private slots:
    void cohen_data()
    {
        QTest::addColumn<std::vector<int>>("a");
        QTest::addColumn<std::vector<int>>("b");
        QTest::addColumn<double>("kappa");
        // Wikipedia "Cohen's kappa": 50 items, yes/yes 20, yes/no 5, no/yes 10, no/no 15:
        // po = 0.7, pe = 0.5, kappa = 0.4.
        std::vector<int> a;
        std::vector<int> b;
        auto add = [&](int x, int y, int times) {
            for (int i = 0; i < times; ++i) {
                a.push_back(x);
                b.push_back(y);
            }
        };
        add(1, 1, 20);
        add(1, 0, 5);
        add(0, 1, 10);
        add(0, 0, 15);
        QTest::newRow("wikipedia 2x2") << a << b << 0.4;
        // By hand, three categories: po = 4/6, pe = (2*2 + 2*3 + 2*1)/36 = 1/3, kappa = 0.5.
        QTest::newRow("three categories")
            << std::vector<int>{0, 0, 1, 1, 2, 2} << std::vector<int>{0, 1, 1, 1, 2, 0} << 0.5;
        QTest::newRow("perfect") << std::vector<int>{0, 1, 2} << std::vector<int>{0, 1, 2} << 1.0;
        // Systematic disagreement: po = 0, pe = 0.5, kappa = -1.
        QTest::newRow("opposite") << std::vector<int>{0, 1, 0, 1} << std::vector<int>{1, 0, 1, 0}
                                  << -1.0;
    }

    void cohen()
    {
        QFETCH(std::vector<int>, a);
        QFETCH(std::vector<int>, b);
        QFETCH(double, kappa);
        QVERIFY2(close(cohenKappa(a, b), kappa, 1e-12),
                 qPrintable(QString::number(cohenKappa(a, b), 'g', 17)));
    }

    void cohenUndefined()
    {
        QVERIFY(std::isnan(cohenKappa({1, 1, 1}, {1, 1, 1}))); // chance agreement is 1
        QVERIFY(std::isnan(cohenKappa({}, {})));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, cohenKappa({1}, {1, 2}));
    }

    // Fleiss (1971) as worked in Wikipedia's "Fleiss' kappa": 10 subjects, 14 raters,
    // 5 categories: P-bar = 0.378, P-bar-e = 0.213, kappa = 0.210.
    void fleiss()
    {
        const std::vector<std::vector<int>> counts{
            {0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
            {7, 7, 0, 0, 0},  {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7}};
        const double kappa = fleissKappa(counts);
        QVERIFY2(close(kappa, 0.20993, 5e-5), qPrintable(QString::number(kappa, 'g', 10)));
        // Two raters who always agree on varied items: kappa 1.
        QVERIFY(close(fleissKappa({{2, 0}, {0, 2}, {2, 0}}), 1.0, 1e-12));
        // Rows with fewer than two ratings carry no agreement and are ignored.
        QVERIFY(close(fleissKappa({{2, 0}, {0, 2}, {1, 0}}), 1.0, 1e-12));
        QVERIFY(std::isnan(fleissKappa({{1, 0}})));
    }

    // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with
    // 4 observers, 12 units and missing values: nominal 0.743, ordinal 0.815, interval 0.849.
    void krippendorff()
    {
        const std::vector<std::vector<int>> units{
            {1, 1, 1},    {2, 2, 3, 2}, {3, 3, 3, 3}, {3, 3, 3, 3}, {2, 2, 2, 2}, {1, 2, 3, 4},
            {4, 4, 4, 4}, {1, 1, 2, 1}, {2, 2, 2, 2}, {5, 5, 5},    {1, 1},       {3}};
        const double nominal = krippendorffAlpha(units, AlphaMetric::Nominal);
        const double ordinal = krippendorffAlpha(units, AlphaMetric::Ordinal);
        const double interval = krippendorffAlpha(units, AlphaMetric::Interval);
        QVERIFY2(close(nominal, 0.743, 5e-4), qPrintable(QString::number(nominal)));
        QVERIFY2(close(ordinal, 0.815, 5e-4), qPrintable(QString::number(ordinal)));
        QVERIFY2(close(interval, 0.849, 5e-4), qPrintable(QString::number(interval)));
        // Full agreement is 1 on every metric; no pairable unit is undefined.
        QVERIFY(close(krippendorffAlpha({{1, 1}, {2, 2}}, AlphaMetric::Ordinal), 1.0, 1e-12));
        QVERIFY(std::isnan(krippendorffAlpha({{1}, {2}}, AlphaMetric::Ordinal)));
    }

    void binomial()
    {
        // By hand: P(X <= 2 | n = 10) = (1 + 10 + 45) / 1024; two-sided doubles it.
        QVERIFY(close(binomialTwoSidedP(2, 10), 112.0 / 1024.0, 1e-12));
        QVERIFY(close(binomialTwoSidedP(8, 10), 112.0 / 1024.0, 1e-12));
        QCOMPARE(binomialTwoSidedP(5, 10), 1.0);
        QCOMPARE(binomialTwoSidedP(0, 0), 1.0);
        // The right-side bias of ecosystem.md §2: 99 vs 72 picks, p = 0.0465.
        QVERIFY(close(binomialTwoSidedP(72, 171), 0.0464644, 1e-6));
    }

    // Three labelers on four pairs; every number below is counted by hand.
    void studyReport()
    {
        QTemporaryDir dir;
        StudyStore store;
        store.open(dir.filePath(QStringLiteral("s.sqlite")), true);
        const qint64 prompt = store.addPrompt(QStringLiteral("p"), PromptSource::Typed);
        std::vector<qint64> pairs;
        for (int i = 0; i < 4; ++i) {
            const qint64 s1 = store.addSample({.promptId = prompt, .seed = 2 * i});
            const qint64 s2 = store.addSample({.promptId = prompt, .seed = 2 * i + 1});
            pairs.push_back(store.addPair(prompt, s1, s2, i < 2 ? 1 : 2)); // left: 1,1,2,2
        }
        const QString ana = QStringLiteral("ana"), bo = QStringLiteral("bo"),
                      cy = QStringLiteral("cy");
        auto label = [&](int pair, const QString &who, Choice choice,
                         std::optional<PreferenceDegree> d, qint64 ms) {
            store.addLabel(pairs[static_cast<std::size_t>(pair)], who,
                           {.choice = choice, .degree = d, .timeOnTaskMs = ms});
        };
        // ana: s1 on every pair -> left, left, right, right.
        label(0, ana, Choice::Sample1, PreferenceDegree::MuchBetter, 1000);
        label(1, ana, Choice::Sample1, PreferenceDegree::Better, 3000);
        label(2, ana, Choice::Sample1, PreferenceDegree::Better, 2000);
        label(3, ana, Choice::Sample1, PreferenceDegree::SlightlyBetter, 2000);
        // bo agrees on 0 and 1, disagrees on 2, skips 3; a revision counts once.
        label(0, bo, Choice::Sample2, PreferenceDegree::MuchBetter, 500);
        label(0, bo, Choice::Sample1, PreferenceDegree::Better, 500);
        label(1, bo, Choice::Sample1, PreferenceDegree::MuchBetter, 700);
        label(2, bo, Choice::Sample2, PreferenceDegree::SlightlyBetter, 900);
        store.addLabel(pairs[3], bo,
                       {.choice = Choice::Skipped,
                        .skipReason = SkipReason::BrokenMotion,
                        .timeOnTaskMs = 100});
        // cy labels pair 0 only, then undoes a label on pair 1.
        label(0, cy, Choice::Unsure, std::nullopt, 0);
        label(1, cy, Choice::Sample2, PreferenceDegree::Better, 0);
        store.retractLabel(pairs[1], cy);

        const AgreementReport report = computeAgreement(store);
        QCOMPARE(report.labelers, 3);
        QCOMPARE(report.overlapPairs, 3); // pairs 0, 1, 2 (bo's skip on 3 is no judgment)
        QCOMPARE(report.perLabeler.size(), std::size_t(3));
        const LabelerStats &a = report.perLabeler[0];
        QCOMPARE(a.labeler, ana);
        QCOMPARE(a.leftPicks, 2);
        QCOMPARE(a.rightPicks, 2);
        QCOMPARE(a.leftShare, 0.5);
        QCOMPARE(a.meanTimeOnTaskMs, 2000.0);
        const LabelerStats &b = report.perLabeler[1];
        QCOMPARE(b.labels, 4);
        QCOMPARE(b.skips, 1);
        QCOMPARE(b.leftPicks, 3); // s1 shown left twice, s2 shown left once
        QCOMPARE(b.rightPicks, 0);
        QCOMPARE(b.meanTimeOnTaskMs, (500.0 + 700.0 + 900.0 + 100.0) / 4.0);
        QVERIFY(close(b.positionBiasP, 0.25, 1e-12)); // 3 of 3: 2 * (1/8)
        const LabelerStats &c = report.perLabeler[2];
        QCOMPARE(c.labels, 1);
        QCOMPARE(c.unsure, 1);
        QCOMPARE(c.meanTimeOnTaskMs, 0.0);

        // ana vs bo on pairs 0, 1, 2: categories (s1, s1, s1) vs (s1, s1, s2): po = 2/3,
        // pe = 1 * 2/3, kappa = 0. ana vs cy on pair 0: (s1) vs (unsure): pe 0, kappa 0.
        QCOMPARE(report.cohen.size(), std::size_t(3));
        QCOMPARE(report.cohen[0].labelerA, ana);
        QCOMPARE(report.cohen[0].labelerB, bo);
        QCOMPARE(report.cohen[0].overlap, 3);
        QVERIFY(close(report.cohen[0].kappa, 0.0, 1e-12));
        QCOMPARE(report.cohen[1].overlap, 1);
        // Ordinal alpha on the signed scale: units {+3, +2, 0}, {+2, +3}, {+2, -1}.
        const double alpha = krippendorffAlpha({{3, 2, 0}, {2, 3}, {2, -1}}, AlphaMetric::Ordinal);
        QVERIFY(close(report.alphaOrdinal, alpha, 1e-12));
        // Fleiss rows (s1, s2, unsure): {2, 0, 1}, {2, 0, 0}, {1, 1, 0}.
        QVERIFY(close(report.fleissKappa, fleissKappa({{2, 0, 1}, {2, 0, 0}, {1, 1, 0}}), 1e-12));
    }
};

QTEST_GUILESS_MAIN(AgreementTest)
#include "agreement_test.moc"
