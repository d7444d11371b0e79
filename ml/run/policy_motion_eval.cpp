#include "ml/run/policy_motion_eval.h"

#include <chrono>
#include <mutex>

#include <torch/torch.h>

#include "ml/core/error.h"
#include "ml/eval/bundle_eval.h"
#include "ml/models/bundle.h"
#include "ml/run/run_config.h"
#include "ml/run/step_plan.h"

namespace mp {
namespace {

// Puts the model back in its mode and the default CPU generator back in its state, however the
// evaluation ends (a stop request throws Cancelled out of it).
class EvaluationScope {
public:
    explicit EvaluationScope(torch::nn::Module &model)
        : m_model(model), m_wasTraining(model.is_training()),
          m_generator(at::detail::getDefaultCPUGenerator())
    {
        std::lock_guard<std::mutex> lock(m_generator.mutex());
        m_rngState = m_generator.get_state();
        m_model.eval();
    }
    ~EvaluationScope()
    {
        m_model.train(m_wasTraining);
        std::lock_guard<std::mutex> lock(m_generator.mutex());
        m_generator.set_state(m_rngState);
    }
    EvaluationScope(const EvaluationScope &) = delete;
    EvaluationScope &operator=(const EvaluationScope &) = delete;

private:
    torch::nn::Module &m_model;
    bool m_wasTraining;
    at::Generator m_generator;
    at::Tensor m_rngState;
};

BundleEvaluationJob jobOf(const RunConfig &config, const std::filesystem::path &modelDir,
                          c10::Device device)
{
    const EvalSettings &eval = config.eval;
    BundleEvaluationJob job;
    job.modelDir = modelDir;
    job.datasetRoot = eval.motionDataset;
    job.split = eval.motionSplit;
    job.maxSamples = eval.motionMaxClips;
    job.evaluatorDir = eval.motionEvaluator;
    job.device = device;
    job.options.replications = static_cast<int>(eval.replications);
    job.options.temperature = eval.motionTemperature;
    job.options.groupSize = static_cast<int>(kMotionGroupSize);
    job.options.mmNumTexts = eval.motionMmTexts;
    return job;
}

} // namespace

PolicyMotionEvaluator::PolicyMotionEvaluator(const RunConfig &config,
                                             const std::filesystem::path &modelDir,
                                             c10::Device device)
    : m_everyEpochs(std::max<std::int64_t>(1, config.eval.motionEveryEpochs))
{
    const EvalSettings &eval = config.eval;
    if (!std::filesystem::is_directory(eval.motionDataset))
        throw InputError("config: eval.motion_dataset '" + eval.motionDataset +
                         "' is not a directory (a HumanML3D-layout dataset)");
    const auto split = std::filesystem::path(eval.motionDataset) / (eval.motionSplit + ".txt");
    if (!std::filesystem::exists(split))
        throw InputError("config: eval.motion_split '" + eval.motionSplit + "': " + split.string() +
                         " does not exist");
    try {
        m_evaluator = std::make_unique<BundleEvaluator>(jobOf(config, modelDir, device));
    } catch (const InputError &error) {
        throw InputError(std::string("config: eval.motion_metrics: ") + error.what());
    }
    if (numSamples() < kMotionGroupSize)
        throw InputError("config: eval.motion_split: " + split.string() + " has " +
                         std::to_string(numSamples()) +
                         " usable motions, fewer than one group of " +
                         std::to_string(kMotionGroupSize));
}

PolicyMotionEvaluator::~PolicyMotionEvaluator() = default;

std::int64_t PolicyMotionEvaluator::numSamples() const
{
    return m_evaluator->numSamples();
}

bool PolicyMotionEvaluator::dueAfter(const StepPlan &plan, std::int64_t stepsDone) const
{
    if (stepsDone <= 0 || !plan.endsEpoch(stepsDone))
        return false;
    const std::int64_t epochsDone = stepsDone / plan.stepsPerEpoch;
    return epochsDone % m_everyEpochs == 0 || stepsDone == plan.totalSteps;
}

Event PolicyMotionEvaluator::evaluate(ModelBundle &bundle, std::int64_t step, double epoch,
                                      const ProgressFn &progress) const
{
    const auto start = std::chrono::steady_clock::now();
    EvaluationScope scope(*bundle.t5());
    torch::NoGradGuard noGrad;
    Event event = motionMetricsEvent(m_evaluator->evaluate(bundle, progress), step, epoch);
    event.metrics["motion/seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return event;
}

Event motionMetricsEvent(const EvaluationResult &result, std::int64_t step, double epoch)
{
    Event event{.type = EventType::MotionMetrics, .step = step, .epoch = epoch};
    double seconds = 0.0;
    for (const auto &[stage, s] : result.secondsByStage)
        seconds += s;
    event.metrics["motion/samples"] = static_cast<double>(result.numSamples);
    event.metrics["motion/replications"] = result.replications;
    event.metrics["motion/seconds"] = seconds;
    for (const auto &[name, stats] : result.metrics) {
        const std::string key = "motion/" + name;
        event.metrics[key] = stats.mean;
        event.metrics[key + "/ci"] = stats.confInterval;
        event.lists[key + "/values"] = stats.values;
    }
    return event;
}

} // namespace mp
