// motionpref-cli study experiment (issue 21): the same labeling budget spent three ways with the
// simulated labeler (kinematic + pose-error intents, never the text-motion judge, so the reported
// metrics do not reward the labeler's own design):
//   offline        pairs from the base model only, one DPO run on all labels at each budget step
//                  (trained on a copy of the study, so its pairs stay the base model's);
//   online         rounds: each budget step's pairs come from the previous round's policy, then
//                  `study next-round` trains on every label so far;
//   online_margin  the same rounds with the margin rule (K candidates, smallest |β·Δlog π/π_ref|);
//   online_ensemble the same rounds with the ensemble rule (K candidates, the largest
//                  disagreement of 3 reward models trained by each round on its labels).
// Each arm and seed is a study of its own; every step's adapter is evaluated with one protocol and
// one eval seed (the untrained model too), so replications are paired with the baseline's. Each
// step is a child `motionpref-cli` process (study simulate, study selection, study next-round,
// eval), as a user would run them. Tables: OUT/results.csv and OUT/results.md, mean ± 95% over
// seeds × replications (experiment_report.h's intervals) and the paired difference against the
// untrained model. The labeler's own agreement score after each step: `compare ab` of the step's
// policy (B) against the untrained model (A) rated by the same simulated labeler, on the eval
// split's captions at temperature 1 with the eval seed (the same trials for every step), its win
// and loss rates pooled over seeds with the Wilson 95% interval (wilsonInterval, as `compare ab`).
// The tables are rewritten (temp file + rename) after every budget step, from the steps finished
// so far, so a running experiment's rows can be read (the Train panel's view reloads them).

#include "app/cli/child_process.h"
#include "app/cli/command.h"
#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/run/experiment_report.h"
#include "ml/run/run_config.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <tuple>

namespace mp::cli {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kArms = {"offline", "online", "online_margin", "online_ensemble"};
// The table's metrics (metrics.json keys) and whether higher is better.
const std::vector<std::pair<std::string, bool>> kReported = {
    {"R_precision_top_1", true}, {"R_precision_top_3", true}, {"FID", false}};

std::vector<std::int64_t> integerList(const std::string &text, const std::string &option)
{
    std::vector<std::int64_t> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        try {
            std::size_t used = 0;
            const long long value = std::stoll(item, &used);
            if (used != item.size() || value < 1)
                throw std::invalid_argument(item);
            out.push_back(value);
        } catch (const std::exception &) {
            throw InputError("--" + option + ": '" + item + "' is not a positive integer");
        }
    }
    if (out.empty())
        throw InputError("--" + option + ": give at least one value");
    return out;
}

// This program with arguments, output appended to logFile; InputError naming the log and its last
// line when the child fails.
void runStep(const std::vector<std::string> &arguments, const fs::path &logFile)
{
    const int status = runSelf(arguments, logFile, "study experiment");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    std::string command;
    for (std::size_t i = 1; i < arguments.size() && i < 4; ++i)
        command += (i > 1 ? " " : "") + arguments[i];
    throw InputError("study experiment: '" + command + "' failed (" + logFile.string() +
                     "): " + lastLogLine(logFile));
}

struct Settings {
    fs::path corpus;
    fs::path out;
    std::vector<std::int64_t> budgets;
    std::vector<std::int64_t> seeds;
    std::vector<std::string> arms;
    RunConfig training;
    std::int64_t candidates = 4;
    std::int64_t replications = 5;
    std::string split = "test";
    std::int64_t evalSeed = 1234;
    std::int64_t abPrompts = 100; // captions of the labeler's A/B per step; 0: none
};

// One step's blind A/B against the untrained model, as `compare ab --format csv` prints it.
struct AbCounts {
    std::int64_t trials = 0, wins = 0, ties = 0, losses = 0;
};

// The "all" row of `compare ab --format csv`; InputError naming the file when it has none.
AbCounts readAbCounts(const fs::path &file)
{
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("all,", 0) != 0)
            continue;
        std::stringstream fields(line.substr(4));
        AbCounts counts;
        char comma = 0;
        double trials = 0, wins = 0, ties = 0, losses = 0;
        if (fields >> trials >> comma >> wins >> comma >> ties >> comma >> losses) {
            counts.trials = static_cast<std::int64_t>(trials);
            counts.wins = static_cast<std::int64_t>(wins);
            counts.ties = static_cast<std::int64_t>(ties);
            counts.losses = static_cast<std::int64_t>(losses);
            return counts;
        }
    }
    throw InputError(file.string() + ": no 'all' row of `compare ab --format csv`");
}

class StudyExperiment {
public:
    explicit StudyExperiment(Settings settings) : m_s(std::move(settings)) {}

    void run()
    {
        fs::create_directories(m_s.out);
        m_log = m_s.out / "experiment.log";
        say("baseline: evaluating the untrained model");
        evaluate({}, m_s.out / "baseline" / "metrics.json");
        writeTables();
        for (const std::string &arm : m_s.arms)
            for (const std::int64_t seed : m_s.seeds)
                runArm(arm, seed);
        std::cout << (m_s.out / "results.md").string() << "\n";
    }

private:
    using Step = std::tuple<std::string, std::int64_t, std::int64_t>; // arm, seed, budget

    // OUT/ARM/seed-S holds an arm's study and run.json; its budget-B folders, one step each.
    fs::path seedDir(const std::string &arm, std::int64_t seed) const
    {
        return m_s.out / arm / ("seed-" + std::to_string(seed));
    }

    fs::path stepDir(const std::string &arm, std::int64_t seed, std::int64_t budget) const
    {
        return seedDir(arm, seed) / ("budget-" + std::to_string(budget));
    }

    std::vector<std::string> common() const { return {"motionpref-cli", "--quiet"}; }

    void step(std::vector<std::string> args)
    {
        auto full = common();
        full.insert(full.end(), args.begin(), args.end());
        runStep(full, m_log);
    }

    void say(const std::string &text) const
    {
        std::cout << text << std::endl;
        std::ofstream(m_log, std::ios::app) << "== " << text << "\n";
    }

    void evaluate(const fs::path &adapter, const fs::path &out)
    {
        fs::create_directories(out.parent_path());
        std::vector<std::string> args = {"eval",
                                         "--dataset",
                                         m_s.corpus.string(),
                                         "--split",
                                         m_s.split,
                                         "--replications",
                                         std::to_string(m_s.replications),
                                         "--seed",
                                         std::to_string(m_s.evalSeed),
                                         "--mm-texts",
                                         "0",
                                         "--out",
                                         out.string()};
        if (m_s.training.model.size())
            args.insert(args.end(), {"--model", m_s.training.model});
        if (!adapter.empty())
            args.insert(args.end(), {"--adapter", adapter.string()});
        step(args);
    }

    void runArm(const std::string &arm, std::int64_t seed)
    {
        const fs::path dir = seedDir(arm, seed);
        fs::create_directories(dir);
        const std::string study = (dir / "study.sqlite").string();
        RunConfig config = m_s.training;
        config.seed = seed;
        const fs::path runJson = dir / "run.json";
        saveRunConfig(config, runJson);
        step({"study", "create", study});
        if (arm == "online_margin" || arm == "online_ensemble")
            step({"study", "selection", study, "--rule",
                  arm == "online_margin" ? "margin" : "ensemble", "--candidates",
                  std::to_string(m_s.candidates)});
        std::int64_t labeled = 0;
        for (std::size_t j = 0; j < m_s.budgets.size(); ++j) {
            const std::int64_t budget = m_s.budgets[j];
            say(arm + " seed " + std::to_string(seed) + ": labels " + std::to_string(labeled) +
                " -> " + std::to_string(budget));
            // Each step's prompts and labels from its own simulation seed.
            step({"study", "simulate", study, "--corpus", m_s.corpus.string(), "--pairs",
                  std::to_string(budget - labeled), "--seed",
                  std::to_string(seed * 1000 + static_cast<std::int64_t>(j) + 1), "--pose-weight",
                  "15"});
            labeled = budget;
            const fs::path round = stepDir(arm, seed, budget);
            std::string trainedStudy = study;
            if (arm == "offline") {
                // A copy trains, so the study's own pairs keep coming from the base model.
                trainedStudy =
                    (dir / ("study-budget-" + std::to_string(budget) + ".sqlite")).string();
                fs::copy_file(study, trainedStudy, fs::copy_options::overwrite_existing);
            }
            step({"study", "next-round", trainedStudy, "--out", round.string(), "--config",
                  runJson.string()});
            fs::path adapter = round / "run" / "best";
            if (!fs::exists(adapter / "adapter_model.safetensors"))
                adapter = round / "run" / "adapter";
            say(arm + " seed " + std::to_string(seed) + ": evaluating " + adapter.string());
            evaluate(adapter, round / "metrics.json");
            if (m_s.abPrompts > 0) {
                say(arm + " seed " + std::to_string(seed) +
                    ": the labeler's blind A/B against the untrained model");
                labelerAb(adapter, round);
            }
            if (arm == "offline")
                fs::remove(trainedStudy);
            m_done.insert({arm, seed, budget});
            writeTables();
        }
    }

    // `compare ab`: the step's policy (B) against the untrained model (A), rated by the
    // simulated labeler; its CSV in ROUND/labeler_ab.csv, the session in labeler_ab.json.
    void labelerAb(const fs::path &adapter, const fs::path &round)
    {
        std::vector<std::string> args = common();
        args.insert(args.end(), {"compare", "ab", "--b-adapter", adapter.string(), "--corpus",
                                 m_s.corpus.string(), "--split", m_s.split, "--prompts",
                                 std::to_string(m_s.abPrompts), "--temperatures", "1.0", "--seed",
                                 std::to_string(m_s.evalSeed), "--out",
                                 (round / "labeler_ab.json").string(), "--format", "csv"});
        if (m_s.training.model.size())
            args.insert(args.end(), {"--a", m_s.training.model, "--b", m_s.training.model});
        const fs::path csv = round / "labeler_ab.csv";
        const int status = runSelf(args, csv, "study experiment");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw InputError("study experiment: 'compare ab' failed (" + csv.string() +
                             "): " + lastLogLine(csv));
        readAbCounts(csv); // a file without its row fails here, not at the table
    }

    // A rate of the labeler's A/B: successes of trials pooled over the seeds, Wilson 95%.
    struct Rate {
        std::int64_t successes = 0, trials = 0;
        double value() const { return trials > 0 ? double(successes) / double(trials) : 0.0; }
        ProportionInterval interval() const { return wilsonInterval(successes, trials); }
    };

    // The labeler's win and loss rates of ARM at BUDGET over SEEDS.
    std::pair<Rate, Rate> labelerRates(const std::string &arm, std::int64_t budget,
                                       const std::vector<std::int64_t> &seeds) const
    {
        Rate wins, losses;
        for (const std::int64_t seed : seeds) {
            const AbCounts counts = readAbCounts(stepDir(arm, seed, budget) / "labeler_ab.csv");
            wins.successes += counts.wins;
            losses.successes += counts.losses;
            wins.trials += counts.trials;
            losses.trials += counts.trials;
        }
        return {wins, losses};
    }

    // A rate's row: the rate, half the Wilson interval's width, the trials, its two ends.
    static std::string rateCsv(const std::string &arm, std::int64_t budget,
                               const std::string &metric, const Rate &rate)
    {
        const ProportionInterval interval = rate.interval();
        std::ostringstream row;
        row << arm << "," << budget << "," << metric << "," << rate.value() << ","
            << (interval.high - interval.low) / 2 << "," << rate.trials << ",,," << interval.low
            << "," << interval.high << "\n";
        return row.str();
    }

    static std::string rateText(const Rate &rate)
    {
        const ProportionInterval interval = rate.interval();
        char text[64];
        std::snprintf(text, sizeof text, "%.3f [%.3f, %.3f]", rate.value(), interval.low,
                      interval.high);
        return text;
    }

    // OUT/results.csv and results.md from the baseline and the steps finished so far (m_done): a
    // row per arm and budget with at least one seed done, pooled over the seeds done.
    void writeTables() const
    {
        const auto baseline = readMetricValues(m_s.out / "baseline" / "metrics.json");
        std::ostringstream csv, md;
        csv << "arm,labels,metric,mean,ci95,n,diff_vs_untrained,diff_ci95,low,high\n";
        std::string arms;
        for (const std::string &arm : m_s.arms)
            arms += (arms.empty() ? "" : ", ") + arm;
        md << "# study experiment: one labeling budget, arms " << arms << "\n\n"
           << "Simulated labeler: kinematic + pose-error intents (no text-motion judge). "
           << "Seeds " << joined(m_s.seeds) << "; " << m_s.replications << " eval replications on "
           << m_s.corpus.string() << " split " << m_s.split
           << "; mean ± 95% over seeds × replications; Δ: paired difference against the "
              "untrained model (* where its interval excludes 0).";
        const bool ab = m_s.abPrompts > 0;
        if (ab)
            md << " Labeler wins/losses: the simulated labeler's blind A/B of the step's policy "
                  "against the untrained model (`compare ab`, "
               << m_s.abPrompts << " captions of split " << m_s.split
               << " at temperature 1, eval seed " << m_s.evalSeed
               << "; ties are the rest), trials pooled over seeds, [95% Wilson interval].";
        const std::size_t steps = m_s.arms.size() * m_s.seeds.size() * m_s.budgets.size();
        if (m_done.size() < steps)
            md << " Running: " << m_done.size() << " of " << steps
               << " steps done; these tables are rewritten after each step.";
        md << "\n\n| arm | labels |";
        for (const auto &[metric, higher] : kReported)
            md << " " << metric << (higher ? " ↑" : " ↓") << " | Δ " << metric << " |";
        if (ab)
            md << " labeler wins ↑ | labeler losses ↓ |";
        md << "\n|---|---|";
        for (std::size_t i = 0; i < kReported.size(); ++i)
            md << "---|---|";
        if (ab)
            md << "---|---|";
        md << "\n| untrained | 0 |";
        for (const auto &[metric, higher] : kReported) {
            const auto estimate = intervalOf(baseline.at(metric));
            md << " " << format(estimate) << " | |";
            csv << "untrained,0," << metric << "," << estimate.mean << "," << estimate.halfInterval
                << "," << estimate.n << ",,,,\n";
        }
        if (ab)
            md << " | |";
        md << "\n";
        for (const std::string &arm : m_s.arms)
            for (const std::int64_t budget : m_s.budgets) {
                std::vector<std::int64_t> seeds;
                for (const std::int64_t seed : m_s.seeds)
                    if (m_done.count({arm, seed, budget}))
                        seeds.push_back(seed);
                if (seeds.empty())
                    continue;
                md << "| " << arm << " | " << budget
                   << (seeds.size() < m_s.seeds.size() ? " (seeds " + joined(seeds) + ")" : "")
                   << " |";
                for (const auto &[metric, higher] : kReported) {
                    std::vector<double> pooled;
                    std::vector<std::vector<double>> perSeed;
                    for (const std::int64_t seed : seeds) {
                        const auto values =
                            readMetricValues(stepDir(arm, seed, budget) / "metrics.json");
                        perSeed.push_back(values.at(metric));
                        pooled.insert(pooled.end(), perSeed.back().begin(), perSeed.back().end());
                    }
                    const auto estimate = intervalOf(pooled);
                    const auto difference = pairedDifference(perSeed, baseline.at(metric));
                    md << " " << format(estimate) << " | " << format(difference, true) << " |";
                    csv << arm << "," << budget << "," << metric << "," << estimate.mean << ","
                        << estimate.halfInterval << "," << estimate.n << "," << difference.mean
                        << "," << difference.halfInterval << ",,\n";
                }
                if (ab) {
                    const auto [wins, losses] = labelerRates(arm, budget, seeds);
                    md << " " << rateText(wins) << " | " << rateText(losses) << " |";
                    csv << rateCsv(arm, budget, "labeler_win_rate", wins)
                        << rateCsv(arm, budget, "labeler_loss_rate", losses);
                }
                md << "\n";
            }
        writeFileAtomically(m_s.out / "results.csv", csv.str());
        writeFileAtomically(m_s.out / "results.md", md.str());
    }

    static std::string format(const IntervalEstimate &estimate, bool difference = false)
    {
        char text[64];
        std::snprintf(text, sizeof text, difference ? "%+.3f ± %.3f%s" : "%.3f ± %.3f%s",
                      estimate.mean, estimate.halfInterval,
                      difference && estimate.excludesZero() ? " *" : "");
        return text;
    }

    static std::string joined(const std::vector<std::int64_t> &values)
    {
        std::string out;
        for (const auto value : values)
            out += (out.empty() ? "" : ", ") + std::to_string(value);
        return out;
    }

    Settings m_s;
    fs::path m_log;
    std::set<Step> m_done; // the steps whose evaluation (and A/B) finished
};

int runStudyExperiment(const ParsedArgs &args, const Context &)
{
    Settings s;
    s.corpus = args.required("corpus");
    s.out = args.required("out");
    if (!fs::exists(s.corpus / "manifest.json"))
        throw InputError(
            (s.corpus / "manifest.json").string() +
            ": missing; --corpus needs a corpus made by `motionpref-cli corpus build`");
    std::error_code ec;
    if (fs::exists(s.out) && !fs::is_empty(s.out, ec))
        throw InputError(s.out.string() + ": not empty; give a new directory");
    s.budgets = integerList(args.value("budgets"), "budgets");
    for (std::size_t i = 1; i < s.budgets.size(); ++i)
        if (s.budgets[i] <= s.budgets[i - 1])
            throw InputError("--budgets: must increase (" + args.value("budgets") + ")");
    s.seeds = integerList(args.value("seeds"), "seeds");
    std::stringstream arms(args.value("arms"));
    for (std::string arm; std::getline(arms, arm, ',');) {
        if (std::find(kArms.begin(), kArms.end(), arm) == kArms.end())
            throw InputError("--arms: unknown arm '" + arm +
                             "' (expected offline, online, online_margin, online_ensemble)");
        s.arms.push_back(arm);
    }
    if (s.arms.empty())
        throw InputError("--arms: give at least one arm");
    s.training = args.has("config") ? loadRunConfig(args.value("config"))
                                    : defaultRunConfig(TrainMethod::Dpo);
    if (args.has("epochs"))
        s.training.epochs = args.intValue("epochs");
    if (args.has("model"))
        s.training.model = args.value("model");
    s.candidates = args.intValue("candidates");
    if (s.candidates < 2 || s.candidates > 8)
        throw InputError("--candidates: must be in [2, 8], got " + args.value("candidates"));
    s.replications = args.intValue("replications");
    if (s.replications < 1)
        throw InputError("--replications: must be at least 1");
    s.split = args.value("split");
    s.evalSeed = args.intValue("eval-seed");
    s.abPrompts = args.intValue("ab-prompts");
    if (s.abPrompts < 0)
        throw InputError("--ab-prompts: must be 0 (no A/B) or more, got " +
                         args.value("ab-prompts"));
    StudyExperiment(std::move(s)).run();
    return 0;
}

const CommandRegistration studyExperimentCommand{{
    .path = "study experiment",
    .summary = "spend one labeling budget offline, in online rounds, and in rounds with margin "
               "or ensemble selection; R-precision/FID and the labeler's A/B win rate with 95% "
               "intervals",
    .usage = "",
    .description =
        "Four arms, each seed a study of its own, labeled by the simulated labeler\n"
        "(kinematic + pose-error intents against the corpus clip; never the text-motion judge):\n"
        "  offline        pairs from the base model; at each budget step one DPO run on all\n"
        "                 labels so far (on a copy of the study, which stays at the base model)\n"
        "  online         at each step the new pairs come from the last round's policy, then\n"
        "                 `study next-round` trains on every label so far\n"
        "  online_margin  the same with the margin rule over --candidates samples per prompt\n"
        "  online_ensemble the same with the ensemble rule (each round also trains 3 reward\n"
        "                 models on its labels, in ROUND/ensemble)\n"
        "After each budget step the step's adapter (best/, else adapter/) is evaluated with\n"
        "`eval` on the corpus split, with the same eval seed as the untrained model, so the\n"
        "differences are paired, and (--ab-prompts N > 0) put against the untrained model in\n"
        "a blind A/B rated by the same simulated labeler (`compare ab`, N captions of the\n"
        "split at temperature 1, the eval seed): the labeler's own win and loss rates.\n"
        "Writes OUT/results.csv and OUT/results.md (mean ± 95% over\n"
        "seeds × replications, and the paired difference against the untrained model; the\n"
        "labeler's rates with the Wilson 95% interval, as `compare ab`), rewritten after every\n"
        "budget step from the steps done so far, each step's files under\n"
        "OUT/ARM/seed-S/budget-B/, and OUT/experiment.log with every child's output.",
    .options = {{"corpus", "DIR", "corpus made by `corpus build` (prompts, intents, evaluation)",
                 ""},
                {"out", "DIR", "a new directory for the studies, runs and tables", ""},
                {"budgets", "LIST", "labels after each step, increasing", "250,500,1000"},
                {"seeds", "LIST", "seeds (simulation and training)", "1,2,3"},
                {"arms", "LIST", "which of offline, online, online_margin, online_ensemble",
                 "offline,online,online_margin"},
                {"config", "RUN_JSON", "run configuration of every training (DPO; data.* is set)",
                 "the paper's DPO settings"},
                {"epochs", "N", "epochs of every training (overrides the config's)", ""},
                {"model", "BUNDLE", "model bundle", "the embedded default"},
                {"candidates", "K", "samples per prompt of the margin rule (2-8)", "4"},
                {"replications", "N", "eval replications per step", "5"},
                {"split", "NAME", "corpus split evaluated", "test"},
                {"eval-seed", "S", "evaluation seed shared by every evaluation", "1234"},
                {"ab-prompts", "N",
                 "captions of the labeler's blind A/B after each step (0: no A/B)", "100"}},
    .run = runStudyExperiment,
}};

} // namespace
} // namespace mp::cli
