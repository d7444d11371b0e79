#pragma once
// A labeled preference set without people: prompts drawn from the project's corpus, a pair of
// samples per prompt from a model (the same pair generation as the Label panel), and a simulated
// labeler (ml/simulate/simulated_labeler.h) that prefers the sample whose measured kinematics and
// time-aligned poses come closer to the corpus clip the caption describes. `motionpref-cli study
// simulate` runs it.

#include "ml/core/progress.h"
#include "ml/simulate/simulated_labeler.h"

#include <QString>

#include <array>
#include <cstdint>
#include <map>

namespace mp {

class ModelBundle;
class StudyStore;

struct StudySimulationOptions {
    QString corpusDir;
    QString split = QStringLiteral("train"); // corpus split the prompts come from
    std::int64_t pairs = 1000;
    std::uint64_t seed = 1;
    double temperature = 1.0;
    int topK = 0;
    double topP = 1.0;
    LabelerOptions labeler;
    // Weight of the pose error against the prompt's clip (ml/simulate/corpus_intents.h): 15 makes
    // it half of the labeler's judgement, the 15 kinematic measures the other half.
    double poseWeight = 15.0;
    // A text-motion judge (an evaluator directory, ml/simulate/text_motion_judge.h) scoring how far
    // each motion lies from its caption; empty: none. 30 makes it half of the judgement.
    QString judgeDir;
    double judgeWeight = 30.0;
    QString labelerName = QStringLiteral("simulated");
};

struct StudySimulationSummary {
    std::int64_t pairs = 0;
    std::int64_t skipped = 0;
    std::int64_t unsure = 0;
    std::map<PreferenceDegree, std::int64_t> byDegree; // the preferring labels
    std::int64_t leftChosen = 0;                       // position bias check: ~half
    double seconds = 0.0;
};

// Pairs follow the study's pair selection (active_pairs.h; with diversity each pair's prompt is
// chosen among 4 consecutive draws) and round: in round k >= 1 the study's adapter is loaded onto
// bundle (which must carry none) and recorded with the samples.
// Appends the pairs and their labels to the open study (each pair and its label in their own
// transactions, so an interrupted simulation keeps what it stored). Progress per pair.
StudySimulationSummary simulateStudy(StudyStore &store, ModelBundle &bundle,
                                     const QString &bundleDir,
                                     const StudySimulationOptions &options,
                                     const ProgressFn &progress = {});

} // namespace mp
