// The HumanML3D evaluation protocol (evaluateBundleJob, what `motionpref-cli eval` runs) on the
// embedded default bundle, timed: wall and process CPU time, the load average before and after,
// each stage's seconds, and the paper row. The same seeds give the same metrics at any
// --threads (the generation batches are the same; each runs on one core), so runs at 1 and 2
// threads can be compared figure by figure.
//   bench_eval_protocol DATASET [replications=1] [mm-texts=100] [gen-threads=0] [out.json] [int8]
// gen-threads 0: as many as LibTorch's intra-op threads (OMP_NUM_THREADS). int8: generation reads
// int8 weights (GenerateOptions::int8Weights, `motionpref-cli eval --int8`).

#include "ml/core/device.h"
#include "ml/core/paths.h"
#include "ml/eval/bundle_eval.h"

#include <torch/torch.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

double processCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) { return double(t.tv_sec) + 1e-6 * t.tv_usec; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_eval_protocol DATASET [replications=1] [mm-texts=100] "
                             "[gen-threads=0] [out.json] [int8]\n");
        return 2;
    }
    mp::configureTorchThreads(); // as motionpref-cli: OMP_NUM_THREADS, else every core
    mp::BundleEvaluationJob job;
    job.modelDir = mp::defaultModelDir();
    job.datasetRoot = argv[1];
    job.options.replications = argc > 2 ? std::atoi(argv[2]) : 1;
    job.options.mmNumTexts = argc > 3 ? std::atoll(argv[3]) : 100;
    job.generationThreads = argc > 4 ? std::atoi(argv[4]) : 0;
    if (argc > 5)
        job.outJson = argv[5];
    job.int8Weights = argc > 6 && std::string(argv[6]) == "int8";
    const std::string loadBefore = loadAverage();
    const auto start = std::chrono::steady_clock::now();
    const double cpuStart = processCpuSeconds();
    const auto result = mp::evaluateBundleJob(job);
    const double cpu = processCpuSeconds() - cpuStart;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s\n", mp::paperTableRow(result).c_str());
    std::printf("ground truth: %s\n", mp::paperTableRow(result, true).c_str());
    std::printf("%d replications of %lld motions, %lld MultiModality texts, intra-op threads %d, "
                "generation threads %d%s\n",
                result.replications, static_cast<long long>(result.numSamples),
                static_cast<long long>(job.options.mmNumTexts), at::get_num_threads(),
                job.generationThreads, job.int8Weights ? ", int8 weights" : "");
    for (const auto &[stage, seconds] : result.secondsByStage)
        std::printf("  %-40s %8.2f s\n", stage.c_str(), seconds);
    std::printf("wall %.1f s, process CPU %.1f s, load average before %s, after %s\n", wall, cpu,
                loadBefore.c_str(), loadAverage().c_str());
    return 0;
}
