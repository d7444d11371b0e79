// Sampling speed of the T5 motion generator: one pair (two samples of up to 49 motion tokens +
// SOM/EOM, batched) with and without the KV cache, on a small default-sized model with random
// weights. Prints tokens/s, ms per pair and the cached/uncached ratio (same process, same model).
//   bench_sampling [repeats=5] [threads=hardware threads]

#include "ml/core/device.h"
#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

mp::T5Config defaultSizedConfig()
{
    mp::T5Config c;
    c.vocabSize = 1000 + 515; // text pieces + 512 codes + SOM/EOM/mask
    c.dModel = 256;
    c.dKv = 64;
    c.dFf = 1024;
    c.numLayers = 4;
    c.numDecoderLayers = 4;
    c.numHeads = 4;
    c.feedForwardProj = "gated-gelu";
    c.tieWordEmbeddings = false;
    return c;
}

struct Timing {
    double msPerPair;
    double tokensPerSecond;
};

Timing measure(mp::T5Model &model, bool useCache, int repeats)
{
    const std::vector<std::int64_t> prompt = {13, 87, 402, 9, 55, 301, 17, 1};
    const mp::GenerateOptions options{.sampling = {.temperature = 1.0, .topK = 50},
                                      .seeds = {1, 2},
                                      .maxMotionTokens = 49,
                                      .useCache = useCache};
    // No stop ids: every run decodes the full 51 steps, so runs are comparable.
    mp::generateTokens(model, prompt, {}, options); // warm-up
    std::vector<double> ms;
    std::int64_t tokens = 0;
    double total = 0.0;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto out = mp::generateTokens(model, prompt, {}, options);
        const auto elapsed =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        ms.push_back(elapsed);
        total += elapsed;
        for (const auto &seq : out.sequences)
            tokens += static_cast<std::int64_t>(seq.size());
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], 1000.0 * static_cast<double>(tokens) / total};
}

} // namespace

int main(int argc, char **argv)
{
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    mp::configureTorchThreads();
    // On a loaded machine fewer threads than cores avoids waiting on descheduled workers.
    if (argc > 2)
        torch::set_num_threads(std::max(1, std::atoi(argv[2])));
    torch::manual_seed(0);
    mp::T5Model model(defaultSizedConfig());
    std::printf("T5 d_model 256, 4+4 layers, 4 heads, d_ff 1024, vocab 1515; %d threads\n",
                torch::get_num_threads());
    const auto cached = measure(model, true, repeats);
    const auto uncached = measure(model, false, repeats);
    std::printf("cached:   %8.1f ms per pair (median of %d), %8.1f tokens/s\n", cached.msPerPair,
                repeats, cached.tokensPerSecond);
    std::printf("uncached: %8.1f ms per pair (median of %d), %8.1f tokens/s\n", uncached.msPerPair,
                repeats, uncached.tokensPerSecond);
    std::printf("ratio cached/uncached tokens/s: %.2f\n",
                cached.tokensPerSecond / uncached.tokensPerSecond);
    return 0;
}
