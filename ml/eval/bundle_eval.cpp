#include "ml/eval/bundle_eval.h"

#include "ml/core/error.h"
#include "ml/core/paths.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/data/normalizer.h"
#include "ml/eval/cross_evaluator.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/evaluator.h"
#include "ml/models/bundle.h"
#include "ml/models/eval_mode.h"
#include "ml/models/lora.h"

#include <torch/torch.h>

#include <algorithm>

namespace mp {

MotionGeneratorFn bundleGenerator(ModelBundle &bundle, int batchRows, bool int8Weights)
{
    const auto rowsPerBatch = static_cast<std::size_t>(std::max(1, batchRows));
    return [&bundle, rowsPerBatch, int8Weights](const std::vector<GenerationRequest> &requests) {
        std::vector<at::Tensor> out(requests.size());
        // Temperature -> request indices, in first-seen order (a batch has one SampleOptions).
        std::vector<std::pair<double, std::vector<std::size_t>>> groups;
        for (std::size_t i = 0; i < requests.size(); ++i) {
            auto it = std::find_if(groups.begin(), groups.end(), [&](const auto &group) {
                return group.first == requests[i].temperature;
            });
            if (it == groups.end())
                it = groups.insert(groups.end(), {requests[i].temperature, {}});
            it->second.push_back(i);
        }
        for (const auto &[temperature, indices] : groups)
            for (std::size_t begin = 0; begin < indices.size(); begin += rowsPerBatch) {
                const auto end = std::min(indices.size(), begin + rowsPerBatch);
                std::vector<std::string> prompts;
                std::vector<std::uint64_t> seeds;
                for (auto k = begin; k < end; ++k) {
                    prompts.push_back(requests[indices[k]].caption);
                    seeds.push_back(requests[indices[k]].seed);
                }
                auto options = bundle.defaultOptions(seeds);
                options.sampling.temperature = temperature;
                options.sampling.greedy = temperature <= 0.0;
                options.int8Weights = int8Weights;
                const auto samples =
                    bundle.generateBatch(prompts, options, {}, /*withJoints=*/false);
                if (samples.size() != prompts.size())
                    throw std::runtime_error("bundle generator: wrong number of samples");
                for (auto k = begin; k < end; ++k)
                    out[indices[k]] = samples[k - begin].features;
            }
        return out;
    };
}

std::filesystem::path resolveEvaluatorDir(const BundleEvaluationJob &job)
{
    std::vector<std::filesystem::path> tried;
    if (!job.evaluatorDir.empty())
        tried.push_back(job.evaluatorDir);
    else {
        tried.push_back(job.modelDir / "evaluator");
        tried.push_back(defaultModelDir() / "evaluator");
    }
    for (const auto &dir : tried)
        if (std::filesystem::exists(dir / "evaluator_config.json"))
            return dir;
    std::string names;
    for (const auto &dir : tried)
        names += (names.empty() ? "" : ", ") + dir.string();
    throw InputError("no evaluator found (tried " + names +
                     "); train one with `motionpref-cli eval train-evaluator`");
}

struct BundleEvaluator::State {
    LoadedEvaluator evaluator;
    EvalDataset dataset;
    EvaluationOptions options;
    int generationBatchRows = kGenerationBatchRows;
    int generationThreads = 1;
    bool int8Weights = false;
};

BundleEvaluator::BundleEvaluator(const BundleEvaluationJob &job)
    : m_state(std::make_unique<State>())
{
    auto &evaluator = m_state->evaluator;
    evaluator = loadEvaluator(resolveEvaluatorDir(job));
    evaluator.model->to(job.device);
    evaluator.model->eval();
    // MotionGPT's protocol runs the motion GRU unpacked; Guo's packs it.
    if (job.options.grouping == GroupingMode::MotionGptChunks)
        evaluator.model->setPackMotion(false);
    auto &dataset = m_state->dataset;
    // The evaluator's own statistics, as T2M normalises with Comp_v6_KLD01's mean/std; the
    // dataset's Mean.npy/Std.npy are then not needed.
    HumanMl3dOptions datasetOptions;
    datasetOptions.split = job.split;
    dataset = evalDatasetFromHumanMl3d(HumanMl3dDataset::open(job.datasetRoot, datasetOptions),
                                       evaluator.mean.defined() && evaluator.std.defined()
                                           ? Normalizer(evaluator.mean, evaluator.std)
                                           : Normalizer());
    const auto available = static_cast<std::int64_t>(dataset.samples.size());
    if (job.maxSamples > 0 && job.maxSamples < available) {
        // Evenly spread, so a capped split still covers the whole range of the split file.
        std::vector<EvalSample> kept;
        for (std::int64_t i = 0; i < job.maxSamples; ++i)
            kept.push_back(std::move(
                dataset.samples[static_cast<std::size_t>(i * available / job.maxSamples)]));
        dataset.samples = std::move(kept);
    }
    m_state->options = job.options;
    // Generator calls as large as its batches (the evaluation's default may be smaller).
    m_state->generationBatchRows = job.generationBatchRows;
    m_state->int8Weights = job.int8Weights;
    m_state->options.generationBatchSize =
        std::max(m_state->options.generationBatchSize, job.generationBatchRows);
    // The CPU's cores each run their own batches (one GEMM thread each); a GPU takes one stream.
    m_state->options.generationThreads =
        job.device.is_cpu() ? (job.generationThreads > 0 ? job.generationThreads
                                                         : std::max(1, at::get_num_threads()))
                            : 1;
    if (job.footSkating && !m_state->options.footSkating)
        m_state->options.footSkating = footSkatingOfFeatures;
    if (!job.crossCheckDir.empty() && !m_state->options.crossCheck)
        m_state->options.crossCheck = std::make_shared<CrossEvaluatorEmbedder>(
            loadCrossEvaluator(resolveCrossCheckDir(job.crossCheckDir)));
}

BundleEvaluator::~BundleEvaluator() = default;

std::int64_t BundleEvaluator::numSamples() const
{
    return static_cast<std::int64_t>(m_state->dataset.samples.size());
}

EvaluationResult BundleEvaluator::evaluate(ModelBundle &bundle, const ProgressFn &progress) const
{
    // Generator threads share the models: in eval mode for the whole evaluation, generation
    // itself writes no module state (the caller's modes come back afterwards).
    const EvalModeScope t5Eval(*bundle.t5());
    const EvalModeScope vqvaeEval(*bundle.vqvae());
    return evaluateModel(
        *m_state->evaluator.model, m_state->evaluator.vocabulary, m_state->dataset,
        bundleGenerator(bundle, m_state->generationBatchRows, m_state->int8Weights),
        m_state->options, progress);
}

EvaluationResult evaluateBundleJob(const BundleEvaluationJob &job, const ProgressFn &progress)
{
    const BundleEvaluator evaluator(job);
    ModelBundle bundle(job.modelDir, job.device);
    if (!job.adapterDir.empty()) {
        loadLoraAdapter(*bundle.t5(), job.adapterDir);
        bundle.t5()->eval();
    }
    auto result = evaluator.evaluate(bundle, progress);
    if (!job.outJson.empty())
        writeMetricsJson(job.outJson, result);
    return result;
}

} // namespace mp
