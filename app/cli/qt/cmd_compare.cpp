// motionpref-cli compare ab: a blind A/B session of model B against model A rated by the
// simulated labeler (app/compare/simulated_ab.h), saved as the Compare panel's Blind A/B file,
// and B's win/tie/loss per temperature with 95% Wilson intervals printed as a table, JSON or CSV.

#include "app/cli/context.h"
#include "app/cli/progress_bar.h"
#include "app/cli/qt/study_cli.h"
#include "app/compare/compare_model.h"
#include "app/compare/simulated_ab.h"
#include "ml/core/error.h"
#include "ml/core/paths.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <iostream>

namespace mp::cli {
namespace {

AbModelRef modelRef(const ParsedArgs &args, const std::string &bundleOption,
                    const std::string &adapterOption)
{
    AbModelRef ref;
    ref.bundleDir = args.has(bundleOption)
                        ? qs(args.value(bundleOption))
                        : QString::fromStdString(requireDefaultModelDir().string());
    ref.adapterDir = qs(args.value(adapterOption));
    if (!QFileInfo(ref.bundleDir).isDir())
        throw InputError("--" + bundleOption + " " + ref.bundleDir.toStdString() +
                         ": not a model bundle directory");
    if (!ref.adapterDir.isEmpty() && !QFileInfo(ref.adapterDir).isDir())
        throw InputError("--" + adapterOption + " " + ref.adapterDir.toStdString() +
                         ": not an adapter directory");
    return ref;
}

struct Row {
    QString temperature; // "0.7", or "all"
    AbTally tally;
};

QJsonObject rowJson(const Row &row)
{
    const AbTally &t = row.tally;
    const auto win = wilsonInterval(t.wins, t.answered());
    const auto loss = wilsonInterval(t.losses, t.answered());
    return {{QStringLiteral("temperature"), row.temperature},
            {QStringLiteral("trials"), t.answered()},
            {QStringLiteral("wins"), t.wins},
            {QStringLiteral("ties"), t.ties},
            {QStringLiteral("losses"), t.losses},
            {QStringLiteral("win_rate"), t.winRate()},
            {QStringLiteral("win_low"), win.low},
            {QStringLiteral("win_high"), win.high},
            {QStringLiteral("tie_rate"), t.tieRate()},
            {QStringLiteral("loss_rate"), t.lossRate()},
            {QStringLiteral("loss_low"), loss.low},
            {QStringLiteral("loss_high"), loss.high}};
}

std::string rateWithInterval(int count, int n)
{
    const auto interval = wilsonInterval(count, n);
    char text[64];
    std::snprintf(text, sizeof text, "%.3f [%.3f, %.3f]", n > 0 ? double(count) / n : 0.0,
                  interval.low, interval.high);
    return text;
}

int runCompareAb(const ParsedArgs &args, const Context &context)
{
    const std::string format = args.value("format");
    if (format != "table" && format != "json" && format != "csv")
        throw InputError("--format '" + format + "': expected table, json or csv");
    const QString out = qs(args.required("out"));
    if (QFileInfo::exists(out))
        throw InputError("--out " + out.toStdString() +
                         ": already exists (a session file may hold a person's answers; choose "
                         "another name)");
    if (!QFileInfo(QFileInfo(out).absolutePath()).isDir())
        throw InputError("--out " + out.toStdString() + ": its folder does not exist");

    SimulatedAbOptions options;
    options.corpusDir = qs(args.required("corpus"));
    options.split = qs(args.value("split"));
    const long long prompts = args.intValue("prompts");
    if (prompts < 1 || prompts > 100000)
        throw InputError("--prompts must be in 1..100000");
    options.prompts = static_cast<int>(prompts);
    try {
        options.temperatures = parseTemperatures(qs(args.value("temperatures")));
    } catch (const InputError &error) {
        throw InputError(std::string("--") + error.what());
    }
    options.seed = static_cast<std::uint64_t>(args.intValue("seed"));
    options.labeler.noiseStd = args.doubleValue("noise");
    if (!(options.labeler.noiseStd >= 0.0))
        throw InputError("--noise must be 0 or more");
    options.labeler.seed = args.has("labeler-seed")
                               ? static_cast<std::uint64_t>(args.intValue("labeler-seed"))
                               : options.seed;
    options.poseWeight = args.doubleValue("pose-weight");
    options.device = qs(context.deviceRequest);
    const AbModelRef modelA = modelRef(args, "a", "a-adapter");
    const AbModelRef modelB = modelRef(args, "b", "b-adapter");

    const AbSession session =
        runSimulatedAb(modelA, modelB, options, makeProgressBar(context, "compare ab"));
    session.save(out);

    QList<Row> rows;
    for (double temperature : session.temperatures())
        rows.append({QString::number(temperature, 'f', 2), session.tally(temperature)});
    rows.append({QStringLiteral("all"), session.total()});
    if (format == "json") {
        QJsonArray list;
        for (const Row &row : rows)
            list.append(rowJson(row));
        const QJsonObject json{{QStringLiteral("a"), modelDisplayName(modelA)},
                               {QStringLiteral("b"), modelDisplayName(modelB)},
                               {QStringLiteral("session"), out},
                               {QStringLiteral("prompts"), session.promptSource()},
                               {QStringLiteral("rater"), session.rater()},
                               {QStringLiteral("interval"), QStringLiteral("wilson95")},
                               {QStringLiteral("rows"), list}};
        std::cout << QJsonDocument(json).toJson(QJsonDocument::Indented).toStdString();
    } else if (format == "csv") {
        std::cout << "temperature,trials,wins,ties,losses,win_rate,win_low,win_high,tie_rate,"
                     "loss_rate,loss_low,loss_high\n";
        for (const Row &row : rows) {
            const QJsonObject o = rowJson(row);
            std::cout << row.temperature.toStdString();
            for (const char *key : {"trials", "wins", "ties", "losses", "win_rate", "win_low",
                                    "win_high", "tie_rate", "loss_rate", "loss_low", "loss_high"})
                std::cout << ','
                          << QString::number(o.value(QLatin1String(key)).toDouble(), 'g', 6)
                                 .toStdString();
            std::cout << '\n';
        }
    } else {
        std::cout << "blind A/B, B = " << modelDisplayName(modelB).toStdString()
                  << " against A = " << modelDisplayName(modelA).toStdString() << "\nprompts  "
                  << session.promptSource().toStdString() << "\nrater    "
                  << session.rater().toStdString()
                  << "\n\ntemperature  trials  B wins   ties  B losses  win rate [95% Wilson]   "
                     "loss rate [95% Wilson]\n";
        for (const Row &row : rows) {
            const AbTally &t = row.tally;
            char line[200];
            std::snprintf(line, sizeof line, "%-11s  %6d  %6d  %5d  %8d  %-22s  %s\n",
                          row.temperature.toStdString().c_str(), t.answered(), t.wins, t.ties,
                          t.losses, rateWithInterval(t.wins, t.answered()).c_str(),
                          rateWithInterval(t.losses, t.answered()).c_str());
            std::cout << line;
        }
        std::cout << "\nsession written to " << out.toStdString()
                  << " (the Compare panel's Blind A/B tab opens it)\n";
    }
    return 0;
}

const CommandRegistration compareAbCommand{{
    .path = "compare ab",
    .summary = "blind A/B win rate per temperature of model B against A, rated by the simulated "
               "labeler",
    .usage = "--corpus DIR --out SESSION.json",
    .description =
        "Every prompt (distinct captions of the corpus split) at every temperature is one "
        "trial, as in the\nCompare panel's Blind A/B tab: A's and B's motion for the same "
        "prompt and seed, in random\nleft/right order (balanced), and the simulated labeler "
        "(the kinematic and pose-error labeler of\n`study simulate`, no text-motion judge) is "
        "shown only the two motions in screen order; it\nanswers left, right, or tie when it is "
        "unsure. The rater is the same kind of labeler that\nlabels simulated studies: its win "
        "rate is its own agreement with B, not a person's.\nPrinted: B's wins, ties and losses "
        "per temperature, with 95% Wilson intervals on the win and\nloss rates (a tie counts as "
        "neither). The session file is written as the GUI writes it.",
    .options = {{"a", "BUNDLE", "model A's bundle (the baseline)", "the embedded default"},
                {"a-adapter", "DIR", "LoRA adapter applied to A (none: the bundle alone)", ""},
                {"b", "BUNDLE", "model B's bundle", "the embedded default"},
                {"b-adapter", "DIR", "LoRA adapter applied to B (none: the bundle alone)", ""},
                {"corpus", "DIR", "corpus made by `corpus build` (captions and their clips)", ""},
                {"split", "NAME", "corpus split the prompts come from", "test"},
                {"prompts", "N", "distinct captions, each rated at every temperature", "100"},
                {"temperatures", "LIST", "sampling temperatures (0: greedy)", "0.7,1.0,1.3"},
                {"seed", "N", "captions drawn, trial seeds, sides and order", "1"},
                {"noise", "S", "labeler noise on each motion's score", "0.05"},
                {"labeler-seed", "N", "the labeler's noise seed (none: the same as --seed)", ""},
                {"pose-weight", "W",
                 "weight of the pose error against the clip (each of the 15 kinematic measures "
                 "weighs 1)",
                 "15"},
                {"out", "FILE", "the session file to write (must not exist)", ""},
                {"format", "table|json|csv", "output form", "table"}},
    .run = runCompareAb,
}};

} // namespace
} // namespace mp::cli
