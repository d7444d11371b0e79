// DPO training speed on a model bundle (default: the embedded one): optimizer steps per second
// at batch 64 (chosen + rejected through the LoRA policy, the reference through the same model
// with its adapter disabled, backward, AdamW), and the ratio to one teacher-forced forward of the
// same 128 sequences without gradient (same process, same batch), with wall and CPU time.
//   bench_dpo_step [bundle=the embedded default] [steps=5] [batch=64]

#include "ml/core/blas_threads.h"
#include "ml/core/device.h"
#include "ml/core/memory_policy.h"
#include "ml/core/paths.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/preference_data.h"
#include "ml/train/t5_policy.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

namespace {

double cpuSeconds()
{
    return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

double wallSeconds()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Pairs of typical corpus length: a 10-word prompt, 20..45 motion codes each side.
mp::PreferenceBatch randomBatch(mp::ModelBundle &bundle, std::int64_t batch, std::mt19937 &rng)
{
    const auto &tokenizer = bundle.tokenizer();
    std::vector<std::vector<std::int64_t>> prompts, masks, chosen, rejected;
    std::uniform_int_distribution<std::int64_t> code(0, bundle.config().tokens.numMotionCodes - 1);
    std::uniform_int_distribution<int> length(20, 45);
    for (std::int64_t i = 0; i < batch; ++i) {
        prompts.push_back(bundle.encodePrompt("a person walks forward slowly then turns left"));
        masks.emplace_back(prompts.back().size(), 1);
        for (auto *side : {&chosen, &rejected}) {
            std::vector<std::int64_t> codes(static_cast<std::size_t>(length(rng)));
            for (auto &c : codes)
                c = code(rng);
            side->push_back(mp::motionLabels(tokenizer, codes, 128));
        }
    }
    return {.promptIds = mp::padRows(prompts, tokenizer.padId()),
            .promptMask = mp::padRows(masks, 0),
            .chosenLabels = mp::padRows(chosen, mp::kIgnoreLabel),
            .rejectedLabels = mp::padRows(rejected, mp::kIgnoreLabel)};
}

} // namespace

int main(int argc, char **argv)
{
    mp::configureTorchThreads();
    mp::keepFreedMemoryForReuse();             // as a training run's process does (runTraining)
    mp::useBlasThreads(at::get_num_threads()); // so does this
    const std::string bundleDir = argc > 1 ? argv[1] : mp::defaultModelDir().string();
    const int steps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const std::int64_t batch = argc > 3 ? std::max(1, std::atoi(argv[3])) : 64;

    mp::ModelBundle bundle(bundleDir);
    mp::applyLora(*bundle.t5(), {.rank = 8, .alpha = 16, .targetModules = {"q", "v"}});
    mp::T5Policy policy(bundle.t5());
    mp::DpoTrainer trainer(
        policy, {.loss = {.type = mp::DpoLossType::Ipo, .beta = 0.1}, .totalSteps = steps + 1});
    std::mt19937 rng(7);
    const auto pairs = randomBatch(bundle, batch, rng);

    trainer.step({pairs}); // warm-up
    double wall = wallSeconds(), cpu = cpuSeconds();
    for (int i = 0; i < steps; ++i)
        trainer.step({pairs});
    const double stepWall = (wallSeconds() - wall) / steps;
    const double stepCpu = (cpuSeconds() - cpu) / steps;

    // Reference: one forward of the same 2B sequences, no gradient.
    const auto labels = mp::concatenatedLabels(pairs.chosenLabels, pairs.rejectedLabels);
    const auto forward = [&] {
        torch::NoGradGuard noGrad;
        policy.forward(pairs.promptIds.repeat({2, 1}), pairs.promptMask.repeat({2, 1}), labels);
    };
    forward();
    wall = wallSeconds();
    cpu = cpuSeconds();
    for (int i = 0; i < steps; ++i)
        forward();
    const double forwardWall = (wallSeconds() - wall) / steps;
    const double forwardCpu = (cpuSeconds() - cpu) / steps;

    std::printf("bundle %s, batch %lld pairs, %d threads\n", bundleDir.c_str(),
                static_cast<long long>(batch), at::get_num_threads());
    std::printf("DPO step        %8.3f s wall  %8.3f s CPU  %6.3f steps/s\n", stepWall, stepCpu,
                1.0 / stepWall);
    std::printf("forward (ref)   %8.3f s wall  %8.3f s CPU\n", forwardWall, forwardCpu);
    std::printf("step / forward  %8.2fx wall   %8.2fx CPU\n", stepWall / forwardWall,
                stepCpu / forwardCpu);
    return 0;
}
