#pragma once
// A blind A/B session rated by a program instead of a person: every trial of an AbSession (the
// same trial seeds, sides and order as a human session) gets A's and B's motion, and the rater
// is shown only the prompt and the two motions in screen order (left, right), never which model
// made which. Its left/right/tie answers are stored in the session, so the result is an answered
// AbSession: tally() gives B's win/tie/loss per temperature and save() writes the JSON the
// Compare panel's Blind A/B tab opens.
//
// runSimulatedAb is the whole evaluation with the simulated labeler (ml/simulate: kinematic and
// pose-error intents of the corpus captions, as `study simulate` labels pairs) as the rater:
//
//     SimulatedAbOptions options;
//     options.corpusDir = "corpus";
//     const AbSession session = runSimulatedAb({base, ""}, {base, "run/best"}, options);
//     const double winRate = session.total().winRate(); // B's wins over all trials
//
// It measures the labeler's own agreement with the policy (no text-motion judge, no human).
// No widgets, no LibTorch in this header.

#include "app/compare/ab_session.h"
#include "ml/core/progress.h"
#include "ml/run/experiment_report.h" // wilsonInterval, the rates' interval
#include "ml/simulate/simulated_labeler.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <memory>

namespace mp {

class ModelCache;
struct GeneratedMotion;

// What a rater is shown of one trial: the prompt and the two motions in screen order.
struct AbScreen {
    int trialIndex = 0; // the trial's index in the session (a seed for a noisy rater)
    QString prompt;
    double temperature = 1.0;
    const GeneratedMotion &left;
    const GeneratedMotion &right;
};

// Left, Right or Tie (None leaves the trial unanswered).
using AbRater = std::function<AbAnswer(const AbScreen &)>;

// Answers every unanswered trial of SESSION with RATER, in the session's order: A's and B's
// motion from MODELS for the trial's prompt, seed and temperature, shown with A on the left when
// the trial says so. Trials already answered are kept (a resumed session). Progress counts
// trials ("rate"); a false from it throws Cancelled with the answers so far stored.
void rateAbSession(AbSession &session, ModelCache &models, const AbRater &rater,
                   const ProgressFn &progress = {});

// The simulated labeler as a rater. It knows what each prompt asks for from the corpus clip the
// caption describes; a prompt it was not built with is an InputError.
class SimulatedAbRater {
public:
    // Draws COUNT distinct captions of the corpus split (seeded; a caption that repeats is
    // replaced by the next one drawn) with their intents; POSEWEIGHT as `study simulate
    // --pose-weight` (15 there: half the score is the pose error against the clip). InputError
    // naming the file when CORPUSDIR is not a corpus, COUNT < 1 or the split has too few
    // distinct captions.
    SimulatedAbRater(const QString &corpusDir, const QString &split, int count, std::uint64_t seed,
                     const LabelerOptions &labeler, double poseWeight = 15.0);
    ~SimulatedAbRater();
    SimulatedAbRater(const SimulatedAbRater &) = delete;
    SimulatedAbRater &operator=(const SimulatedAbRater &) = delete;

    // The captions, in the order drawn.
    QStringList prompts() const;
    // Left or Right for the motion the labeler prefers, Tie when it is unsure (or skips);
    // deterministic in (labeler seed, trial index).
    AbAnswer rate(const AbScreen &screen) const;
    AbRater asRater() const
    {
        return [this](const AbScreen &screen) { return rate(screen); };
    }

private:
    struct Data;
    std::unique_ptr<Data> m_data;
};

struct SimulatedAbOptions {
    QString corpusDir;                      // made by `corpus build`; required
    QString split = QStringLiteral("test"); // where the prompts come from
    int prompts = 100;                      // distinct captions, each at every temperature
    QList<double> temperatures = {0.7, 1.0, 1.3};
    std::uint64_t seed = 1;   // the captions drawn, trial seeds, sides and order
    LabelerOptions labeler;   // noise, thresholds and the labeler's own seed
    double poseWeight = 15.0; // as `study simulate`'s default
    QString device = QStringLiteral("cpu");
};

// A session of MODELA against MODELB over the drawn captions, rated by the simulated labeler:
// complete, its prompt source naming the corpus and its rater the labeler
// (simulatedRaterName). InputError naming the file for a bad corpus or model; Cancelled from
// PROGRESS.
AbSession runSimulatedAb(const AbModelRef &modelA, const AbModelRef &modelB,
                         const SimulatedAbOptions &options, const ProgressFn &progress = {});

// "the simulated labeler (kinematics + pose error ..., noise 0.05, seed 1)": AbSession::rater().
QString simulatedRaterName(const LabelerOptions &labeler, double poseWeight);

} // namespace mp
