#pragma once
// Trains the cross-check evaluator (cross_evaluator.h) on a HumanML3D-layout dataset: its own
// seeded split of DIR/train.txt into a fitting part and a validation part (the epoch with the
// best validation R@1 is kept), random ground-truth crops as the evaluation protocol draws them
// (a random caption, up to 196 frames), symmetric InfoNCE with a learned temperature, Adam.
// Scores: ground-truth R-precision and matching score on DIR/test.txt, in groups of 32 as the
// protocol's, before and after.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "ml/core/progress.h"

namespace mp {

class CrossEvaluatorImpl;
class SentencePieceModel;
struct EvalDataset;

struct CrossEvaluatorTrainOptions {
    int epochs = 12;
    int batchSize = 64;
    double learningRate = 1e-3;
    double validationFraction = 0.1; // of the training split, held out to pick the epoch
    int maxMotionFrames = 196;
    std::uint64_t seed = 777; // its own; the T2M evaluator's default is 3407
    int scoreReplications = 3;
};

struct CrossEvaluatorScore {
    std::array<double, 3> rPrecision{}; // ground truth, top-1/2/3 in groups of 32
    double matchingScore = 0.0;         // mean distance of true pairs (unit vectors: 0..2)
};

struct CrossEvaluatorEpoch {
    int epoch = 0;
    double loss = 0.0;
    double temperature = 0.0; // 1 / scale at the end of the epoch
    CrossEvaluatorScore validation;
};
using CrossEvaluatorEpochFn = std::function<void(const CrossEvaluatorEpoch &)>;

struct CrossEvaluatorTrainReport {
    std::vector<CrossEvaluatorEpoch> epochs;
    int bestEpoch = 0; // whose weights the model holds at the end (0: untrained)
    std::int64_t fitMotions = 0;
    std::int64_t validationMotions = 0;
    CrossEvaluatorScore initialTest;
    CrossEvaluatorScore finalTest;
};

// Ground-truth scores of the model on a split: per replication a crop and caption per motion
// and random groups of 32, as the evaluation protocol draws them. Needs >= 32 motions.
CrossEvaluatorScore scoreCrossEvaluator(CrossEvaluatorImpl &model,
                                        const SentencePieceModel &tokenizer,
                                        const EvalDataset &dataset, int replications,
                                        std::uint64_t seed);

// Sets the model's input statistics from the fitting part and trains it in place. InputError
// when a split is too small (fewer than one batch to fit, 32 to validate or test) or a motion
// has no caption or fewer than 4 frames; Cancelled when progress returns false.
CrossEvaluatorTrainReport trainCrossEvaluator(CrossEvaluatorImpl &model,
                                              const SentencePieceModel &tokenizer,
                                              const EvalDataset &train, const EvalDataset &test,
                                              const CrossEvaluatorTrainOptions &options,
                                              const ProgressFn &progress = {},
                                              const CrossEvaluatorEpochFn &onEpoch = {});

struct TrainCrossEvaluatorJob {
    std::filesystem::path datasetRoot;   // HumanML3D layout: train.txt and test.txt
    std::filesystem::path outDir;        // the cross-evaluator directory
    std::filesystem::path tokenizerFile; // a SentencePiece .model (copied into outDir)
    int dimEmbedding = 96;
    int dimHidden = 128; // text and motion GRU widths
    CrossEvaluatorTrainOptions train;
};
// Loads both splits, trains and writes the directory (cross_evaluator.json holds the options,
// the per-epoch losses and the test scores before and after).
CrossEvaluatorTrainReport trainCrossEvaluatorJob(const TrainCrossEvaluatorJob &job,
                                                 const ProgressFn &progress = {},
                                                 const CrossEvaluatorEpochFn &onEpoch = {});

} // namespace mp
