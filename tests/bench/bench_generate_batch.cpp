// Batched generation over different prompts against one prompt at a time, on the embedded default
// bundle: the same prompts and seeds (sampling at temperature 1, top-k 50, real EOM stops), as
// motion tokens/s of the T5 loop alone and as motions/s of the whole pipeline (VQ-VAE decode and
// joints included). Prints each batch size's ratio to the one-at-a-time run of this process.
// Each figure is the best of `repeats` runs, the runs of all batch sizes interleaved, so that a
// shared, loaded machine slows them alike.
//   bench_generate_batch [prompts=128] [threads=1] [repeats=3] [bundle=default]

#include "ml/core/paths.h"
#include "ml/models/bundle.h"
#include "ml/models/sampler_loop.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Different captions of different lengths, like a test split's.
std::vector<std::string> makePrompts(std::size_t count)
{
    const char *who[] = {"a person", "a man", "someone", "the figure"};
    const char *what[] = {"walks forward",
                          "runs in a circle",
                          "jumps up and down twice",
                          "waves with the right hand",
                          "kicks with the left leg",
                          "turns around slowly and then sits down",
                          "crouches",
                          "dances"};
    const char *how[] = {"", " and stops", " then walks back to where they started",
                         " while raising both arms above the head"};
    std::vector<std::string> prompts;
    for (std::size_t i = 0; prompts.size() < count; ++i)
        prompts.push_back(std::string(who[i % 4]) + " " + what[(i / 4) % 8] + how[(i / 32) % 4]);
    return prompts;
}

struct Run {
    double seconds = 0.0;
    std::int64_t tokens = 0;
};

} // namespace

int main(int argc, char **argv)
{
    const auto count = static_cast<std::size_t>(argc > 1 ? std::max(1, std::atoi(argv[1])) : 128);
    torch::set_num_threads(argc > 2 ? std::max(1, std::atoi(argv[2])) : 1);
    const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
    const auto dir = argc > 4 ? std::filesystem::path(argv[4]) : mp::defaultModelDir();
    mp::ModelBundle bundle(dir);
    const auto prompts = makePrompts(count);
    std::vector<std::uint64_t> seeds;
    for (std::size_t i = 0; i < count; ++i)
        seeds.push_back(1000 + i);
    std::vector<std::vector<std::int64_t>> ids;
    for (const auto &p : prompts)
        ids.push_back(bundle.encodePrompt(p));
    const std::vector<std::int64_t> stops = {bundle.config().tokens.eomId(),
                                             bundle.tokenizer().eosId()};
    std::printf("%s: %zu different prompts, %d thread(s)\n", dir.string().c_str(), count,
                torch::get_num_threads());

    // T5 token loop: rows of `batch` prompts per call (1 = one at a time).
    auto tokenLoop = [&](std::size_t batch) {
        Run run;
        const auto start = Clock::now();
        for (std::size_t begin = 0; begin < count; begin += batch) {
            const auto end = std::min(count, begin + batch);
            auto options = bundle.defaultOptions({seeds.begin() + begin, seeds.begin() + end});
            const auto out = mp::generateTokensBatch(
                bundle.t5(), {ids.begin() + begin, ids.begin() + end}, stops, options);
            for (const auto &seq : out.sequences)
                run.tokens += static_cast<std::int64_t>(seq.size());
        }
        run.seconds = secondsSince(start);
        return run;
    };
    // Whole pipeline: prompts -> features and joints.
    auto pipeline = [&](std::size_t batch) {
        Run run;
        const auto start = Clock::now();
        for (std::size_t begin = 0; begin < count; begin += batch) {
            const auto end = std::min(count, begin + batch);
            auto options = bundle.defaultOptions({seeds.begin() + begin, seeds.begin() + end});
            const auto samples =
                bundle.generateBatch({prompts.begin() + begin, prompts.begin() + end}, options);
            run.tokens += static_cast<std::int64_t>(samples.size());
        }
        run.seconds = secondsSince(start);
        return run;
    };

    tokenLoop(8); // warm-up
    const std::vector<std::size_t> sizes = {1, 16, 32, 64, 128};
    std::vector<Run> tokens(sizes.size()), motions(sizes.size());
    for (int r = 0; r < repeats; ++r)
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            if (sizes[i] > count)
                continue;
            const auto t = tokenLoop(sizes[i]);
            if (r == 0 || t.seconds < tokens[i].seconds)
                tokens[i] = t;
            const auto m = pipeline(sizes[i]);
            if (r == 0 || m.seconds < motions[i].seconds)
                motions[i] = m;
        }
    auto rate = [](const Run &run) { return static_cast<double>(run.tokens) / run.seconds; };
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (sizes[i] > count)
            continue;
        std::printf("batch %3zu: tokens %6.2f s, %7.1f tokens/s, ratio %5.2f%s | motions %6.2f s, "
                    "%6.1f motions/s, ratio %5.2f\n",
                    sizes[i], tokens[i].seconds, rate(tokens[i]), rate(tokens[i]) / rate(tokens[0]),
                    tokens[i].tokens == tokens[0].tokens ? "" : " (token count differs)",
                    motions[i].seconds, rate(motions[i]), rate(motions[i]) / rate(motions[0]));
    }
    // Post-processing per motion: VQ-VAE decode of 49 codes (one at a time and batched), joints.
    {
        const auto codes =
            torch::randint(0, bundle.config().vqvae.numCodes, {64, 49}, torch::kLong);
        torch::NoGradGuard noGrad;
        bundle.vqvae()->eval();
        auto start = Clock::now();
        for (int i = 0; i < 64; ++i)
            bundle.vqvae()->decode(codes[i]);
        const double one = secondsSince(start) / 64;
        start = Clock::now();
        const auto batched = bundle.vqvae()->decode(codes);
        const double batch = secondsSince(start) / 64;
        start = Clock::now();
        for (int i = 0; i < 64; ++i)
            mp::recoverFromRic(batched[i]);
        const double joints = secondsSince(start) / 64;
        std::printf("per motion of 49 codes: VQ-VAE decode %.1f ms alone, %.1f ms in a batch of "
                    "64 (ratio %.2f); joints %.1f ms\n",
                    1000 * one, 1000 * batch, one / batch, 1000 * joints);
    }
    return 0;
}
