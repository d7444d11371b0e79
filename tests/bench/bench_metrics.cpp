// Benchmark of the HumanML3D metrics and of a full 20-replication evaluation.
// Prints times and ratios against reference computations run in the same process:
//   FID: our symmetric-eigh square root vs the textbook sqrtm of the non-symmetric Sigma1 Sigma2
//        (general eigendecomposition, complex, real part), also comparing the values;
//   R-precision ranks: our rank counting vs a full argsort per row;
//   distances: our |x|^2+|y|^2-2xy vs torch::cdist.
// Then a 20-replication evaluation (copy generator: the time of the protocol and the evaluator,
// without a model) on a synthetic test split, with the time per stage.
// Usage: bench_metrics [numTestMotions=1000] [replications=20] [t2m]  (t2m: also T2M-size nets)

#include "ml/core/device.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"
#include "ml/eval/metrics.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

template <typename F> double secondsPerCall(F &&f, int repeats)
{
    f(); // warm-up
    const auto begin = Clock::now();
    for (int i = 0; i < repeats; ++i)
        f();
    return std::chrono::duration<double>(Clock::now() - begin).count() / repeats;
}

// Reference FID as scipy.linalg.sqrtm would be used: the square root of the non-symmetric
// product through its (complex) eigendecomposition, real part of the trace.
double referenceFid(const at::Tensor &a, const at::Tensor &b)
{
    const auto sa = mp::gaussianStats(a);
    const auto sb = mp::gaussianStats(b);
    const auto product = torch::matmul(sa.cov, sb.cov);
    auto [values, vectors] = torch::linalg::eig(product);
    const auto root =
        torch::matmul(vectors * values.sqrt().unsqueeze(0), torch::linalg::inv(vectors));
    const double trace = torch::real(root.diagonal().sum()).item<double>();
    return (sa.mean - sb.mean).pow(2).sum().item<double>() + sa.cov.trace().item<double>() +
           sb.cov.trace().item<double>() - 2.0 * trace;
}

std::array<std::int64_t, 3> referenceTopK(const at::Tensor &d)
{
    const auto order = d.argsort(1, false);
    std::array<std::int64_t, 3> hits{};
    for (std::int64_t i = 0; i < d.size(0); ++i)
        for (int k = 0; k < 3; ++k)
            if ((order[i].slice(0, 0, k + 1) == i).any().item<bool>())
                ++hits[k];
    return hits;
}

void benchMetrics(std::int64_t n)
{
    torch::manual_seed(1);
    const auto texts = torch::randn({n, 512}, torch::kFloat64);
    const auto motions = texts + torch::randn({n, 512}, torch::kFloat64);
    const auto other = torch::randn({n, 512}, torch::kFloat64) * 1.1 + 0.2;

    double ours = 0, reference = 0;
    const double tOurs = secondsPerCall([&] { ours = mp::fid(motions, other); }, 3);
    const double tRef = secondsPerCall([&] { reference = referenceFid(motions, other); }, 3);
    std::printf("FID (N=%lld, D=512): ours %.1f ms, reference sqrtm(S1 S2) %.1f ms, ratio %.2f; "
                "values %.6f vs %.6f\n",
                static_cast<long long>(n), tOurs * 1e3, tRef * 1e3, tRef / tOurs, ours, reference);

    const auto d = mp::euclideanDistanceMatrix(texts.slice(0, 0, 32), motions.slice(0, 0, 32));
    const double tRank = secondsPerCall([&] { mp::topKHits(d); }, 200);
    const double tSort = secondsPerCall([&] { referenceTopK(d); }, 20);
    const bool same = mp::topKHits(d) == referenceTopK(d);
    std::printf("top-k of a 32x32 group: ours %.3f ms, argsort reference %.3f ms, ratio %.1f, "
                "same hits: %s\n",
                tRank * 1e3, tSort * 1e3, tSort / tRank, same ? "yes" : "NO");

    const double tDist = secondsPerCall([&] { mp::euclideanDistanceMatrix(texts, motions); }, 3);
    const double tCdist = secondsPerCall([&] { torch::cdist(texts, motions); }, 3);
    std::printf("distance matrix %lldx%lld: ours %.1f ms, cdist %.1f ms, ratio %.2f\n",
                static_cast<long long>(n), static_cast<long long>(n), tDist * 1e3, tCdist * 1e3,
                tCdist / tDist);

    mp::MetricRng rng(1);
    const double tMatch = secondsPerCall([&] { mp::matchingMetrics(texts, motions, rng); }, 3);
    const double tDiv = secondsPerCall([&] { mp::diversity(motions, rng); }, 10);
    const auto mm = torch::randn({100, 30, 512}, torch::kFloat64);
    const double tMm = secondsPerCall([&] { mp::multimodality(mm, rng); }, 10);
    std::printf("per replication: R-precision+MM-Dist %.1f ms, Diversity %.2f ms, "
                "MultiModality %.2f ms, FID %.1f ms\n",
                tMatch * 1e3, tDiv * 1e3, tMm * 1e3, tOurs * 1e3);
}

void benchEvaluation(const char *name, mp::EvaluatorConfig config, int numMotions, int replications)
{
    torch::manual_seed(2);
    mp::EvalDataset dataset;
    std::vector<std::vector<mp::TaggedWord>> tagged;
    for (int i = 0; i < numMotions; ++i) {
        const int frames = 40 + (i * 37) % 157;
        mp::EvalSample s;
        s.name = std::to_string(i);
        s.features = torch::randn({frames, 263});
        const std::string text =
            "a person walks forward and turns left number " + std::string(1, char('a' + i % 26));
        s.captions.push_back({text, {}});
        tagged.push_back(mp::tagCaption(text));
        dataset.samples.push_back(std::move(s));
    }
    dataset.mean = torch::zeros({263});
    dataset.std = torch::ones({263});
    const auto vocabulary = mp::WordVocabulary::fromCaptions(tagged);
    config.vocabSize = vocabulary.size();
    mp::TextMotionEvaluator evaluator(config);
    mp::EvaluationOptions options;
    options.replications = replications;
    const auto generator = [&](const std::vector<mp::GenerationRequest> &requests) {
        std::vector<at::Tensor> out;
        for (const auto &r : requests)
            out.push_back(dataset.samples[r.sampleIndex].features);
        return out;
    };
    const auto begin = Clock::now();
    const auto result = mp::evaluateModel(*evaluator, vocabulary, dataset, generator, options);
    const double total = std::chrono::duration<double>(Clock::now() - begin).count();
    std::printf("%s evaluator, %d motions, %d replications (copy generator): %.1f s total\n", name,
                numMotions, replications, total);
    for (const auto &[stage, seconds] : result.secondsByStage)
        std::printf("  %-42s %7.1f s (%4.1f%%)\n", stage.c_str(), seconds, 100.0 * seconds / total);
}

} // namespace

int main(int argc, char **argv)
{
    const int numMotions = argc > 1 ? std::atoi(argv[1]) : 1000;
    const int replications = argc > 2 ? std::atoi(argv[2]) : 20;
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // lines appear as they are measured
    mp::configureTorchThreads();
    torch::NoGradGuard noGrad;
    std::printf("threads: %d\n", at::get_num_threads());
    benchMetrics(4384); // the size of HumanML3D's test split
    benchEvaluation("small (default bundle)", mp::EvaluatorConfig::small(3), numMotions,
                    replications);
    if (argc > 3 && std::string(argv[3]) == "t2m")
        benchEvaluation("T2M-size", mp::EvaluatorConfig::t2m(3), numMotions,
                        std::min(replications, 2));
    return 0;
}
