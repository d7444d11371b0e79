#pragma once
// Trains the T2M evaluator on a HumanML3D-layout dataset as Guo et al. 2022 do:
//  1. movement encoder pretraining (simplified from T2M's Decomp stage): the conv encoder with a
//     transposed-conv decoder reconstructs random 24-frame windows (L1 + 0.001 latent sparsity +
//     0.001 latent smoothness); Guo's Decomp also trains on windows of 24. Skipped when
//     movementPretrainEpochs is 0: the movement encoder then trains jointly in stage 2.
//  2. text-motion matching: the movement encoder frozen (as T2M), text and motion encoders (and
//     learned word vectors) trained with T2M's contrastive loss: true pairs pull (d^2), pairs
//     with the batch's motions shifted by 1..B-1 push (max(0, margin - d)^2), margin 10. T2M's
//     shift may be 0 (no negatives); ours never is.
// Reports the ground-truth R-precision / MM-Dist on the test split (the evaluator's own score).

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include <c10/core/Device.h>

#include "ml/core/progress.h"

namespace mp {

class TextMotionEvaluatorImpl;
class WordVocabulary;
struct EvalDataset;

struct EvaluatorTrainOptions {
    int movementPretrainEpochs = 5;
    int epochs = 30;
    int batchSize = 32;
    double learningRate = 1e-4; // T2M's
    double margin = 10.0;       // T2M's negative_margin
    int maxMotionFrames = 196;
    std::uint64_t seed = 3407;
    int testReplications = 3;            // for the ground-truth R-precision report
    int evaluateEvery = 0;               // epochs between test scores (0: only at the end)
    std::filesystem::path checkpointDir; // empty: no checkpoints; else latest/ each epoch
    c10::Device device{c10::kCPU};
};

struct EvaluatorScore {
    std::array<double, 3> rPrecision{}; // ground-truth top-1/2/3 on the test split
    double matchingScore = 0.0;
};

struct EvaluatorEpoch {
    std::string stage; // "movement" or "matching"
    int epoch = 0;     // 1-based within the stage
    double loss = 0.0;
    double positiveLoss = 0.0; // matching only
    double negativeLoss = 0.0;
    bool scored = false;
    EvaluatorScore test; // when scored
};
using EvaluatorEpochFn = std::function<void(const EvaluatorEpoch &)>;

struct EvaluatorTrainReport {
    std::vector<EvaluatorEpoch> epochs;
    EvaluatorScore initialTest; // before training, when a test split is given
    EvaluatorScore finalTest;
};

// Trains in place. test may have no samples (then no scores). Throws Cancelled when progress
// returns false; InputError when the training split is smaller than one batch.
EvaluatorTrainReport trainEvaluator(TextMotionEvaluatorImpl &evaluator,
                                    const WordVocabulary &vocabulary, const EvalDataset &train,
                                    const EvalDataset &test, const EvaluatorTrainOptions &options,
                                    const ProgressFn &progress = {},
                                    const EvaluatorEpochFn &onEpoch = {});

// Ground-truth R-precision and MM-Dist of an evaluator on a split (mean over replications,
// Guo's grouping).
EvaluatorScore scoreEvaluator(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                              const EvalDataset &dataset, int replications, std::uint64_t seed);

} // namespace mp
