#include "ml/data/corpus/corpus_builder.h"

#include "ml/core/error.h"
#include "ml/data/corpus/clip_kinematics.h"
#include "ml/data/corpus/composer.h"
#include "ml/data/corpus/lexicon.h"
#include "ml/data/corpus/rng.h"
#include "ml/data/normalizer.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "ml/motion/skeleton.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

namespace fs = std::filesystem;

namespace mp::corpus {
namespace {

constexpr std::uint64_t kSplitStream = 0x73706c6974ull; // "split"

enum class Split : std::uint8_t { Train, Val, Test };

const char *splitName(Split split)
{
    return split == Split::Train ? "train" : (split == Split::Val ? "val" : "test");
}

// A deterministic shuffle of the clip indices, cut 80/5/15 (HumanML3D's proportions).
std::vector<Split> assignSplits(const CorpusOptions &options)
{
    const int n = options.numClips;
    std::vector<int> order(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        order[std::size_t(i)] = i;
    ClipRng rng(options.seed ^ kSplitStream, 0);
    for (int i = n - 1; i > 0; --i)
        std::swap(order[std::size_t(i)], order[std::size_t(rng.integer(0, i))]);
    const int numTrain = static_cast<int>(std::lround(options.trainFraction * n));
    const int numVal =
        std::min(n - numTrain, static_cast<int>(std::lround(options.valFraction * n)));
    std::vector<Split> splits(std::size_t(n), Split::Test);
    for (int k = 0; k < n; ++k)
        splits[std::size_t(order[std::size_t(k)])] =
            k < numTrain ? Split::Train : (k < numTrain + numVal ? Split::Val : Split::Test);
    return splits;
}

void writeText(const fs::path &path, const std::string &text)
{
    const fs::path tmp = fs::path(path) += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out)
            throw InputError(path.string() + ": cannot write");
    }
    fs::rename(tmp, path);
}

double rounded(double value, double unit)
{
    return std::round(value / unit) * unit;
}

nlohmann::json segmentJson(const Segment &seg)
{
    return {{"action", std::string(actionName(seg.action))},
            {"start", seg.startFrame},
            {"end", seg.endFrame},
            {"params",
             {{"speed", std::string(speedName(seg.params.speed))},
              {"side", std::string(sideName(seg.params.side))},
              {"repetitions", seg.params.repetitions},
              {"amplitude", rounded(seg.params.amplitude, 0.01)},
              {"angle_deg", seg.params.angleDeg}}}};
}

// What one clip contributes to the corpus-wide files.
struct ClipOutput {
    nlohmann::json manifest;
    std::vector<double> sum, sumSq; // per feature dimension, train clips only
    std::int64_t featureFrames = 0;
    int frames = 0;
};

ClipOutput buildClip(const fs::path &out, std::uint64_t seed, int index, Split split)
{
    const ComposedClip clip = composeClip(seed, index);
    const Skeleton skeleton = bodySkeleton(clip.plan.body);
    const at::Tensor joints = canonicalizeJoints(solveJoints(clip, skeleton));
    const at::Tensor features =
        extractFeatures(joints, FeatureOptions{.canonicalize = false}).to(torch::kFloat32);
    const std::string id = clipId(index);
    npy::write(out / "new_joints" / (id + ".npy"), joints);
    npy::write(out / "new_joint_vecs" / (id + ".npy"), features);
    std::string text;
    for (const std::string &caption : clip.plan.captions)
        text += humanml3dTextLine(caption) + "\n";
    writeText(out / "texts" / (id + ".txt"), text);

    ClipOutput result;
    result.frames = clip.plan.numFrames;
    if (split == Split::Train) {
        const auto f = features.to(torch::kFloat64);
        const auto sum = f.sum(0).contiguous(), sumSq = (f * f).sum(0).contiguous();
        result.sum.assign(sum.data_ptr<double>(), sum.data_ptr<double>() + sum.numel());
        result.sumSq.assign(sumSq.data_ptr<double>(), sumSq.data_ptr<double>() + sumSq.numel());
        result.featureFrames = f.size(0);
    }
    nlohmann::json segments = nlohmann::json::array();
    for (const Segment &seg : clip.plan.segments)
        segments.push_back(segmentJson(seg));
    const BodyShape &b = clip.plan.body;
    result.manifest = {{"id", id},
                       {"frames", clip.plan.numFrames},
                       {"split", splitName(split)},
                       {"body",
                        {{"height_scale", rounded(b.heightScale, 0.001)},
                         {"leg_scale", rounded(b.legScale, 0.001)},
                         {"arm_scale", rounded(b.armScale, 0.001)},
                         {"torso_scale", rounded(b.torsoScale, 0.001)}}},
                       {"segments", segments},
                       {"captions", clip.plan.captions}};
    return result;
}

// Mean and grouped std of the train features. The per-clip sums are added in clip order, so
// the result does not depend on which thread built which clip. Normalizer::fit only needs the
// first two moments: two rows mean +- std have exactly this mean and population std.
Normalizer trainStatistics(const std::vector<ClipOutput> &clips)
{
    std::vector<double> sum(kFeatureDim, 0.0), sumSq(kFeatureDim, 0.0);
    std::int64_t count = 0;
    for (const ClipOutput &clip : clips) {
        if (clip.featureFrames == 0)
            continue;
        for (int d = 0; d < kFeatureDim; ++d) {
            sum[std::size_t(d)] += clip.sum[std::size_t(d)];
            sumSq[std::size_t(d)] += clip.sumSq[std::size_t(d)];
        }
        count += clip.featureFrames;
    }
    if (count < 2)
        throw InputError("corpus: too few training frames for Mean/Std (build more clips)");
    auto rows = torch::empty({2, kFeatureDim}, torch::kFloat64);
    for (int d = 0; d < kFeatureDim; ++d) {
        const double mean = sum[std::size_t(d)] / double(count);
        const double var = std::max(0.0, sumSq[std::size_t(d)] / double(count) - mean * mean);
        rows[0][d] = mean - std::sqrt(var);
        rows[1][d] = mean + std::sqrt(var);
    }
    const Normalizer fitted = Normalizer::fit(rows, true);
    return Normalizer(fitted.mean().to(torch::kFloat32), fitted.std().to(torch::kFloat32));
}

std::string idList(const std::vector<Split> &splits, std::optional<Split> which)
{
    std::string text;
    for (std::size_t i = 0; i < splits.size(); ++i)
        if (!which || splits[i] == *which)
            text += clipId(static_cast<int>(i)) + "\n";
    return text;
}

} // namespace

std::string clipId(int index)
{
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%06d", index);
    return buffer;
}

CorpusSummary buildCorpus(const fs::path &out, const CorpusOptions &options,
                          const ProgressFn &progress)
{
    if (options.numClips < 1 || options.numClips > 999999)
        throw InputError("corpus: the number of clips must be 1..999999, got " +
                         std::to_string(options.numClips));
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    for (const char *sub : {"new_joints", "new_joint_vecs", "texts"}) {
        fs::create_directories(out / sub, ec);
        if (ec)
            throw InputError((out / sub).string() + ": cannot create: " + ec.message());
    }
    const std::vector<Split> splits = assignSplits(options);
    std::vector<ClipOutput> clips(static_cast<std::size_t>(options.numClips));

    const int threads = std::clamp(
        options.threads > 0 ? options.threads : int(std::thread::hardware_concurrency()), 1, 64);
    std::atomic<int> next{0}, done{0};
    std::atomic<bool> stop{false};
    std::exception_ptr failure;
    std::mutex failureMutex;
    const int torchThreadsBefore = at::get_num_threads();
    const auto worker = [&] {
        // Clips are small: one intra-op thread per worker, parallelism comes from the clips.
        at::set_num_threads(1);
        torch::NoGradGuard noGrad;
        while (!stop) {
            const int index = next++;
            if (index >= options.numClips)
                break;
            try {
                clips[std::size_t(index)] =
                    buildClip(out, options.seed, index, splits[std::size_t(index)]);
            } catch (...) {
                std::lock_guard lock(failureMutex);
                if (!failure)
                    failure = std::current_exception();
                stop = true;
            }
            ++done;
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < std::min(threads, options.numClips); ++t)
        pool.emplace_back(worker);
    bool cancelled = false;
    while (done < options.numClips && !stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (progress && !progress(done, options.numClips, "clips")) {
            cancelled = true;
            stop = true;
        }
    }
    for (std::thread &t : pool)
        t.join();
    at::set_num_threads(torchThreadsBefore);
    if (failure)
        std::rethrow_exception(failure);
    if (cancelled)
        throw Cancelled();
    reportProgress(progress, options.numClips, options.numClips, "clips");

    CorpusSummary summary;
    summary.numClips = options.numClips;
    nlohmann::json entries = nlohmann::json::array();
    for (int a = 0; a < kNumActions; ++a)
        summary.actionCounts[std::string(actionName(Action(a)))] = 0;
    for (std::size_t i = 0; i < clips.size(); ++i) {
        summary.numFrames += clips[i].frames;
        for (const auto &seg : clips[i].manifest["segments"])
            ++summary.actionCounts[seg["action"].get<std::string>()];
        entries.push_back(std::move(clips[i].manifest));
        summary.numTrain += splits[i] == Split::Train;
        summary.numVal += splits[i] == Split::Val;
        summary.numTest += splits[i] == Split::Test;
    }
    trainStatistics(clips).saveDirectory(out);
    writeText(out / "train.txt", idList(splits, Split::Train));
    writeText(out / "val.txt", idList(splits, Split::Val));
    writeText(out / "test.txt", idList(splits, Split::Test));
    writeText(out / "all.txt", idList(splits, std::nullopt));
    const nlohmann::json manifest{
        {"format", "motionpref-procedural-corpus"},
        {"version", kCorpusVersion},
        {"seed", options.seed},
        {"fps", 20},
        {"num_clips", options.numClips},
        {"splits",
         {{"train", summary.numTrain}, {"val", summary.numVal}, {"test", summary.numTest}}},
        {"action_counts", summary.actionCounts},
        {"clips", entries}};
    writeText(out / "manifest.json", manifest.dump(1) + "\n");
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

} // namespace mp::corpus
