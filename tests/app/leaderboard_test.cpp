// The leaderboard (app/compare/leaderboard.*): comparisons gathered from a study (labels between
// samples of different models) and from blind A/B session files, matched by content hash, fitted
// with Bradley-Terry; known answers from tests/app/leaderboard_study.h.

#include "app/compare/leaderboard.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "tests/app/input_error_text.h"
#include "tests/app/leaderboard_study.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace mp;
using mp::test::inputError;

namespace {
const LeaderboardRow *rowNamed(const Leaderboard &board, const QString &name)
{
    for (const LeaderboardRow &row : board.rows)
        if (row.model.name == name)
            return &row;
    return nullptr;
}
} // namespace

class LeaderboardTest : public QObject {
    Q_OBJECT
private slots:
    void studyLabelsAcrossModels()
    {
        QTemporaryDir dir;
        const auto f = test::makeLeaderboardFixture(dir.path());
        StudyStore store;
        store.open(f.study);
        LeaderboardData data;
        QCOMPARE(data.addStudy(store), 10); // the skip, the retraction and base/base left out
        QCOMPARE(int(data.models().size()), 2);
        const Leaderboard board =
            computeLeaderboard(data, {.ridge = 0, .replicates = 200, .seed = 3});
        QCOMPARE(board.anchor, QStringLiteral("base"));
        QCOMPARE(board.rows.front().model.name, QStringLiteral("base + lora"));
        QVERIFY(std::abs(board.rows.front().rating - std::log(7.0 / 3.0)) < 1e-9);
        QCOMPARE(board.rows.front().wins, 6);
        QCOMPARE(board.rows.front().ties, 2);
        QCOMPARE(board.rows.front().losses, 2);
        QCOMPARE(board.rows.back().rating, 0.0);
        QVERIFY(board.rows.front().lower < board.rows.front().rating);
        QVERIFY(board.rows.front().upper > board.rows.front().rating);
    }

    void abSessionsJoinTheStudyByContentHash()
    {
        QTemporaryDir dir;
        const auto f = test::makeLeaderboardFixture(dir.path());
        StudyStore store;
        store.open(f.study);
        LeaderboardData data;
        data.addStudy(store);
        QCOMPARE(data.addAbSessionFile(f.abFile), 6);
        QCOMPARE(int(data.models().size()), 2); // the same two directories, not two more
        const Leaderboard board = computeLeaderboard(data, {.ridge = 0, .replicates = 100});
        const LeaderboardRow *lora = rowNamed(board, QStringLiteral("base + lora"));
        QVERIFY(lora);
        QVERIFY(std::abs(lora->rating - std::log(10.5 / 5.5)) < 1e-9);
        QCOMPARE(lora->count(), 16);
        QCOMPARE(board.comparisons, 16);
        QCOMPARE(board.sources.size(), 2);
        QVERIFY(board.sources.back().endsWith(QStringLiteral("ab-session.json: 6")));
    }

    void anchorAndOutputs()
    {
        QTemporaryDir dir;
        const auto f = test::makeLeaderboardFixture(dir.path());
        LeaderboardData data;
        data.addAbSessionFile(f.abFile); // no study: the models are named by their directories
        const Leaderboard board =
            computeLeaderboard(data, {.replicates = 50, .anchor = QStringLiteral("base + lora")});
        QCOMPARE(board.anchor, QStringLiteral("base + lora"));
        QCOMPARE(rowNamed(board, QStringLiteral("base + lora"))->rating, 0.0);
        QVERIFY(rowNamed(board, QStringLiteral("base"))->rating < 0); // shrunk by the ridge
        const QJsonObject json = leaderboardToJson(board);
        QCOMPARE(json.value(QStringLiteral("format")).toString(),
                 QStringLiteral("motionpref-leaderboard"));
        QCOMPARE(json.value(QStringLiteral("models")).toArray().size(), 2);
        const QStringList csv =
            leaderboardToCsv(board).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(csv.size(), 3);
        QVERIFY(csv.front().startsWith(QStringLiteral("model,bundle,adapter,rating,lower,upper")));
        QVERIFY(leaderboardToText(board).contains(QStringLiteral("95% interval")));

        QVERIFY(inputError([&] {
                    computeLeaderboard(data, {.anchor = QStringLiteral("nope")});
                }).contains(QStringLiteral("no model named 'nope' (models: base, base + lora)")));
        QVERIFY(inputError([] {
                    computeLeaderboard(LeaderboardData(), {});
                }).contains(QStringLiteral("no comparison between two different models")));
        QVERIFY(inputError([&] { LeaderboardData().addAbSessionFile(f.study); }).contains(f.study));
    }

    void undefeatedNeedsTheRidge()
    {
        QTemporaryDir dir;
        test::writeMarker(dir.filePath(QStringLiteral("a")), "a");
        test::writeMarker(dir.filePath(QStringLiteral("b")), "b");
        AbSessionOptions options;
        options.prompts = {QStringLiteral("a person walks")};
        options.temperatures = {0.8, 1.0, 1.2};
        AbSession session =
            AbSession::create({dir.filePath(QStringLiteral("a")), QString()},
                              {dir.filePath(QStringLiteral("b")), QString()}, options);
        for (int i = 0; i < session.size(); ++i) // b wins every trial
            session.answer(i, session.trial(i).aOnLeft ? AbAnswer::Right : AbAnswer::Left);
        LeaderboardData data;
        data.addAbSession(session, QStringLiteral("memory"));
        QVERIFY(inputError([&] {
                    computeLeaderboard(data, {.ridge = 0});
                }).contains(QStringLiteral("did not converge")));
        const Leaderboard board = computeLeaderboard(data, {.ridge = 0.1, .replicates = 50});
        QVERIFY(std::isfinite(board.rows.front().rating));
        QCOMPARE(board.rows.front().model.name, QStringLiteral("b"));
    }
};

QTEST_GUILESS_MAIN(LeaderboardTest)
#include "leaderboard_test.moc"
