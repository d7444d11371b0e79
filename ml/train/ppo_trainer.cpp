#include "ml/train/ppo_trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/models/lora.h"
#include "ml/train/checkpoint.h"
#include "ml/train/logprobs.h"

namespace fs = std::filesystem;

namespace mp {

namespace {
const TrainerIdentity kPpoTrainerIdentity{.method = "ppo", .version = 1};
}

PpoTrainer::PpoTrainer(T5Model policy, RewardModel critic, PpoTrainerOptions options)
    : m_policy(std::move(policy)), m_critic(std::move(critic)), m_options(std::move(options)),
      m_kl(m_options.adaptiveKl ? KlController::adaptive(m_options.initKlCoef, m_options.klTarget,
                                                         m_options.klHorizon)
                                : KlController::fixed(m_options.initKlCoef))
{
    if (m_critic && m_options.valueHead)
        throw std::invalid_argument("PpoTrainer: a separate critic and a value head both given");
    m_params = loraParameters(*m_policy);
    if (m_critic) {
        const auto criticParams = m_critic->trainableParameters();
        m_params.insert(m_params.end(), criticParams.begin(), criticParams.end());
    }
    if (m_options.valueHead) {
        m_valueHead = ValueHead(m_policy->config().dModel, m_options.valueHeadDropout);
        m_valueHead->to(m_policy->shared->weight.device());
        m_params.push_back(m_valueHead->summary->weight);
        m_params.push_back(m_valueHead->summary->bias);
    }
    m_optimizer = makeOptimizer(m_params, m_options.optimizer);
    m_scheduler = std::make_unique<LrScheduler>(*m_optimizer, ScheduleKind::Constant, 0,
                                                m_options.totalSteps);
}

PpoTrainer::~PpoTrainer() = default;

PpoTrainer::PolicyPass PpoTrainer::policyPass(const at::Tensor &promptIds,
                                              const at::Tensor &promptMask,
                                              const at::Tensor &labels)
{
    PolicyPass pass;
    const auto decoderIds = m_policy->shiftRight(labels);
    if (m_valueHead) {
        // TRL's value head reads the decoder's last hidden states, before T5 v1.0's rescaling
        // for its tied head (decodeHidden's); the logits are the head on the rescaled states.
        auto states =
            m_policy->decoder->forward(m_policy->shared->forward(decoderIds), {},
                                       m_policy->encode(promptIds, promptMask), promptMask);
        pass.values = m_valueHead->forward(states);
        if (m_policy->config().scalesDecoderOutput())
            states = states * std::pow(static_cast<double>(m_policy->config().dModel), -0.5);
        pass.logits = m_policy->head(states);
    } else {
        pass.logits = m_policy->forward(promptIds, promptMask, decoderIds);
    }
    pass.logprobs =
        tokenLogProbs(pass.logits, labels, {.alignment = LabelAlignment::EncoderDecoder}).logps;
    return pass;
}

at::Tensor PpoTrainer::values(const PolicyPass &pass, const at::Tensor &promptIds,
                              const at::Tensor &promptMask, const at::Tensor &labels)
{
    if (pass.values.defined())
        return pass.values;
    if (m_critic)
        return m_critic->values(promptIds, promptMask, labels);
    return torch::zeros(labels.sizes(),
                        torch::TensorOptions().dtype(torch::kFloat).device(labels.device()));
}

void PpoTrainer::evaluate(PpoRollout &rollout)
{
    torch::NoGradGuard noGrad;
    m_policy->eval();
    if (m_valueHead)
        m_valueHead->eval(); // TRL's batched_forward_pass runs the model in eval mode
    const PolicyPass pass = policyPass(rollout.promptIds, rollout.promptMask, rollout.labels);
    rollout.logprobs = pass.logprobs;
    {
        LoraDisabledScope reference(*m_policy);
        rollout.refLogprobs =
            policyPass(rollout.promptIds, rollout.promptMask, rollout.labels).logprobs;
    }
    if (m_critic)
        m_critic->eval();
    rollout.values = values(pass, rollout.promptIds, rollout.promptMask, rollout.labels);
}

PpoStepResult PpoTrainer::update(const PpoRollout &rollout, std::int64_t stepIndex)
{
    if (!rollout.logprobs.defined() || !rollout.refLogprobs.defined() || !rollout.values.defined())
        throw std::invalid_argument("PpoTrainer::update: the rollout was not evaluated");
    const double klCoef = m_kl.value();
    const auto scores =
        transformScores(rollout.rawScores, m_scoreMoments, m_options.scoreTransform);
    const PerTokenRewards rewards = computeRewards(scores, rollout.logprobs, rollout.refLogprobs,
                                                   rollout.mask, klCoef, m_options.klPenalty);
    const Advantages advantages =
        computeAdvantages(rollout.values, rewards.rewards, rollout.mask, m_options.gae);

    PpoStepResult result;
    PpoStatsAccumulator accumulator;
    const std::int64_t b = rollout.labels.size(0);
    const std::int64_t mini = std::clamp<std::int64_t>(m_options.miniBatchSize, 1, b);
    std::mt19937_64 shuffle(m_options.shuffleSeed * 7919ULL +
                            static_cast<std::uint64_t>(stepIndex));
    const auto device = rollout.labels.device();
    bool finite = true, first = true;
    for (std::int64_t epoch = 0; epoch < m_options.ppoEpochs && finite; ++epoch) {
        std::vector<std::int64_t> order;
        if (m_options.order) {
            order = m_options.order(stepIndex, epoch, b);
            if (static_cast<std::int64_t>(order.size()) != b)
                throw std::invalid_argument("PpoTrainer: the order of an epoch has " +
                                            std::to_string(order.size()) + " rows, expected " +
                                            std::to_string(b));
        } else {
            order.resize(static_cast<std::size_t>(b));
            std::iota(order.begin(), order.end(), 0);
            std::shuffle(order.begin(), order.end(), shuffle);
        }
        for (std::int64_t begin = 0; begin < b; begin += mini) {
            const auto end = std::min(b, begin + mini);
            const auto index =
                torch::tensor(std::vector<std::int64_t>(order.begin() + begin, order.begin() + end),
                              torch::kLong)
                    .to(device);
            double loss = 0.0;
            finite = miniBatch(rollout, advantages, index, accumulator, loss) && finite;
            if (first)
                result.firstLoss = loss;
            first = false;
        }
    }
    const PpoLossStats train = accumulator.mean();
    PpoStepInputs inputs{.scores = scores,
                         .logprobs = rollout.logprobs,
                         .refLogprobs = rollout.refLogprobs,
                         .masks = rollout.mask,
                         .kls = rewards.kls,
                         .nonScoreRewards = rewards.nonScoreRewards,
                         .queryLengths = rollout.promptMask.sum(1).to(torch::kFloat),
                         // TRL's responses begin with T5's decoder start token: counted, as there.
                         .responseLengths =
                             rollout.labels.ne(kIgnoreLabel).sum(1).to(torch::kFloat) + 1,
                         .rawScores = rollout.rawScores,
                         .klCoef = klCoef,
                         .learningRate = m_scheduler->currentLr()};
    PpoStepStats stats = ppoStepStats(inputs, train);
    result.metrics = stats.stats.scalars;
    result.warnings = std::move(stats.warnings);
    result.metrics["loss"] =
        finite ? result.metrics["ppo/loss/total"] : std::numeric_limits<double>::quiet_NaN();
    m_kl.update(result.metrics["objective/kl"], b);
    m_scheduler->step();
    ++m_step;
    return result;
}

PpoStepResult PpoTrainer::step(PpoRollout rollout, std::int64_t stepIndex)
{
    evaluate(rollout);
    return update(rollout, stepIndex);
}

bool PpoTrainer::miniBatch(const PpoRollout &rollout, const Advantages &advantages,
                           const at::Tensor &index, PpoStatsAccumulator &accumulator, double &loss)
{
    m_policy->eval(); // dropout off, as TRL's PPO on a LoRA model runs without it here
    if (m_critic)
        m_critic->train();
    if (m_valueHead)
        m_valueHead->train(); // TRL's train_minibatch: the value head's dropout is on
    m_optimizer->zero_grad();
    const auto pick = [&](const at::Tensor &t) { return t.index_select(0, index); };
    const auto promptIds = pick(rollout.promptIds), promptMask = pick(rollout.promptMask);
    const auto labels = pick(rollout.labels);
    const PolicyPass pass = policyPass(promptIds, promptMask, labels);
    const auto vpreds = values(pass, promptIds, promptMask, labels);
    const auto result = ppoLoss(
        pick(rollout.logprobs), pick(advantages.values), pass.logits, vpreds, pass.logprobs,
        pick(rollout.mask), pick(advantages.advantages), pick(advantages.returns), m_options.loss);
    accumulator.add(result.stats);
    loss = result.loss.item<double>();
    if (!std::isfinite(loss))
        return false;
    if (result.skipped)
        return true;
    result.loss.backward();
    averageGradients();
    const double norm = clipGradNorm(m_params, m_options.maxGradNorm);
    if (!std::isfinite(norm)) {
        m_optimizer->zero_grad();
        return false;
    }
    m_optimizer->step();
    return true;
}

void PpoTrainer::averageGradients()
{
    Distributed *distributed = m_options.distributed;
    if (distributed == nullptr || !distributed->active())
        return;
    distributed->allReduceGradients(m_params);
    torch::NoGradGuard noGrad;
    for (auto &param : m_params)
        if (param.grad().defined())
            param.mutable_grad().div_(static_cast<double>(distributed->worldSize()));
}

void PpoTrainer::saveCheckpoint(const fs::path &directory)
{
    const TrainerState state{.step = m_step,
                             .extra = {{"kl_coef", m_kl.value()},
                                       {"score_moments",
                                        {m_scoreMoments.mean(), m_scoreMoments.var(),
                                         m_scoreMoments.std(), m_scoreMoments.count()}}}};
    saveTrainingCheckpoint(
        directory, kPpoTrainerIdentity,
        [&](torch::serialize::OutputArchive &archive) {
            writeTensorList(archive, m_params, "param.");
        },
        *m_optimizer, *m_scheduler, state);
}

void PpoTrainer::loadCheckpoint(const fs::path &directory)
{
    const auto restoreExtra = [&](const nlohmann::json &extra) {
        m_kl.setValue(extra.at("kl_coef").get<double>());
        const auto &moments = extra.at("score_moments");
        m_scoreMoments.setState(moments.at(0).get<double>(), moments.at(1).get<double>(),
                                moments.at(2).get<double>(), moments.at(3).get<double>());
    };
    m_step = loadTrainingCheckpoint(
                 directory, kPpoTrainerIdentity,
                 [&](torch::serialize::InputArchive &archive) {
                     readTensorList(archive, m_params, "param.");
                 },
                 *m_optimizer, *m_scheduler, restoreExtra)
                 .step;
}

} // namespace mp
