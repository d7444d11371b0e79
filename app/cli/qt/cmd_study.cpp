// motionpref-cli study create|info|import|export|agreement|split|simulate|leaderboard: the
// study store, headless.
// STUDY is a file path (SQLite) or a postgresql:// connection string. The work is in app/study.

// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/models/bundle.h"

#include "app/cli/command.h"
#include "app/cli/progress_bar.h"
#include "app/compare/leaderboard.h"
#include "app/study/agreement.h"
#include "app/study/check_pairs.h"
#include "app/study/feature_export.h"
#include "app/study/label_aggregation.h"
#include "app/study/labeler_quality.h"
#include "app/study/new_study.h"
#include "app/study/study_io.h"
#include "app/study/study_simulation.h"
#include "app/study/study_split.h"
#include "app/study/study_store.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

namespace mp::cli {
namespace {

// Qt's SQL drivers are plugins found through the application object. It lives for one
// command (declared before the store, so it outlives it), never until static destruction.
class QtApplicationScope {
public:
    QtApplicationScope()
    {
        if (!QCoreApplication::instance())
            m_app = std::make_unique<QCoreApplication>(m_argc, m_argv);
    }

private:
    int m_argc = 1;
    char m_name[16] = "motionpref-cli";
    char *m_argv[2] = {m_name, nullptr};
    std::unique_ptr<QCoreApplication> m_app;
};

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

const std::string kStudyHelp = "STUDY is a study file (SQLite, made by 'study create') or a "
                               "PostgreSQL connection string\npostgresql://user:password@host:"
                               "port/dbname (a study shared by a lab).";

void openStudy(StudyStore &store, const ParsedArgs &args)
{
    store.open(qs(args.positional(0, "STUDY")));
}

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

int runImport(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const QString file = qs(args.positional(1, "FILE"));
    PaperImportOptions options;
    if (args.has("root"))
        options.datasetRoot = qs(args.value("root"));
    if (args.has("labeler"))
        options.defaultLabeler = qs(args.value("labeler"));
    options.requireTokens = !args.flag("allow-missing-tokens");
    try {
        const ImportReport report = importPaperJsonl(store, file, options);
        std::cout << "imported " << report.records << " pairs, " << report.labels << " labels, "
                  << report.prompts << " new prompts from " << file.toStdString() << "\n";
    } catch (const ImportError &e) {
        // Every bad line, then the one-line summary that main prints.
        for (const QString &line : e.lineErrors())
            std::cerr << line.toStdString() << "\n";
        throw;
    }
    return 0;
}

std::optional<std::vector<qint64>> splitPart(StudyStore &store, const ParsedArgs &args)
{
    if (!args.has("split"))
        return std::nullopt;
    const auto split = store.loadSplit(qs(args.value("split")));
    if (!split)
        throw InputError("no split named '" + args.value("split") + "' (study split makes one)");
    const std::string part = args.value("part");
    if (part == "train")
        return split->train;
    if (part == "test")
        return split->test;
    throw InputError("--part '" + part + "': expected train or test");
}

int runExport(const ParsedArgs &args, const Context &context)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const QString file = qs(args.positional(1, "FILE"));
    if (args.value("format") == "features") {
        // A directory: pairs.jsonl and each motion's HumanML3D features and joints (.npy).
        const FeatureExportReport report = exportFeatures(
            store, file, {.pairIds = splitPart(store, args), .modelDir = qs(args.value("model"))},
            args.flag("overwrite"), makeProgressBar(context, "export"));
        std::cout << "wrote " << report.records << " records and " << report.motions << " motions ("
                  << report.decoded << " decoded from codes) to " << file.toStdString() << "\n";
        return 0;
    }
    if (args.has("model") || args.has("overwrite"))
        throw InputError("--model and --overwrite are for --format features");
    const auto format = exportFormatFromName(qs(args.value("format")));
    if (!format)
        throw InputError("--format '" + args.value("format") +
                         "': expected paper, trl, csv or features");
    const int written = exportStudy(store, file, *format, {.pairIds = splitPart(store, args)});
    std::cout << "wrote " << written << " records to " << file.toStdString() << "\n";
    return 0;
}

std::string number(double value, int decimals = 3)
{
    if (std::isnan(value))
        return "n/a";
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

double jsonNumber(double value)
{
    return std::isnan(value) ? 0.0 : value;
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

std::vector<PreferenceDegree> parseDegrees(const std::string &text)
{
    std::vector<PreferenceDegree> degrees;
    for (const QString &part : qs(text).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const auto degree = degreeFromName(part);
        if (!degree)
            throw InputError("--degrees: unknown degree '" + part.trimmed().toStdString() +
                             "' (Much better, Better, Slightly better, Negligibly better/unsure)");
        degrees.push_back(*degree);
    }
    return degrees;
}

// The study's saved choice (Dataset panel), overridden by --aggregate / --exclude-labelers.
TrainingLabelOptions trainingLabels(const StudyStore &store, const ParsedArgs &args)
{
    TrainingLabelOptions options = studyTrainingLabels(store);
    if (args.has("aggregate")) {
        const auto rule = labelAggregationFromName(qs(args.value("aggregate")));
        if (!rule)
            throw InputError("--aggregate '" + args.value("aggregate") + "': expected one of " +
                             labelAggregationNames().join(QStringLiteral(", ")).toStdString());
        options.rule = *rule;
    }
    if (args.has("exclude-labelers")) {
        options.excludedLabelers.clear();
        for (const QString &name :
             qs(args.value("exclude-labelers")).split(QLatin1Char(','), Qt::SkipEmptyParts))
            options.excludedLabelers << name.trimmed();
    }
    return options;
}

int runSplit(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    SplitOptions options;
    options.name = qs(args.value("name"));
    options.testFraction = args.doubleValue("test-fraction");
    options.seed = static_cast<quint64>(args.intValue("seed"));
    options.labels = trainingLabels(store, args);
    const SavedSplit split = ensureSplit(store, options, args.flag("replace"));
    const std::vector<qint64> train = selectSubset(store, split.train,
                                                   {.degrees = parseDegrees(args.value("degrees")),
                                                    .percent = args.doubleValue("percent"),
                                                    .seed = options.seed,
                                                    .labels = options.labels});
    // A saved split keeps its ids: under another rule or without a labeler, a test pair may
    // have no preference left, and is left out.
    const std::vector<qint64> test =
        selectSubset(store, split.test, {.seed = options.seed, .labels = options.labels});
    const QDir out(qs(args.required("out")));
    if (!QDir().mkpath(out.path()))
        throw InputError(out.path().toStdString() + ": cannot make the directory");
    writeIdList(train, out.filePath(QStringLiteral("train.txt")));
    writeIdList(test, out.filePath(QStringLiteral("test.txt")));
    writeTrainingJsonl(store, train, out.filePath(QStringLiteral("train.jsonl")), options.labels);
    writeTrainingJsonl(store, test, out.filePath(QStringLiteral("test.jsonl")), options.labels);
    // One file with both parts, so a run.json names it as data.pairs and the id lists as
    // data.train_ids / data.eval_ids.
    std::vector<qint64> both = train;
    both.insert(both.end(), test.begin(), test.end());
    writeTrainingJsonl(store, both, out.filePath(QStringLiteral("all.jsonl")), options.labels);
    std::cout << "split '" << split.name.toStdString() << "' (seed " << split.seed
              << "): " << split.train.size() << " train, " << split.test.size() << " test; "
              << train.size() << " train and " << test.size() << " test pairs with a '"
              << labelAggregationName(options.labels.rule).toStdString()
              << "' label after the subset, written to " << out.path().toStdString()
              << "/{train,test}.{txt,jsonl} and all.jsonl\n";
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

int runSimulate(const ParsedArgs &args, const Context &context)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    StudySimulationOptions options;
    options.corpusDir = qs(args.required("corpus"));
    options.split = qs(args.value("split"));
    options.pairs = args.intValue("pairs");
    options.seed = static_cast<std::uint64_t>(args.intValue("seed"));
    options.temperature = args.doubleValue("temperature");
    options.topK = static_cast<int>(args.intValue("top-k"));
    options.labeler.noiseStd = args.doubleValue("noise");
    options.labeler.lapseProbability = args.doubleValue("lapse");
    options.poseWeight = args.doubleValue("pose-weight");
    if (args.has("judge"))
        options.judgeDir = qs(args.value("judge"));
    options.judgeWeight = args.doubleValue("judge-weight");
    options.labeler.seed = options.seed;
    options.labelerName = qs(args.value("labeler"));
    const std::filesystem::path modelDir =
        args.has("model") ? std::filesystem::path(args.value("model")) : requireDefaultModelDir();
    ModelBundle bundle(modelDir, context.device);
    const auto summary = simulateStudy(store, bundle, qs(modelDir.string()), options,
                                       makeProgressBar(context, "simulate"));
    const auto count = [&](PreferenceDegree degree) {
        const auto it = summary.byDegree.find(degree);
        return it == summary.byDegree.end() ? 0 : it->second;
    };
    const auto preferring = summary.pairs - summary.skipped - summary.unsure;
    std::printf("%lld pairs labeled by '%s' in %.1f s: much better %lld, better %lld, slightly "
                "%lld, unsure %lld, skipped %lld; left side chosen %.1f%%\n",
                static_cast<long long>(summary.pairs), options.labelerName.toUtf8().constData(),
                summary.seconds, static_cast<long long>(count(PreferenceDegree::MuchBetter)),
                static_cast<long long>(count(PreferenceDegree::Better)),
                static_cast<long long>(count(PreferenceDegree::SlightlyBetter)),
                static_cast<long long>(summary.unsure), static_cast<long long>(summary.skipped),
                preferring > 0 ? 100.0 * static_cast<double>(summary.leftChosen) /
                                     static_cast<double>(preferring)
                               : 0.0);
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

const CommandRegistration importCommand{{
    .path = "study import",
    .summary = "import a preference dataset in the paper's JSONL record form",
    .usage = "STUDY FILE",
    .description = kStudyHelp +
                   "\nEvery line is checked first; if any is bad, each problem is listed "
                   "(file:line) and nothing is imported.\nTokens come from a sample's \"tokens\" "
                   "or from the token file its features path leads to (spec §1.1).",
    .options = {{"root", "DIR", "dataset root for token/feature paths", "the file's folder"},
                {"labeler", "NAME", "labeler of annotations without \"user\"", "imported"},
                {"allow-missing-tokens", "", "import samples without tokens", ""}},
    .usesTorch = false,
    .run = runImport,
}};

const CommandRegistration exportCommand{{
    .path = "study export",
    .summary = "write a study's pairs and labels as paper JSONL, TRL JSONL, CSV or features",
    .usage = "STUDY FILE|DIR",
    .description =
        kStudyHelp +
        "\n--format features writes a directory for diffusion models (MDM, MLD, MoMask): "
        "pairs.jsonl\n(prompt, chosen/rejected, degree, labeler, models) and per motion "
        "HumanML3D features (T, 263),\nnot normalised, and joints (T, 22, 3) as .npy at 20 fps; "
        "codes are decoded with the sample's\nmodel (or --model DIR). See README, Export for "
        "other model families.",
    .options = {{"format", "paper|trl|csv|features", "output form", "paper"},
                {"model", "DIR", "features: a bundle to decode samples whose model is not there",
                 ""},
                {"overwrite", "", "features: write into a directory that holds an export", ""},
                {"split", "NAME", "only the pairs of this saved split", ""},
                {"part", "train|test", "which part of --split", "train"}},
    .usesTorch = false,
    .run = runExport,
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

const CommandRegistration splitCommand{{
    .path = "study split",
    .summary = "make (or reuse) a saved train/test split and write the training files",
    .usage = "STUDY --out DIR",
    .description = kStudyHelp +
                   "\nWrites train.txt/test.txt (pair ids) and train.jsonl/test.jsonl (the "
                   "trainer's records: prompt, chosen and rejected tokens, degree, pair id),\n"
                   "and all.jsonl with both (a run.json's data.pairs, with data.train_ids\n"
                   "train.txt and data.eval_ids test.txt).\n"
                   "A split saved under --name is reused as is unless --replace; --degrees and "
                   "--percent select a subset of its train part.",
    .options = {{"out", "DIR", "folder for the id lists and JSONL files", ""},
                {"name", "NAME", "the split's name in the study", "default"},
                {"test-fraction", "F", "share of pairs held out for testing", "0.1"},
                {"seed", "N", "shuffle seed (the paper: 2222 for DPO, 42 for RM/PPO)", "2222"},
                {"replace", "", "make the split anew even if it is saved", ""},
                {"degrees", "LIST", "comma-separated degrees to train on", ""},
                {"percent", "P", "share of the (filtered) train pairs to keep", "100"},
                {"aggregate", "RULE",
                 "several labels per pair -> one: last (the paper's), majority, mean (signed "
                 "degree), unanimous (drop disagreements)",
                 "the study's choice, else last"},
                {"exclude-labelers", "LIST",
                 "comma-separated labelers whose labels are left out of the training data "
                 "('' for nobody)",
                 "the study's choice"}},
    .usesTorch = false,
    .run = runSplit,
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

const CommandRegistration simulateCommand{{
    .path = "study simulate",
    .summary = "add model-generated pairs labeled by a simulated labeler (no people needed)",
    .usage = "STUDY --corpus DIR",
    .description =
        kStudyHelp +
        "\nPrompts are captions of the corpus split; each gets two samples from the model\n"
        "(as the Label panel makes them) and a label from a simulated labeler that prefers\n"
        "the sample whose kinematics (travel, turning, rise and drop, lean, hands up, limb\n"
        "activity) are closer to the clip the caption describes, with a degree from the size\n"
        "of the difference and Gaussian noise on each sample's score. With --pose-weight\n"
        "above 0 it also compares poses frame by frame with the clip along the best time\n"
        "alignment (mean joint error in metres, DTW), so the order of the actions counts.\n"
        "With --judge, a text-motion evaluator trained apart from the one that reports the\n"
        "metrics (`eval train-evaluator --seed`) also scores how far each sample lies from\n"
        "its caption in its embedding.",
    .options = {{"corpus", "DIR", "corpus made by `corpus build` (manifest.json, new_joints)", ""},
                {"model", "BUNDLE", "model bundle", "the embedded default"},
                {"pairs", "N", "number of pairs", "1000"},
                {"split", "NAME", "corpus split the prompts come from", "train"},
                {"seed", "N", "prompt, sample and labeler seed", "1"},
                {"temperature", "T", "sampling temperature", "1.0"},
                {"top-k", "K", "top-k cut (0: off)", "0"},
                {"noise", "S", "labeler noise on each sample's score", "0.05"},
                {"lapse", "P", "probability of a careless (random) choice", "0"},
                {"pose-weight", "W",
                 "weight of the pose error against the clip (each of the 15 kinematic measures "
                 "weighs 1; 0: measures only)",
                 "15"},
                {"judge", "DIR",
                 "evaluator directory judging caption-motion distance (not the one that "
                 "reports the metrics)",
                 "none"},
                {"judge-weight", "W", "weight of the judge's distance (used with --judge)", "30"},
                {"labeler", "NAME", "labeler name stored with the labels", "simulated"}},
    .run = runSimulate,
}};

} // namespace
} // namespace mp::cli
