#include "ml/simulate/corpus_intents.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/data/npy.h"
#include "ml/simulate/motion_alignment.h"
#include "ml/simulate/motion_descriptor.h"
#include "ml/simulate/text_motion_judge.h"

namespace fs = std::filesystem;

namespace mp {
namespace {

struct ManifestClip {
    std::string id;
    std::vector<std::string> captions;
    std::vector<std::string> actions;
};

std::vector<ManifestClip> readManifestSplit(const fs::path &corpusDir, const std::string &split)
{
    const fs::path path = corpusDir / "manifest.json";
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": missing; " + corpusDir.string() +
                         " is not a corpus made by `motionpref-cli corpus build`");
    nlohmann::json manifest;
    try {
        manifest = parseJsonLimited(path.string(), in);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(path.string() + ": not JSON (" + e.what() + ")");
    }
    if (!manifest.contains("clips") || !manifest["clips"].is_array())
        throw InputError(path.string() + ": no 'clips' list");
    std::vector<ManifestClip> clips;
    for (const auto &clip : manifest["clips"]) {
        if (clip.value("split", std::string()) != split)
            continue;
        ManifestClip out;
        out.id = clip.value("id", std::string());
        if (clip.contains("captions"))
            out.captions = clip["captions"].get<std::vector<std::string>>();
        if (clip.contains("segments"))
            for (const auto &segment : clip["segments"])
                out.actions.push_back(segment.value("action", std::string()));
        if (!out.id.empty() && !out.captions.empty())
            clips.push_back(std::move(out));
    }
    if (clips.empty())
        throw InputError(path.string() + ": no clip with captions in split '" + split + "'");
    return clips;
}

// A clip's array in one of the corpus's folders (new_joints, new_joint_vecs).
at::Tensor clipArray(const fs::path &corpusDir, const char *folder, const std::string &id)
{
    const fs::path path = corpusDir / folder / (id + ".npy");
    if (!fs::exists(path))
        throw InputError(path.string() + ": missing (the manifest lists clip " + id + ")");
    return npy::read(path);
}

at::Tensor clipJoints(const fs::path &corpusDir, const std::string &id)
{
    return clipArray(corpusDir, "new_joints", id);
}

// Pairs of different clips sampled for the pose error's spread: enough for a stable spread,
// few enough to cost a fraction of a second.
constexpr int kPoseSpreadPairs = 64;

double poseErrorSpread(const fs::path &corpusDir, const std::vector<ManifestClip> &clips,
                       std::uint64_t seed)
{
    if (clips.size() < 2)
        return 1.0;
    std::mt19937_64 rng(seed ^ 0x5eedULL);
    std::vector<double> errors;
    for (int k = 0; k < kPoseSpreadPairs; ++k) {
        const auto i = static_cast<std::size_t>(rng() % clips.size());
        auto j = static_cast<std::size_t>(rng() % (clips.size() - 1));
        if (j >= i)
            ++j;
        errors.push_back(alignedPoseError(clipJoints(corpusDir, clips[i].id),
                                          clipJoints(corpusDir, clips[j].id)));
    }
    std::vector<MotionDescriptor> asDescriptors;
    for (double e : errors)
        asDescriptors.push_back({{{kPoseErrorFeature, e}}});
    return descriptorScales(asDescriptors).at(kPoseErrorFeature);
}

// Clips whose captions the judge's unit of mismatch is measured on: a stable mean distance for
// about a second of embedding.
constexpr std::size_t kJudgeSpreadClips = 256;

double judgeMismatchUnit(const fs::path &corpusDir, const std::vector<ManifestClip> &clips,
                         std::uint64_t seed, TextMotionJudge &judge)
{
    if (clips.size() < 2)
        throw InputError(corpusDir.string() + ": the judge needs at least two clips in the split");
    std::vector<std::size_t> order(clips.size());
    for (std::size_t k = 0; k < order.size(); ++k)
        order[k] = k;
    std::mt19937_64 rng(seed ^ 0x7e47ULL);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(std::min(order.size(), kJudgeSpreadClips));
    std::vector<std::string> captions;
    std::vector<at::Tensor> features;
    for (const auto index : order) {
        captions.push_back(clips[index].captions.front());
        features.push_back(clipArray(corpusDir, "new_joint_vecs", clips[index].id));
    }
    return judge.mismatchedDistance(captions, features) / kMaxFeatureMismatch;
}

} // namespace

std::vector<CorpusPrompt> drawCorpusPrompts(const fs::path &corpusDir, const std::string &split,
                                            std::int64_t count, std::uint64_t seed,
                                            const CorpusPromptOptions &options)
{
    if (!(options.poseWeight >= 0.0))
        throw InputError("the pose error's weight must be 0 or more");
    if (!(options.judgeWeight >= 0.0))
        throw InputError("the judge's weight must be 0 or more");
    if (count < 1)
        throw InputError("the number of prompts must be positive");
    const auto clips = readManifestSplit(corpusDir, split);
    std::vector<MotionDescriptor> descriptors;
    descriptors.reserve(clips.size());
    for (const auto &clip : clips)
        descriptors.push_back(describeMotion(clipJoints(corpusDir, clip.id)));
    const auto scales = descriptorScales(descriptors);
    const double poseScale =
        options.poseWeight > 0.0 ? poseErrorSpread(corpusDir, clips, seed) : 1.0;
    const bool judged = options.judge != nullptr && options.judgeWeight > 0.0;
    const double judgeUnit =
        judged ? judgeMismatchUnit(corpusDir, clips, seed, *options.judge) : 1.0;

    // Clips without replacement (a fresh shuffle each time all were used), then a caption.
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> order;
    std::vector<CorpusPrompt> prompts;
    for (std::int64_t i = 0; i < count; ++i) {
        if (order.empty()) {
            order.resize(clips.size());
            for (std::size_t k = 0; k < order.size(); ++k)
                order[k] = k;
            for (std::size_t k = order.size(); k > 1; --k)
                std::swap(order[k - 1], order[static_cast<std::size_t>(rng() % k)]);
        }
        const std::size_t index = order.back();
        order.pop_back();
        const auto &clip = clips[index];
        const auto &caption = clip.captions[static_cast<std::size_t>(rng() % clip.captions.size())];
        CorpusPrompt prompt{.clipId = clip.id,
                            .caption = caption,
                            .actions = clip.actions,
                            .intent = intentFromReference(caption, descriptors[index], scales)};
        if (options.poseWeight > 0.0) {
            prompt.referenceJoints = clipJoints(corpusDir, clip.id);
            prompt.intent.targets[kPoseErrorFeature] = {
                .value = 0.0, .scale = poseScale, .weight = options.poseWeight};
        }
        if (judged)
            prompt.intent.targets[kTextMatchFeature] = {
                .value = 0.0, .scale = judgeUnit, .weight = options.judgeWeight};
        prompts.push_back(std::move(prompt));
    }
    return prompts;
}

MotionDescriptor describeForPrompt(const CorpusPrompt &prompt, const at::Tensor &joints, double fps,
                                   const at::Tensor &features, TextMotionJudge *judge)
{
    MotionDescriptor out = describeMotion(joints, fps);
    if (prompt.intent.targets.count(kPoseErrorFeature) && prompt.referenceJoints.defined())
        out.features[kPoseErrorFeature] =
            alignedPoseError(joints, prompt.referenceJoints, {.fps = fps});
    // Without a judge or features the feature stays missing, which the labeler counts as a full
    // mismatch: the caller is told by the score rather than silently ignored.
    if (prompt.intent.targets.count(kTextMatchFeature) && judge != nullptr && features.defined())
        out.features[kTextMatchFeature] = judge->distances({prompt.caption}, {features}).front();
    return out;
}

} // namespace mp
