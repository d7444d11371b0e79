#include "ml/train/corpus_intents.h"

#include <fstream>
#include <random>
#include <sstream>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/train/motion_descriptor.h"

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
        manifest = nlohmann::json::parse(in);
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

MotionDescriptor describeClip(const fs::path &corpusDir, const std::string &id)
{
    const fs::path path = corpusDir / "new_joints" / (id + ".npy");
    if (!fs::exists(path))
        throw InputError(path.string() + ": missing (the manifest lists clip " + id + ")");
    return describeMotion(npy::read(path));
}

} // namespace

std::vector<CorpusPrompt> drawCorpusPrompts(const fs::path &corpusDir, const std::string &split,
                                            std::int64_t count, std::uint64_t seed)
{
    if (count < 1)
        throw InputError("the number of prompts must be positive");
    const auto clips = readManifestSplit(corpusDir, split);
    std::vector<MotionDescriptor> descriptors;
    descriptors.reserve(clips.size());
    for (const auto &clip : clips)
        descriptors.push_back(describeClip(corpusDir, clip.id));
    const auto scales = descriptorScales(descriptors);

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
        prompts.push_back({.clipId = clip.id,
                           .caption = caption,
                           .actions = clip.actions,
                           .intent = intentFromReference(caption, descriptors[index], scales)});
    }
    return prompts;
}

} // namespace mp
