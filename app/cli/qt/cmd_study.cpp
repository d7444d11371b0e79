// motionpref-cli study create|info|agreement|leaderboard|checks|labelers: the study store,
// headless, in the command library without LibTorch (libmotionpref-cli-study.so): none of them
// loads a motion or a model. import, export, split and simulate are in cmd_study_data.cpp.
// STUDY is a file path (SQLite) or a postgresql:// connection string. The work is in app/study.

#include "app/cli/context.h"
#include "app/cli/qt/study_cli.h"
#include "app/compare/leaderboard.h"
#include "app/study/agreement.h"
#include "app/study/check_pairs.h"
#include "app/study/labeler_quality.h"
#include "app/study/new_study.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <iostream>

namespace mp::cli {
namespace {

int runCreate(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    const QString location = qs(args.positional(0, "STUDY"));
    StudyStore store;
    createStudy(store, location); // refuses an existing file
    if (args.has("name"))
        store.setMeta(QStringLiteral("name"), qs(args.value("name")));
    std::cout << "created study " << store.location().toStdString() << " (schema version "
              << store.schemaVersion() << ")\n";
    return 0;
}

int runInfo(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const StudyCounts counts = store.counts();
    std::cout << "study     " << store.location().toStdString() << "\n"
              << "backend   " << (store.backend() == StudyBackend::Sqlite ? "SQLite" : "PostgreSQL")
              << "\n"
              << "schema    " << store.schemaVersion() << "\n";
    const QString name = store.meta(QStringLiteral("name"));
    if (!name.isEmpty())
        std::cout << "name      " << name.toStdString() << "\n";
    std::cout << "created   " << store.meta(QStringLiteral("created_at")).toStdString() << "\n"
              << "prompts   " << counts.prompts << "\n"
              << "samples   " << counts.samples << "\n"
              << "pairs     " << counts.pairs << " (" << counts.labeledPairs << " labeled, "
              << counts.skippedPairs << " skipped)\n"
              << "labels    " << counts.labelRows << " rows in the log\n"
              << "labelers  " << store.labelers().join(QStringLiteral(", ")).toStdString() << "\n"
              << "models    " << store.models().size() << ", adapters " << store.adapters().size()
              << "\n"
              << "splits    " << store.splitNames().join(QStringLiteral(", ")).toStdString()
              << "\n";
    return 0;
}

int runAgreement(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const AgreementReport report = computeAgreement(store);
    if (args.flag("json")) {
        QJsonObject out{{QStringLiteral("labelers"), report.labelers},
                        {QStringLiteral("overlap_pairs"), report.overlapPairs},
                        {QStringLiteral("fleiss_kappa"), jsonNumber(report.fleissKappa)},
                        {QStringLiteral("alpha_ordinal"), jsonNumber(report.alphaOrdinal)},
                        {QStringLiteral("alpha_nominal"), jsonNumber(report.alphaNominal)}};
        QJsonArray cohen;
        for (const PairwiseKappa &k : report.cohen)
            cohen.append(QJsonObject{{QStringLiteral("a"), k.labelerA},
                                     {QStringLiteral("b"), k.labelerB},
                                     {QStringLiteral("overlap"), k.overlap},
                                     {QStringLiteral("kappa"), jsonNumber(k.kappa)}});
        out.insert(QStringLiteral("cohen"), cohen);
        QJsonArray labelers;
        for (const LabelerStats &s : report.perLabeler)
            labelers.append(
                QJsonObject{{QStringLiteral("labeler"), s.labeler},
                            {QStringLiteral("labels"), s.labels},
                            {QStringLiteral("skips"), s.skips},
                            {QStringLiteral("left_picks"), s.leftPicks},
                            {QStringLiteral("right_picks"), s.rightPicks},
                            {QStringLiteral("position_bias_p"), s.positionBiasP},
                            {QStringLiteral("mean_time_on_task_ms"), s.meanTimeOnTaskMs}});
        out.insert(QStringLiteral("per_labeler"), labelers);
        std::cout << QJsonDocument(out).toJson(QJsonDocument::Indented).toStdString();
        return 0;
    }
    std::cout << "labelers " << report.labelers
              << ", pairs labeled by two or more: " << report.overlapPairs << "\n"
              << "Fleiss' kappa (sample_1/sample_2/unsure)   " << number(report.fleissKappa) << "\n"
              << "Krippendorff's alpha, ordinal (-3..+3)     " << number(report.alphaOrdinal)
              << "\n"
              << "Krippendorff's alpha, nominal              " << number(report.alphaNominal)
              << "\n";
    for (const PairwiseKappa &k : report.cohen)
        std::cout << "Cohen's kappa " << k.labelerA.toStdString() << " / "
                  << k.labelerB.toStdString() << " on " << k.overlap
                  << " pairs: " << number(k.kappa) << "\n";
    std::cout << "\nlabeler          labels  skips  left  right  left%   p(50/50)  mean time\n";
    for (const LabelerStats &s : report.perLabeler) {
        char line[160];
        std::snprintf(line, sizeof line, "%-16s %6d %6d %5d %6d  %5s  %9s  %7.1f s\n",
                      s.labeler.left(16).toStdString().c_str(), s.labels, s.skips, s.leftPicks,
                      s.rightPicks, number(100.0 * s.leftShare, 1).c_str(),
                      number(s.positionBiasP, 4).c_str(), s.meanTimeOnTaskMs / 1000.0);
        std::cout << line;
    }
    return 0;
}

int runLeaderboard(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    const std::string format = args.value("format");
    if (format != "table" && format != "json" && format != "csv")
        throw InputError("--format '" + format + "': expected table, json or csv");
    LeaderboardData data;
    const std::string location = args.positional(0, "STUDY");
    if (location != "-") {
        StudyStore store;
        store.open(qs(location));
        data.addStudy(store);
    }
    for (const std::string &file : args.values("ab"))
        data.addAbSessionFile(qs(file));
    LeaderboardOptions options;
    options.ridge = args.doubleValue("ridge");
    options.replicates = static_cast<int>(args.intValue("replicates"));
    options.seed = static_cast<std::uint64_t>(args.intValue("seed"));
    options.anchor = qs(args.value("anchor"));
    if (options.replicates < 1 || options.replicates > 100000)
        throw InputError("--replicates must be in 1..100000");
    const Leaderboard board = computeLeaderboard(data, options);
    if (format == "json")
        std::cout << QJsonDocument(leaderboardToJson(board))
                         .toJson(QJsonDocument::Indented)
                         .toStdString();
    else if (format == "csv")
        std::cout << leaderboardToCsv(board).toStdString();
    else
        std::cout << leaderboardToText(board).toStdString();
    if (data.labelsWithoutModel() > 0)
        std::cerr << data.labelsWithoutModel()
                  << " labels left out: a sample records no model (imported samples)\n";
    return 0;
}

int runChecks(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    CheckRates rates = checkRates(store);
    if (args.has("gold-rate") || args.has("repeat-rate")) {
        if (args.has("gold-rate"))
            rates.gold = args.doubleValue("gold-rate");
        if (args.has("repeat-rate"))
            rates.repeat = args.doubleValue("repeat-rate");
        setCheckRates(store, rates);
    }
    std::cout << "gold pairs    " << number(100.0 * rates.gold, 1) << "% of the pairs shown\n"
              << "repeat pairs  " << number(100.0 * rates.repeat, 1) << "% of the pairs shown\n";
    return 0;
}

int runLabelers(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const QualityReport report =
        computeLabelerQuality(store, static_cast<int>(args.intValue("gold-block")));
    if (args.flag("json")) {
        QJsonArray labelers;
        for (const LabelerQuality &q : report.labelers) {
            QJsonArray blocks;
            for (const GoldBlock &block : q.goldBlocks)
                blocks.append(
                    QJsonObject{{QStringLiteral("judged"), block.judged},
                                {QStringLiteral("correct"), block.correct},
                                {QStringLiteral("first_ms"), static_cast<double>(block.firstMs)},
                                {QStringLiteral("last_ms"), static_cast<double>(block.lastMs)}});
            QJsonArray byDegree;
            for (double share : q.agreementByDegree)
                byDegree.append(std::isnan(share) ? QJsonValue() : QJsonValue(share));
            auto value = [](double x) { return std::isnan(x) ? QJsonValue() : QJsonValue(x); };
            labelers.append(
                QJsonObject{{QStringLiteral("labeler"), q.labeler},
                            {QStringLiteral("labels"), q.labels},
                            {QStringLiteral("gold_judged"), q.goldJudged},
                            {QStringLiteral("gold_correct"), q.goldCorrect},
                            {QStringLiteral("gold_accuracy"), value(q.goldAccuracy)},
                            {QStringLiteral("gold_blocks"), blocks},
                            {QStringLiteral("repeats"), q.repeats},
                            {QStringLiteral("self_consistency"), value(q.selfConsistency)},
                            {QStringLiteral("degree_consistency"), value(q.degreeConsistency)},
                            {QStringLiteral("repeat_mean_abs_diff"), value(q.repeatMeanAbsDiff)},
                            {QStringLiteral("mean_kappa"), value(q.meanKappa)},
                            {QStringLiteral("alpha_without"), value(q.alphaWithout)},
                            {QStringLiteral("agreement_by_degree"), byDegree},
                            {QStringLiteral("median_time_ms"), q.medianTimeMs},
                            {QStringLiteral("watched_both_share"), value(q.watchedShare)},
                            {QStringLiteral("left_share"), value(q.leftShare)},
                            {QStringLiteral("position_bias_p"), q.positionBiasP}});
        }
        const QJsonObject out{
            {QStringLiteral("alpha_ordinal"),
             std::isnan(report.alphaOrdinal) ? QJsonValue() : QJsonValue(report.alphaOrdinal)},
            {QStringLiteral("gold_block"), report.goldBlockSize},
            {QStringLiteral("labelers"), labelers}};
        std::cout << QJsonDocument(out).toJson(QJsonDocument::Indented).toStdString();
        return 0;
    }
    std::cout << "Krippendorff's alpha, ordinal, everybody: " << number(report.alphaOrdinal)
              << "\n\nlabeler          labels  gold acc (n)   self-cons (n)  mean kappa  "
                 "alpha w/o  median s  watched  left%\n";
    for (const LabelerQuality &q : report.labelers) {
        char line[200];
        std::snprintf(
            line, sizeof line, "%-16s %6d  %7s (%3d)  %7s (%3d)  %10s  %9s  %8.1f  %7s  %5s\n",
            q.labeler.left(16).toStdString().c_str(), q.labels,
            number(100.0 * q.goldAccuracy, 1).c_str(), q.goldJudged,
            number(100.0 * q.selfConsistency, 1).c_str(), q.repeats, number(q.meanKappa).c_str(),
            number(q.alphaWithout).c_str(), q.medianTimeMs / 1000.0,
            number(100.0 * q.watchedShare, 0).c_str(), number(100.0 * q.leftShare, 1).c_str());
        std::cout << line;
        if (q.goldBlocks.size() > 1) {
            std::cout << "  gold accuracy by block of " << report.goldBlockSize << ":";
            for (const GoldBlock &block : q.goldBlocks)
                std::cout << " " << number(100.0 * block.accuracy, 0) << "%";
            std::cout << "\n";
        }
    }
    return 0;
}

const CommandRegistration createCommand{{
    .path = "study create",
    .summary = "make a new, empty study (SQLite file or PostgreSQL database)",
    .usage = "STUDY",
    .description = kStudyHelp,
    .options = {{"name", "TEXT", "a name shown in the study's info", ""}},
    .usesTorch = false,
    .run = runCreate,
}};

const CommandRegistration infoCommand{{
    .path = "study info",
    .summary = "counts of prompts, pairs and labels, labelers and splits of a study",
    .usage = "STUDY",
    .description = kStudyHelp,
    .usesTorch = false,
    .run = runInfo,
}};

const CommandRegistration leaderboardCommand{{
    .path = "study leaderboard",
    .summary = "rank models by Bradley-Terry on labels across models and blind A/B sessions",
    .usage = "STUDY|-",
    .description =
        kStudyHelp +
        "\n'-' reads no study (A/B sessions only). Every label between samples of two different "
        "models\n(bundle + optional adapter) and every answered trial of the --ab sessions "
        "(the Compare panel's\nBlind A/B files) is one comparison; a tie (unsure) is half a win "
        "each. Ratings are log-odds\nfrom the anchor (Elo = 1000 + 400/ln10 * rating), with "
        "percentile-bootstrap intervals.",
    .options = {{"ab", "FILE", "a blind A/B session (JSON); repeat for several", ""},
                {"format", "table|json|csv", "output form", "table"},
                {"anchor", "NAME",
                 "the model rated 0 (default: the bundle without adapter "
                 "compared most)",
                 ""},
                {"ridge", "X",
                 "prior precision on each log-odds rating (keeps an undefeated "
                 "model finite)",
                 "0.1"},
                {"replicates", "N", "bootstrap replicates", "1000"},
                {"seed", "N", "bootstrap seed", "1"}},
    .usesTorch = false,
    .run = runLeaderboard,
}};

const CommandRegistration agreementCommand{{
    .path = "study agreement",
    .summary = "inter-labeler agreement (kappa, alpha), position bias and time on task",
    .usage = "STUDY",
    .description = kStudyHelp,
    .options = {{"json", "", "print JSON instead of a table", ""}},
    .usesTorch = false,
    .run = runAgreement,
}};

const CommandRegistration checksCommand{{
    .path = "study checks",
    .summary = "show or set the shares of gold and repeated pairs mixed into labeling",
    .usage = "STUDY",
    .description = kStudyHelp +
                   "\nGold pairs have a known answer (a sample against a reversed, frozen or "
                   "jittered copy of itself,\nor against a clip of another prompt); repeated "
                   "pairs are pairs a labeler labeled before, shown\nagain with sides swapped. "
                   "Neither is marked on screen nor used for training or agreement.\nRates are "
                   "shares of the pairs shown, together at most 0.5.",
    .options = {{"gold-rate", "R", "share of gold pairs (0..0.5)", "unchanged"},
                {"repeat-rate", "R", "share of repeated pairs (0..0.5)", "unchanged"}},
    .usesTorch = false,
    .run = runChecks,
}};

const CommandRegistration labelersCommand{{
    .path = "study labelers",
    .summary = "per labeler: gold accuracy, self-consistency, agreement, time, watching, side",
    .usage = "STUDY",
    .description = kStudyHelp + "\nThe measures are defined in app/study/labeler_quality.h.",
    .options = {{"gold-block", "N", "gold labels per block of the accuracy-over-time line", "10"},
                {"json", "", "print JSON instead of a table", ""}},
    .usesTorch = false,
    .run = runLabelers,
}};

} // namespace
} // namespace mp::cli
