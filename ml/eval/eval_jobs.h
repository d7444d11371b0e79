#pragma once
// The evaluation jobs behind `motionpref-cli eval ...` and the GUI, on directories: train the
// evaluator on a HumanML3D-layout dataset and write it out.

#include <filesystem>
#include <string>

#include "ml/core/progress.h"
#include "ml/eval/evaluator_trainer.h"

namespace mp {

struct TrainEvaluatorJob {
    std::filesystem::path datasetRoot; // HumanML3D layout: train.txt and test.txt are used
    std::filesystem::path outDir;      // the evaluator directory (loadEvaluator reads it)
    std::filesystem::path gloveText;   // optional "word v1 ... vD" file; else learned vectors
    std::string size = "small";        // "small" (the default bundle's) or "t2m"
    bool packMotion = true;
    EvaluatorTrainOptions train;
};

// Reads both splits, builds the vocabulary (GloVe or the training captions), trains, saves the
// evaluator with the dataset's Mean/Std, and writes outDir/evaluator_report.json (per-epoch
// losses, test R-precision before and after, options).
EvaluatorTrainReport trainEvaluatorJob(const TrainEvaluatorJob &job,
                                       const ProgressFn &progress = {},
                                       const EvaluatorEpochFn &onEpoch = {});

} // namespace mp
