// Time of one labeling pair on a model bundle (the embedded default unless a path is given): two
// samples of up to 49 motion tokens, batched, from prompt to joints. Prints the median ms per
// pair and per stage (encoder, decoder steps, VQ-VAE decode, recoverFromRic), and tokens/s of the
// decoder with and without the KV cache, as ratios against the no-cache path measured in the same
// process on the same model. No assertion on times: a loaded machine only shifts the figures.
//   bench_pair [bundle=default] [runs=20] [threads=hardware threads] [profile]
// "profile" runs only the cached decoder loop, for `perf record`.

#include "ml/core/device.h"
#include "ml/core/paths.h"
#include "ml/models/bundle.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace {

const char *const kPrompt = "a person walks forward slowly then turns left and waves";

struct Timing {
    double wallMs = 0.0;
    double cpuMs = 0.0; // process CPU time: on a machine shared with other jobs, what the work
                        // itself costs (with one thread, the wall time on an idle core)
};

Timing median(int runs, const std::function<void()> &work)
{
    work(); // warm-up: allocator, thread pool, first-call dispatch
    std::vector<double> wall;
    std::vector<double> cpu;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto cpuStart = std::clock();
        work();
        cpu.push_back(1000.0 * static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC);
        wall.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

double medianMs(int runs, const std::function<void()> &work)
{
    return median(runs, work).wallMs;
}

} // namespace

int main(int argc, char **argv)
{
    const std::filesystem::path dir = argc > 1 && std::string(argv[1]) != "default"
                                          ? std::filesystem::path(argv[1])
                                          : mp::defaultModelDir();
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;
    mp::configureTorchThreads();
    if (argc > 3)
        torch::set_num_threads(std::max(1, std::atoi(argv[3])));
    torch::NoGradGuard noGrad;

    mp::ModelBundle bundle(dir);
    const auto &config = bundle.config();
    std::printf("bundle %s: T5 d_model %lld, %lld+%lld layers, vocab %lld; VQ-VAE width %lld; "
                "%d threads, median of %d runs\n",
                dir.string().c_str(), static_cast<long long>(config.t5.dModel),
                static_cast<long long>(config.t5.numLayers),
                static_cast<long long>(config.t5.numDecoderLayers),
                static_cast<long long>(config.t5.vocabSize),
                static_cast<long long>(config.vqvae.width), torch::get_num_threads(), runs);

    const auto promptIds = bundle.encodePrompt(kPrompt);
    const auto maxTokens = config.maxMotionTokens;
    auto options = bundle.defaultOptions({1, 2});

    // 1. The pair as the GUI asks for it: stops at end-of-motion.
    std::vector<mp::MotionSample> last;
    const auto pair = median(runs, [&] { last = bundle.generate(kPrompt, options); });
    std::printf("pair (generate, stops at EOM):  %8.1f ms   (CPU %.1f ms)   codes %zu + %zu\n",
                pair.wallMs, pair.cpuMs, last[0].codes.size(), last[1].codes.size());

    // 2. The worst case: no stop tokens, every row decodes maxTokens + SOM/EOM steps.
    const std::int64_t steps = maxTokens + 2;
    const std::vector<std::int64_t> noStops;
    auto decodeRun = [&](bool useCache) {
        auto o = options;
        o.useCache = useCache;
        return mp::generateTokens(bundle.t5(), promptIds, noStops, o);
    };
    const auto cached = median(runs, [&] { decodeRun(true); });
    const double cachedMs = cached.wallMs;
    if (argc > 4 && std::string(argv[4]) == "profile") {
        std::printf("cached decoder loop: %.1f ms\n", cachedMs);
        return 0;
    }
    const int uncachedRuns = std::max(1, runs / 4); // the slow reference: fewer runs suffice
    const double uncachedMs = medianMs(uncachedRuns, [&] { decodeRun(false); });

    // 3. Stages of the worst-case pair.
    const auto prompt = torch::tensor(promptIds, torch::kLong).unsqueeze(0);
    const double encoderMs = medianMs(runs, [&] { bundle.t5()->encode(prompt); });
    std::vector<std::int64_t> codes;
    for (std::int64_t i = 0; i < maxTokens; ++i)
        codes.push_back((i * 37) % config.vqvae.numCodes);
    at::Tensor features;
    const double vqMs = medianMs(runs, [&] { features = bundle.decodeCodes(codes); });
    const double ricMs = medianMs(runs, [&] { mp::recoverFromRic(features); });
    const double worstMs = cachedMs + 2.0 * (vqMs + ricMs);

    const double tokens = 2.0 * static_cast<double>(steps);
    std::printf("worst-case pair (2 x %lld tokens): %8.1f ms   (CPU of the decoder loop %.1f ms)\n",
                static_cast<long long>(steps), worstMs, cached.cpuMs);
    std::printf("  encoder (once per pair)        %8.2f ms\n", encoderMs);
    std::printf("  decoder steps, KV cache        %8.1f ms  (%.2f ms per step)\n",
                cachedMs - encoderMs, (cachedMs - encoderMs) / static_cast<double>(steps));
    std::printf("  VQ-VAE decode (x2)             %8.2f ms\n", 2.0 * vqMs);
    std::printf("  recoverFromRic (x2)            %8.2f ms\n", 2.0 * ricMs);
    std::printf("decoder tokens/s: cached %8.1f, uncached %8.1f (median of %d)\n",
                1000.0 * tokens / cachedMs, 1000.0 * tokens / uncachedMs, uncachedRuns);
    std::printf("ratio vs the no-cache path: cached tokens/s x%.2f; worst-case pair %.2f of the "
                "uncached pair's time\n",
                uncachedMs / cachedMs, worstMs / (uncachedMs + 2.0 * (vqMs + ricMs)));
    return 0;
}
