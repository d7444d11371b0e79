// motionpref-cli study import|export|split|simulate: the study commands that read or write
// motions (token .npy files, features) or run a model, in the LibTorch command library. The
// others are in cmd_study.cpp.

// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/models/bundle.h"

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "app/cli/qt/study_cli.h"
#include "app/study/feature_export.h"
#include "app/study/label_aggregation.h"
#include "app/study/study_io.h"
#include "app/study/study_simulation.h"
#include "app/study/study_split.h"
#include "app/study/study_store.h"

#include <QDir>

#include <cstdio>
#include <iostream>

namespace mp::cli {
namespace {

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
