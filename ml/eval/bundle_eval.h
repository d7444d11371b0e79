#pragma once
// Evaluating a model bundle (ml/models/bundle.h), optionally with a LoRA adapter, on a
// HumanML3D-layout test split: the job behind `motionpref-cli eval --model ...` and the Compare
// panel. The protocol itself is evaluateModel (ml/eval/evaluation.h).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <c10/core/Device.h>

#include "ml/core/progress.h"
#include "ml/eval/evaluation.h"

namespace mp {

class ModelBundle;

// Rows per batched generation call: measured at 1 thread on the default model (see
// tests/bench/bench_generate_batch.cpp: 64 rows about 4x the tokens/s of one at a time, 32 rows
// 3.7x, 128 rows no more than 64).
constexpr int kGenerationBatchRows = 64;

// Requests are sampled in batches of up to batchRows different captions, one seed each (the
// bundle's sampler gives each row its own generator, so a motion depends on its seed only).
// Temperature comes from the request (<= 0: greedy); other sampling settings are the bundle's
// defaults; int8Weights: GenerateOptions::int8Weights. Threads may call it at once while the
// bundle's models are in eval mode.
MotionGeneratorFn bundleGenerator(ModelBundle &bundle, int batchRows = kGenerationBatchRows,
                                  bool int8Weights = false);

struct BundleEvaluationJob {
    std::filesystem::path modelDir;
    std::filesystem::path adapterDir;  // optional LoRA adapter (PEFT layout)
    std::filesystem::path datasetRoot; // HumanML3D layout
    std::string split = "test";
    // 0: the whole split; else this many motions spread evenly over it (the same ones every
    // time), for evaluations that must be quick, e.g. during training.
    std::int64_t maxSamples = 0;
    std::filesystem::path evaluatorDir; // empty: MODEL/evaluator, else the default bundle's
    // A cross-evaluator directory (cross_evaluator.h) or "default" (the embedded default's
    // cross_evaluator/): adds its x_* metrics on the same draws. Empty: none.
    std::filesystem::path crossCheckDir;
    EvaluationOptions options;
    int generationBatchRows = kGenerationBatchRows; // captions per batched generation
    // Generation batches run at once on the CPU, one GEMM thread each (0: as many as LibTorch's
    // intra-op threads; a GPU runs one). The motions do not depend on it.
    int generationThreads = 0;
    // Generation's decoding steps read int8 weights (GenerateOptions::int8Weights).
    bool int8Weights = false;
    bool footSkating = true;
    std::filesystem::path outJson; // metrics.json; empty: not written
    c10::Device device{c10::kCPU};
};

// The evaluator directory a job uses (InputError naming the places tried when none exists).
std::filesystem::path resolveEvaluatorDir(const BundleEvaluationJob &job);

// The evaluator and the split of a job, loaded once, for evaluating a model more than once (a
// training run evaluates its policy every few epochs). InputErrors when either cannot be read.
class BundleEvaluator {
public:
    explicit BundleEvaluator(const BundleEvaluationJob &job);
    ~BundleEvaluator();
    BundleEvaluator(const BundleEvaluator &) = delete;
    BundleEvaluator &operator=(const BundleEvaluator &) = delete;

    std::int64_t numSamples() const;
    // The job's protocol on the bundle's model as it is now (its adapter included); the model's
    // train/eval mode is the caller's.
    EvaluationResult evaluate(ModelBundle &bundle, const ProgressFn &progress = {}) const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

// MotionGptChunks grouping also switches the evaluator's motion GRU to unpacked, as MotionGPT.
EvaluationResult evaluateBundleJob(const BundleEvaluationJob &job, const ProgressFn &progress = {});

} // namespace mp
