#pragma once
// The full HumanML3D evaluation of a text-to-motion model (Guo et al. 2022 / MotionGPT test.py):
// per replication, re-sample captions, crops and groups, generate, embed with the evaluator, and
// compute R-precision, MM-Dist, FID, Diversity and MultiModality for the model and gt_* for real
// motions; then mean and 1.96 std / sqrt(N) over replications. Models plug in through a
// generator callback, so this file knows nothing about VQ-VAE or T5.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/core/progress.h"
#include "ml/eval/metrics.h"
#include "ml/eval/text_preprocess.h"

namespace mp {

class TextMotionEvaluatorImpl;
class WordVocabulary;

// One test motion with its captions (HumanML3D: sub-clips with start/end are separate samples).
struct EvalCaption {
    std::string text;
    std::vector<TaggedWord> tokens; // empty: tagged with tagCaption
};
struct EvalSample {
    std::string name;
    at::Tensor features; // (T, 263) float32, not normalised
    std::vector<EvalCaption> captions;
};
struct EvalDataset {
    std::vector<EvalSample> samples;
    at::Tensor mean; // (263) the evaluator's normalisation statistics
    at::Tensor std;
};

// A ground-truth draw as Guo's Text2MotionDatasetV2.__getitem__: a random caption, the length
// floored to the unit (one unit shorter with probability 1/3, capped at maxFrames) and a random
// crop offset.
struct GroundTruthCrop {
    std::size_t caption = 0;
    std::int64_t start = 0;
    std::int64_t frames = 0;
};
GroundTruthCrop drawGroundTruthCrop(const EvalSample &sample, MetricRng &rng, int unitLength,
                                    int maxFrames);

struct GenerationRequest {
    std::int64_t sampleIndex = 0; // into EvalDataset::samples
    std::string caption;
    std::int64_t targetFrames = 0; // the ground-truth (cropped) length, for models that use it
    double temperature = 1.0;
    std::uint64_t seed = 0;
    bool multimodality = false; // MotionGPT draws a random prompt template in this mode
};
// Returns one (T, 263) un-normalised feature tensor per request (T may be 0 for an empty motion).
using MotionGeneratorFn =
    std::function<std::vector<at::Tensor>(const std::vector<GenerationRequest> &)>;

// A second, differently built text/motion model (cross_evaluator.h) scored on the same draws as
// the evaluator: the same captions, real crops, generated motions and groups, so its metrics
// (x_*) are paired with the standard ones replication by replication. Rows are compared by
// Euclidean distance, as the evaluator's.
class CrossCheckEmbedder {
public:
    virtual ~CrossCheckEmbedder() = default;
    // (N, E) on the CPU.
    virtual at::Tensor texts(const std::vector<std::string> &captions) = 0;
    // Un-normalised (T_i, 263) features, the first lengths[i] frames of each (zero frames past
    // a motion's end). (N, E) on the CPU.
    virtual at::Tensor motions(const std::vector<at::Tensor> &features,
                               const std::vector<std::int64_t> &lengths) = 0;
};

struct EvaluationOptions {
    int replications = 20;
    double temperature = 1.0;
    std::uint64_t seed = 1234;
    GroupingMode grouping = GroupingMode::GuoBatches;
    int groupSize = 32;
    std::int64_t diversityPairs = 300;
    std::int64_t mmNumTexts = 100; // 0 disables MultiModality
    std::int64_t mmRepeats = 30;
    std::int64_t mmPairs = 10;
    // MultiModality in the first mmReplications replications only (-1: all, as T2M and
    // MotionGPT do). Its 100 x 30 generations per replication dominate a CPU evaluation.
    int mmReplications = -1;
    int maxMotionFrames = 196; // T2M's max_motion_length: longer motions are cut to it
    int batchSize = 32;        // embedding batches (and generation when the next is 0)
    // Requests per generator call (0: batchSize). The default bundle generator samples a call's
    // different captions in one batch, so larger calls run faster.
    int generationBatchSize = 64;
    // Generator calls running at once, each on its own thread with one intra-op thread. Above 1
    // the generator must be safe to call from several threads. Each call gets the same requests
    // whatever the count, so the motions do not depend on it.
    int generationThreads = 1;
    bool computeGroundTruth = true;
    // Optional per-motion measure of generated (and real) motions, e.g. the foot-skating ratio
    // of ml/motion/quality.h; takes (T, 263) un-normalised features.
    std::function<double(const at::Tensor &features)> footSkating;
    // Optional preference-test accuracy: scores (chosen, rejected) of pair i; the accuracy is the
    // fraction with chosen > rejected (the reward-model accuracy of the paper's RM evaluation).
    std::int64_t preferencePairs = 0;
    std::function<std::pair<double, double>(std::int64_t pair)> preferenceScore;
    // Optional cross-check: x_R_precision_top_1..3, x_Matching_score, x_FID (and gt_x_* for real
    // motions) in this embedder's space, on the same draws.
    std::shared_ptr<CrossCheckEmbedder> crossCheck;
};

struct EvaluationResult {
    // Keys as MotionGPT's metrics.json: R_precision_top_1..3, Matching_score, FID, Diversity,
    // MultiModality, gt_R_precision_top_1..3, gt_Matching_score, gt_FID, gt_Diversity, and
    // Foot_skating_ratio / gt_Foot_skating_ratio / Preference_accuracy when requested, and the
    // cross-check's x_* / gt_x_* keys when EvaluationOptions::crossCheck is set.
    std::map<std::string, MetricStats> metrics;
    int replications = 0;
    std::int64_t numSamples = 0;
    std::map<std::string, double> secondsByStage; // where the time went
};

// Runs the protocol. The evaluator must be in eval mode on the device the generator's output is
// moved to; vocabulary is the evaluator's. Reports progress per replication stage.
EvaluationResult evaluateModel(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                               const EvalDataset &dataset, const MotionGeneratorFn &generator,
                               const EvaluationOptions &options, const ProgressFn &progress = {});

// The foot-skating ratio (ml/motion/quality.h) of un-normalised (T, 263) features, through
// recover_from_ric; 0 for fewer than 2 frames. The usual EvaluationOptions::footSkating.
double footSkatingOfFeatures(const at::Tensor &features);

// The fraction of pairs whose chosen score is strictly higher.
double preferenceAccuracy(std::int64_t numPairs,
                          const std::function<std::pair<double, double>(std::int64_t)> &score);

// {"R_precision_top_1": {"mean":..., "conf_interval":..., "values":[...]}, ...} plus a "meta"
// object (replications, samples, seconds by stage).
std::string evaluationToJson(const EvaluationResult &result);
void writeMetricsJson(const std::filesystem::path &path, const EvaluationResult &result);
// The paper's table row: "R@1 0.409±0.003 | R@2 ... | FID ... | MM-Dist ... | Div ... | MModality
// ...".
std::string paperTableRow(const EvaluationResult &result, bool groundTruth = false);
// The cross-check's row "xR@1 ... | xR@2 | xR@3 | xFID | xMM-Dist"; "" without cross-check metrics.
std::string crossCheckTableRow(const EvaluationResult &result, bool groundTruth = false);

} // namespace mp
