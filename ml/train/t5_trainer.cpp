#include "ml/train/t5_trainer.h"
#include "ml/train/schedule.h"

#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace mp {

Seq2SeqBatch collateSeq2Seq(const std::vector<const Seq2SeqExample *> &examples,
                            const T5Model &model)
{
    std::size_t inputLength = 1;
    std::size_t labelLength = 1;
    for (const auto *e : examples) {
        inputLength = std::max(inputLength, e->input.size());
        labelLength = std::max(labelLength, e->labels.size());
    }
    const auto batch = static_cast<std::int64_t>(examples.size());
    Seq2SeqBatch out;
    out.inputIds = torch::full({batch, static_cast<std::int64_t>(inputLength)},
                               model->config().padTokenId, torch::kLong);
    out.attentionMask = torch::zeros({batch, static_cast<std::int64_t>(inputLength)}, torch::kLong);
    out.labels = torch::full({batch, static_cast<std::int64_t>(labelLength)}, -100, torch::kLong);
    auto ids = out.inputIds.accessor<std::int64_t, 2>();
    auto mask = out.attentionMask.accessor<std::int64_t, 2>();
    auto labels = out.labels.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < batch; ++b) {
        const auto &e = *examples[b];
        for (std::size_t i = 0; i < e.input.size(); ++i) {
            ids[b][i] = e.input[i];
            mask[b][i] = 1;
        }
        for (std::size_t i = 0; i < e.labels.size(); ++i)
            labels[b][i] = e.labels[i];
    }
    out.decoderIds = model->shiftRight(out.labels);
    return out;
}

std::pair<at::Tensor, double> seq2seqLoss(const at::Tensor &logits, const at::Tensor &labels)
{
    const auto flatLogits = logits.reshape({-1, logits.size(-1)});
    const auto flatLabels = labels.reshape({-1});
    const auto loss = torch::nn::functional::cross_entropy(
        flatLogits, flatLabels,
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    const auto valid = flatLabels != -100;
    const auto correct = (flatLogits.argmax(-1) == flatLabels).logical_and(valid);
    const double accuracy =
        correct.sum().item<double>() / std::max<double>(1.0, valid.sum().item<double>());
    return {loss, accuracy};
}

T5Trainer::T5Trainer(T5Model model, std::vector<Seq2SeqExample> examples,
                     const T5TrainOptions &options)
    : m_model(std::move(model)), m_examples(std::move(examples)), m_options(options),
      m_rng(options.seed)
{
    if (m_examples.empty())
        throw InputError("T5 training: no examples");
    m_optimizer = std::make_unique<torch::optim::AdamW>(
        m_model->parameters(),
        torch::optim::AdamWOptions(m_options.learningRate).weight_decay(m_options.weightDecay));
    // Linear warm-up, then constant. The scheduler runs one step ahead so that the first step
    // trains at lr/warmup, as these trainers always have (HF's schedules start at 0).
    m_scheduler = std::make_unique<LrScheduler>(*m_optimizer, ScheduleKind::Constant,
                                                m_options.warmupSteps, m_options.warmupSteps + 1);
    m_scheduler->setStepCount(1);
}

T5Trainer::~T5Trainer() = default;

T5StepStats T5Trainer::step()
{
    m_model->train();
    std::uniform_int_distribution<std::size_t> pick(0, m_examples.size() - 1);
    std::vector<const Seq2SeqExample *> chosen;
    for (std::int64_t i = 0; i < m_options.batchSize; ++i)
        chosen.push_back(&m_examples[pick(m_rng)]);
    const auto device = m_model->shared->weight.device();
    const auto batch = collateSeq2Seq(chosen, m_model);
    const auto logits = m_model->forward(batch.inputIds.to(device), batch.attentionMask.to(device),
                                         batch.decoderIds.to(device));
    auto [loss, accuracy] = seq2seqLoss(logits, batch.labels.to(device));
    m_optimizer->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(m_model->parameters(), 1.0);
    m_optimizer->step();
    m_scheduler->step();
    ++m_step;
    const double value = loss.item<double>();
    if (!std::isfinite(value))
        throw std::runtime_error("T5 training diverged at step " + std::to_string(m_step) +
                                 " (loss is not finite)");
    return {.step = m_step, .loss = value, .accuracy = accuracy};
}

T5StepStats T5Trainer::evaluate(const std::vector<Seq2SeqExample> &examples)
{
    torch::NoGradGuard noGrad;
    m_model->eval();
    const auto device = m_model->shared->weight.device();
    double loss = 0.0;
    double accuracy = 0.0;
    std::int64_t batches = 0;
    for (std::size_t start = 0; start < examples.size();
         start += static_cast<std::size_t>(m_options.batchSize)) {
        std::vector<const Seq2SeqExample *> chosen;
        for (std::size_t i = start;
             i < std::min(examples.size(), start + static_cast<std::size_t>(m_options.batchSize));
             ++i)
            chosen.push_back(&examples[i]);
        const auto batch = collateSeq2Seq(chosen, m_model);
        const auto logits = m_model->forward(
            batch.inputIds.to(device), batch.attentionMask.to(device), batch.decoderIds.to(device));
        const auto [l, a] = seq2seqLoss(logits, batch.labels.to(device));
        loss += l.item<double>();
        accuracy += a;
        ++batches;
    }
    m_model->train();
    return {.step = m_step,
            .loss = batches ? loss / batches : 0.0,
            .accuracy = batches ? accuracy / batches : 0.0};
}

void T5Trainer::saveCheckpoint(const std::filesystem::path &directory) const
{
    std::filesystem::create_directories(directory);
    std::ostringstream rng;
    rng << m_rng;
    writeSafetensors(directory / "t5_state.safetensors", moduleStateDict(*m_model),
                     {{"step", std::to_string(m_step)}, {"rng", rng.str()}});
    torch::save(*m_optimizer, (directory / "t5_optimizer.pt").string());
}

void T5Trainer::loadCheckpoint(const std::filesystem::path &directory)
{
    const auto path = directory / "t5_state.safetensors";
    SafetensorsReader reader(path);
    loadStateDict(*m_model, reader.readAll(), path.filename().string());
    try {
        m_step = std::stoll(reader.metadata().at("step"));
        std::istringstream rng(reader.metadata().at("rng"));
        rng >> m_rng;
    } catch (const std::exception &) {
        throw InputError(path.filename().string() + ": missing or bad step/rng metadata");
    }
    torch::load(*m_optimizer, (directory / "t5_optimizer.pt").string());
    m_scheduler->setStepCount(m_step + 1); // one ahead, as in the constructor
}

} // namespace mp
