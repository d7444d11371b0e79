#pragma once
// A study with labels across two models (a bundle "base" and the same bundle + adapter "lora")
// and a blind A/B session file between the same two directories, for the leaderboard's tests
// (app, GUI). The directories hold one small file each, so their content hashes identify them.
//
// Known answer (ridge 0): lora takes 7 of 10 points in the study (6 wins, 2 losses, 2 unsure; a
// skip, a retracted label and a pair within base are left out) and 3.5 of 6 in the A/B session
// (3 wins, 1 tie, 2 losses): 10.5 of 16, rating log(10.5 / 5.5) above base.

#include "app/compare/ab_session.h"
#include "app/study/study_store.h"

#include <QDir>
#include <QFile>
#include <QString>

namespace mp::test {

struct LeaderboardFixture {
    QString study;
    QString abFile;
    QString baseDir;
    QString adapterDir;
};

inline void writeMarker(const QString &dir, const QByteArray &content)
{
    QDir().mkpath(dir);
    QFile file(dir + QStringLiteral("/config.json"));
    file.open(QIODevice::WriteOnly);
    file.write(content);
}

inline LeaderboardFixture makeLeaderboardFixture(const QString &root)
{
    LeaderboardFixture f{root + QStringLiteral("/two-models.mpstudy"),
                         root + QStringLiteral("/ab-session.json"), root + QStringLiteral("/base"),
                         root + QStringLiteral("/lora")};
    writeMarker(f.baseDir, "{\"model\": \"base\"}");
    writeMarker(f.adapterDir, "{\"adapter\": \"lora\"}");
    {
        StudyStore store;
        store.open(f.study, true);
        const qint64 base =
            store.addModel(QStringLiteral("base"), f.baseDir, StudyStore::contentHash(f.baseDir));
        const qint64 lora = store.addAdapter(base, QStringLiteral("lora"), f.adapterDir,
                                             StudyStore::contentHash(f.adapterDir));
        const qint64 prompt =
            store.addPrompt(QStringLiteral("a person walks"), PromptSource::Typed);
        const auto sample = [&](bool adapter, qint64 seed) {
            SampleInfo info;
            info.promptId = prompt;
            info.modelId = base;
            if (adapter)
                info.adapterId = lora;
            info.seed = seed;
            info.tokens = {1, 2, 3};
            return store.addSample(info);
        };
        const auto label = [&](qint64 pair, const QString &who, Choice choice) {
            LabelInput input;
            input.choice = choice;
            input.degree =
                choice == Choice::Unsure ? PreferenceDegree::Unsure : PreferenceDegree::Better;
            if (choice == Choice::Skipped) {
                input.degree.reset();
                input.skipReason = SkipReason::BothBad;
            }
            store.addLabel(pair, who, input);
        };
        // Sides alternate: lora is sample_1 on even pairs, sample_2 on odd ones.
        const Choice loraWins[2] = {Choice::Sample1, Choice::Sample2};
        const Choice baseWins[2] = {Choice::Sample2, Choice::Sample1};
        for (int i = 0; i < 10; ++i) {
            const bool loraFirst = i % 2 == 0;
            const qint64 pair =
                store.addPair(prompt, sample(loraFirst, 2 * i), sample(!loraFirst, 2 * i + 1), 1);
            const Choice choice = i < 6   ? loraWins[i % 2]
                                  : i < 8 ? baseWins[i % 2]
                                          : Choice::Unsure;
            label(pair, QStringLiteral("ana"), choice);
        }
        // Left out: a skip, a retracted win, a pair within one model.
        const qint64 skipped = store.addPair(prompt, sample(true, 50), sample(false, 51), 1);
        label(skipped, QStringLiteral("ana"), Choice::Skipped);
        const qint64 retracted = store.addPair(prompt, sample(true, 52), sample(false, 53), 2);
        label(retracted, QStringLiteral("bo"), Choice::Sample1);
        store.retractLabel(retracted, QStringLiteral("bo"));
        const qint64 within = store.addPair(prompt, sample(false, 54), sample(false, 55), 1);
        label(within, QStringLiteral("ana"), Choice::Sample1);
    }
    AbSessionOptions options;
    options.prompts = {QStringLiteral("a person walks"), QStringLiteral("a person jumps"),
                       QStringLiteral("a person waves")};
    options.temperatures = {0.8, 1.2};
    AbSession session =
        AbSession::create({f.baseDir, QString()}, {f.baseDir, f.adapterDir}, options);
    // B (lora) wins 3, ties 1, loses 2, whatever side it was shown on.
    for (int i = 0; i < session.size(); ++i) {
        const bool aLeft = session.trial(i).aOnLeft;
        const AbAnswer bWins = aLeft ? AbAnswer::Right : AbAnswer::Left;
        const AbAnswer aWins = aLeft ? AbAnswer::Left : AbAnswer::Right;
        session.answer(i, i < 3 ? bWins : i == 3 ? AbAnswer::Tie : aWins);
    }
    session.save(f.abFile);
    return f;
}

} // namespace mp::test
