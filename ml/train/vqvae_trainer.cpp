#include "ml/train/vqvae_trainer.h"
#include "ml/train/schedule.h"

#include "ml/core/error.h"
#include "ml/data/safetensors.h"
#include "ml/models/state_dict.h"

#include <torch/torch.h>

#include <algorithm>
#include <sstream>

namespace mp {

VqVaeTrainer::VqVaeTrainer(VqVae model, std::vector<at::Tensor> clips,
                           const VqVaeTrainOptions &options)
    : m_model(std::move(model)), m_options(options), m_rng(options.seed)
{
    const auto down = m_model->config().downsampling();
    if (m_options.windowFrames < down || m_options.windowFrames % down != 0)
        throw InputError("VQ-VAE training: the window (" + std::to_string(m_options.windowFrames) +
                         " frames) must be a multiple of " + std::to_string(down));
    for (auto &clip : clips) {
        if (clip.dim() != 2 || clip.size(1) != m_model->config().inputDim)
            throw InputError("VQ-VAE training: a clip has shape " + shapeString(clip) +
                             ", expected (T, " + std::to_string(m_model->config().inputDim) + ")");
        if (clip.size(0) >= m_options.windowFrames)
            m_clips.push_back(clip.to(torch::kFloat).contiguous());
    }
    if (m_clips.empty())
        throw InputError("VQ-VAE training: no clip has " + std::to_string(m_options.windowFrames) +
                         " frames or more");
    m_optimizer = std::make_unique<torch::optim::AdamW>(
        m_model->parameters(), torch::optim::AdamWOptions(m_options.learningRate)
                                   .betas({0.9, 0.99})
                                   .weight_decay(m_options.weightDecay));
    // Linear warm-up, then constant. The scheduler runs one step ahead so that the first step
    // trains at lr/warmup, as these trainers always have (HF's schedules start at 0).
    m_scheduler = std::make_unique<LrScheduler>(*m_optimizer, ScheduleKind::Constant,
                                                m_options.warmupSteps, m_options.warmupSteps + 1);
    m_scheduler->setStepCount(1);
}

VqVaeTrainer::~VqVaeTrainer() = default;

at::Tensor VqVaeTrainer::sampleBatch()
{
    std::vector<at::Tensor> windows;
    std::uniform_int_distribution<std::size_t> pickClip(0, m_clips.size() - 1);
    for (std::int64_t i = 0; i < m_options.batchSize; ++i) {
        const auto &clip = m_clips[pickClip(m_rng)];
        std::uniform_int_distribution<std::int64_t> pickStart(0, clip.size(0) -
                                                                     m_options.windowFrames);
        windows.push_back(clip.narrow(0, pickStart(m_rng), m_options.windowFrames));
    }
    return torch::stack(windows);
}

VqVaeStepStats VqVaeTrainer::step()
{
    m_model->train();
    const auto device = m_model->quantizer->codebook.device();
    const auto batch = sampleBatch().to(device);

    const auto out = m_model->forward(batch);
    const auto losses =
        vqvaeLosses(out.reconstruction, batch, out.commitLoss, m_options.lossWeights);
    m_optimizer->zero_grad();
    losses.total.backward();
    m_optimizer->step();
    m_scheduler->step();
    ++m_step;
    if (!std::isfinite(losses.total.item<double>()))
        throw std::runtime_error("VQ-VAE training diverged at step " + std::to_string(m_step) +
                                 " (loss is not finite)");
    return {.step = m_step,
            .loss = losses.total.item<double>(),
            .feature = losses.feature.item<double>(),
            .velocity = losses.velocity.item<double>(),
            .commit = losses.commit.item<double>(),
            .perplexity = out.perplexity.item<double>()};
}

double VqVaeTrainer::evaluate(const std::vector<at::Tensor> &clips)
{
    torch::NoGradGuard noGrad;
    m_model->eval();
    const auto down = m_model->config().downsampling();
    const auto device = m_model->quantizer->codebook.device();
    double total = 0.0;
    std::int64_t count = 0;
    for (const auto &clip : clips) {
        const auto frames = clip.size(0) / down * down;
        if (frames < down)
            continue;
        const auto x = clip.narrow(0, 0, frames).to(device, torch::kFloat).unsqueeze(0);
        const auto rec = m_model->decode(m_model->encode(x));
        total += (rec - x).abs().mean().item<double>();
        ++count;
    }
    m_model->train();
    return count ? total / static_cast<double>(count) : 0.0;
}

void VqVaeTrainer::saveCheckpoint(const std::filesystem::path &directory) const
{
    std::filesystem::create_directories(directory);
    auto tensors = moduleStateDict(*m_model);
    if (m_model->quantizer->initialized()) {
        tensors["ema.code_sum"] = m_model->quantizer->codeSum();
        tensors["ema.code_count"] = m_model->quantizer->codeCount();
    }
    std::ostringstream rng;
    rng << m_rng;
    writeSafetensors(directory / "vqvae_state.safetensors", tensors,
                     {{"step", std::to_string(m_step)}, {"rng", rng.str()}});
    torch::save(*m_optimizer, (directory / "vqvae_optimizer.pt").string());
}

void VqVaeTrainer::loadCheckpoint(const std::filesystem::path &directory)
{
    const auto path = directory / "vqvae_state.safetensors";
    SafetensorsReader reader(path);
    const auto tensors = reader.readAll();
    LoadStateOptions options;
    options.ignored = {"ema.code_sum", "ema.code_count"};
    loadStateDict(*m_model, tensors, path.filename().string(), options);
    if (tensors.count("ema.code_sum") && tensors.count("ema.code_count"))
        m_model->quantizer->setEmaState(tensors.at("ema.code_sum"), tensors.at("ema.code_count"));
    else
        m_model->quantizer->setCodebook(m_model->quantizer->codebook.clone());
    const auto &meta = reader.metadata();
    try {
        m_step = std::stoll(meta.at("step"));
        std::istringstream rng(meta.at("rng"));
        rng >> m_rng;
    } catch (const std::exception &) {
        throw InputError(path.filename().string() + ": missing or bad step/rng metadata");
    }
    torch::load(*m_optimizer, (directory / "vqvae_optimizer.pt").string());
    m_scheduler->setStepCount(m_step + 1); // one ahead, as in the constructor
}

} // namespace mp
