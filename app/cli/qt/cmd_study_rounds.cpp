// motionpref-cli study selection|rounds|next-round (issue 21): the study's active pair selection
// rule, its online rounds, and the training of the next round headless (what the Label panel's
// "Next round" does as a background job). In the LibTorch command library: next-round trains.

// LibTorch before Qt: Qt's keyword macros clash with names in torch headers.
#include "ml/core/error.h"
#include "ml/run/reward_ensemble_run.h"
#include "ml/run/run_config.h"
#include "ml/run/train_run.h"

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "app/cli/qt/study_cli.h"
#include "app/study/active_pairs.h"
#include "app/study/study_rounds.h"
#include "app/study/study_store.h"

#include <QDateTime>
#include <QDir>

#include <iostream>

namespace mp::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kDefaultEnsembleMembers = 3;

int runSelection(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    PairSelectionSettings settings = pairSelectionSettings(store);
    if (args.has("rule") || args.has("candidates") || args.has("diversity") || args.has("beta")) {
        if (args.has("rule"))
            settings.rule = parsePairRule(args.value("rule"));
        if (args.has("candidates"))
            settings.candidates = static_cast<int>(args.intValue("candidates"));
        if (args.has("diversity"))
            settings.diversity = args.doubleValue("diversity");
        if (args.has("beta"))
            settings.beta = args.doubleValue("beta");
        setPairSelectionSettings(store, settings);
    }
    std::cout << "rule        " << pairRuleName(settings.rule) << "\n"
              << "candidates  " << settings.candidates << " per prompt\n"
              << "diversity   " << settings.diversity << "\n"
              << "beta        " << settings.beta << "\n";
    return 0;
}

int runRounds(const ParsedArgs &args, const Context &)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const RoundStatus status = roundStatus(store);
    std::cout << "round " << status.round << " ("
              << (status.adapter ? "base model + adapter " + status.adapter->path.toStdString()
                                 : std::string("base model"))
              << "): " << status.labelsThisRound << " labels so far, " << status.labelsTotal
              << " in the study\n";
    const std::vector<RoundInfo> rounds = store.rounds();
    if (!rounds.empty())
        std::cout << "\nround  trained on  through label  began                run\n";
    for (const RoundInfo &round : rounds) {
        std::printf("%5d  %10d  %13lld  %-19s  %s\n", round.round, round.trainedLabels,
                    static_cast<long long>(round.trainedThroughLabel.value_or(0)),
                    QDateTime::fromMSecsSinceEpoch(round.createdAtMs)
                        .toString(QStringLiteral("yyyy-MM-dd hh:mm:ss"))
                        .toStdString()
                        .c_str(),
                    round.runDir.toStdString().c_str());
    }
    return 0;
}

int runNextRound(const ParsedArgs &args, const Context &context)
{
    const QtApplicationScope qt;
    StudyStore store;
    openStudy(store, args);
    const QDir out(qs(args.required("out")));
    // A background job keeps its job.log and job.pid there: only a round's own files count.
    if (out.exists(QStringLiteral("data")) || out.exists(QStringLiteral("run")))
        throw InputError(out.path().toStdString() +
                         ": already holds a round's files; give a new directory");
    RunConfig config = args.has("config") ? loadRunConfig(args.value("config"))
                                          : defaultRunConfig(TrainMethod::Dpo);
    if (config.method != TrainMethod::Dpo)
        throw InputError((args.has("config") ? args.value("config") : std::string("run.json")) +
                         ": a round trains DPO (its reference is the base model); method is " +
                         std::string(trainMethodName(config.method)));
    if (args.has("model"))
        config.model = args.value("model");
    if (args.has("epochs"))
        config.epochs = args.intValue("epochs");
    const RoundTraining training = prepareRound(store, out.filePath(QStringLiteral("data")));
    config.data.pairs = training.pairsFile.toStdString();
    config.data.trainIds.clear();
    config.data.evalIds.clear();
    std::cout << "round " << training.round << ": training on " << training.labels
              << " labeled pairs (labels up to id " << training.throughLabel << ")\n";
    TrainRunOptions options;
    options.runDir = out.filePath(QStringLiteral("run")).toStdString();
    options.progress = makeProgressBar(context, "round " + std::to_string(training.round));
    const RunOutcome outcome = runTraining(config, options);
    if (outcome != RunOutcome::Finished)
        throw InputError("the round's training did not finish: see " +
                         (options.runDir / "events.jsonl").string() + "; the study is unchanged");
    // The ensemble rule's reward models, trained on the same labels as the round's adapter and
    // before the round begins, so that its first pair can use them.
    const bool ensembleRule = pairSelectionSettings(store).rule == PairRule::Ensemble;
    if (ensembleRule || args.has("ensemble")) {
        const int members = args.has("ensemble") ? static_cast<int>(args.intValue("ensemble"))
                                                 : kDefaultEnsembleMembers;
        RunConfig rm = defaultRunConfig(TrainMethod::Rm);
        rm.model = config.model;
        rm.device = config.device;
        rm.epochs = config.epochs;
        rm.seed = config.seed;
        const fs::path ensembleDir = out.filePath(QStringLiteral("ensemble")).toStdString();
        std::cout << "round " << training.round << ": training a reward-model ensemble of "
                  << members << " on the same labels in " << ensembleDir.string() << "\n";
        trainRewardEnsemble(rm, training.pairsFile.toStdString(), training.labels, ensembleDir,
                            members, makeProgressBar(context, "ensemble"));
    }
    const QString runDir = qs(options.runDir.string());
    const RoundInfo round =
        finishRound(store, training, runDir, QDir(runDir).filePath(QStringLiteral("adapter")));
    std::cout << "round " << round.round << " begins: pairs are sampled from the base model + "
              << QDir(runDir).filePath(QStringLiteral("adapter")).toStdString() << "\n";
    return 0;
}

const CommandRegistration selectionCommand{{
    .path = "study selection",
    .summary = "show or set how the pair shown for a prompt is chosen (random, margin, ensemble)",
    .usage = "STUDY",
    .description =
        kStudyHelp +
        "\nFor each prompt K candidates are sampled from the current model; the pair shown is\n"
        "a random one (random) or the one whose implicit reward margin beta*(log pi/pi_ref)\n"
        "is closest to zero (margin: the pair the model cannot tell apart yet; pi is the base\n"
        "model + the round's adapter, pi_ref the base), or the one on which a small ensemble\n"
        "of reward models disagrees most (ensemble: the variance over members of\n"
        "sigmoid(r_m(a) - r_m(b)); `study next-round` trains the ensemble on the round's\n"
        "labels in DIR/ensemble; round 0 has none and shows random pairs of the K).\n"
        "--diversity W > 0 penalises prompts like those already chosen (T5 encoder mean\n"
        "state, cosine). Every pair records its rule and score.",
    .options = {{"rule", "random|margin|ensemble", "the rule", "unchanged"},
                {"candidates", "K", "candidates sampled per prompt (2..8)", "unchanged"},
                {"diversity", "W", "weight of the prompt-similarity penalty (>= 0)", "unchanged"},
                {"beta", "B", "beta of the implicit reward (> 0)", "unchanged"}},
    .usesTorch = false,
    .run = runSelection,
}};

const CommandRegistration roundsCommand{{
    .path = "study rounds",
    .summary = "show the study's online rounds: the current one and what each trained on",
    .usage = "STUDY",
    .description = kStudyHelp + "\nRound 0 samples pairs from the base model; round k from the "
                                "base + the adapter trained\nby `study next-round` on every "
                                "label stored before it started.",
    .options = {},
    .usesTorch = false,
    .run = runRounds,
}};

const CommandRegistration nextRoundCommand{{
    .path = "study next-round",
    .summary = "train the next online round on every label so far (DPO) and switch to it",
    .usage = "STUDY --out DIR",
    .description =
        kStudyHelp +
        "\nWrites DIR/data/pairs.jsonl with every trainable pair labeled now (later labels\n"
        "belong to the round after), trains a DPO adapter in DIR/run (reference: the base\n"
        "model) and records it as the study's next round: from then on the Label panel and\n"
        "every sampler of the study sample from the base + this adapter. With the ensemble\n"
        "rule (or --ensemble N) it also trains N reward models (method rm, seeds S..S+N-1,\n"
        "the paper's RM settings with the config's epochs) on the same pairs in DIR/ensemble.",
    .options = {{"out", "DIR", "a new directory for the round's data and run", ""},
                {"config", "RUN_JSON", "run configuration (DPO; data.* is set by the round)",
                 "the paper's DPO settings"},
                {"model", "BUNDLE", "model bundle (overrides the config's)",
                 "the config's, else the embedded default"},
                {"epochs", "N", "epochs (overrides the config's)", "the config's"},
                {"ensemble", "N", "reward models of the ensemble rule's ensemble (2..8)",
                 "3 with the ensemble rule, else none"}},
    .run = runNextRound,
}};

} // namespace
} // namespace mp::cli
