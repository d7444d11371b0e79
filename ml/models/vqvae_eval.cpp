#include "ml/models/vqvae_eval.h"

#include "ml/core/error.h"
#include "ml/data/humanml3d_dataset.h"
#include "ml/models/bundle.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace mp {

nlohmann::json VqVaeReconstruction::toJson() const
{
    return {{"clips", clips},
            {"frames", frames},
            {"mpjpe_mm", mpjpeMm},
            {"root_relative_mpjpe_mm", rootRelativeMpjpeMm},
            {"worst_clip_mpjpe_mm", worstClipMpjpeMm},
            {"worst_clip", worstClip},
            {"feature_l1", featureL1},
            {"codes_used", codesUsed},
            {"perplexity", perplexity}};
}

VqVaeReconstruction measureVqVaeReconstruction(VqVae &vqvae, const std::vector<at::Tensor> &clips,
                                               const std::vector<std::string> &names,
                                               const at::Tensor &mean, const at::Tensor &std,
                                               const VqVaeReconstructionOptions &options,
                                               const ProgressFn &progress)
{
    const auto &config = vqvae->config();
    if (config.inputDim != 263)
        throw InputError("VQ-VAE reconstruction: joint errors need HumanML3D features (263), "
                         "this VQ-VAE reads " +
                         std::to_string(config.inputDim));
    torch::NoGradGuard noGrad;
    const bool wasTraining = vqvae->is_training();
    vqvae->eval();
    const auto device = mean.device();
    const auto down = config.downsampling();
    const auto count =
        options.maxClips > 0
            ? std::min<std::int64_t>(options.maxClips, static_cast<std::int64_t>(clips.size()))
            : static_cast<std::int64_t>(clips.size());

    VqVaeReconstruction result;
    double errorSum = 0.0; // over frames x joints
    double relativeSum = 0.0;
    double l1Sum = 0.0; // over frames x features
    std::int64_t numJoints = 0;
    auto histogram = torch::zeros({config.numCodes}, torch::kDouble);
    for (std::int64_t i = 0; i < count; ++i) {
        const auto &clip = clips[static_cast<std::size_t>(i)];
        const auto name = i < static_cast<std::int64_t>(names.size())
                              ? names[static_cast<std::size_t>(i)]
                              : std::to_string(i);
        if (clip.dim() != 2 || clip.size(1) != config.inputDim)
            throw InputError(name + ": expected features (T, " + std::to_string(config.inputDim) +
                             ")");
        const auto frames = clip.size(0) / down * down;
        if (frames == 0)
            continue;
        const auto original = clip.narrow(0, 0, frames).to(device, torch::kFloat);
        const auto normalised = (original - mean) / std;
        const auto codes = vqvae->encode(normalised.unsqueeze(0)); // (1, T/down)
        const auto decoded = vqvae->decode(codes)[0];              // (T, 263) normalised
        const auto reconstruction = decoded * std + mean;

        const auto truth = recoverFromRic(original.to(torch::kDouble));
        const auto joints = recoverFromRic(reconstruction.to(torch::kDouble));
        const auto errors = (joints - truth).norm(2, -1); // (T, J)
        const auto relative =
            ((joints - joints.narrow(1, 0, 1)) - (truth - truth.narrow(1, 0, 1))).norm(2, -1);
        numJoints = errors.size(1);
        const double clipError = errors.sum().item<double>();
        errorSum += clipError;
        relativeSum += relative.sum().item<double>();
        l1Sum += (decoded - normalised).abs().sum().item<double>();
        const double clipMpjpe = 1000.0 * clipError / static_cast<double>(errors.numel());
        if (clipMpjpe > result.worstClipMpjpeMm) {
            result.worstClipMpjpeMm = clipMpjpe;
            result.worstClip = name;
        }
        histogram.index_add_(0, codes.reshape({-1}).to(torch::kCPU),
                             torch::ones({codes.numel()}, torch::kDouble));
        ++result.clips;
        result.frames += frames;
        reportProgress(progress, i + 1, count, "reconstruct");
    }
    vqvae->train(wasTraining);
    if (result.clips == 0)
        throw InputError("VQ-VAE reconstruction: no clip has a whole code (" +
                         std::to_string(down) + " frames)");
    const double jointCount = static_cast<double>(result.frames * numJoints);
    result.mpjpeMm = 1000.0 * errorSum / jointCount;
    result.rootRelativeMpjpeMm = 1000.0 * relativeSum / jointCount;
    result.featureL1 = l1Sum / (static_cast<double>(result.frames) * 263.0);
    const auto total = histogram.sum().item<double>();
    const auto p = histogram / total;
    const auto used = p > 0;
    result.codesUsed = used.to(torch::kDouble).mean().item<double>();
    const auto nonzero = p.masked_select(used);
    result.perplexity = std::exp(-(nonzero * nonzero.log()).sum().item<double>());
    return result;
}

VqVaeReconstruction measureVqVaeReconstruction(ModelBundle &bundle,
                                               const std::filesystem::path &dataRoot,
                                               const std::string &split,
                                               const VqVaeReconstructionOptions &options,
                                               const ProgressFn &progress)
{
    HumanMl3dOptions readOptions;
    readOptions.split = split;
    readOptions.skipBad = true; // HumanML3D's split files list a few names without data
    const auto dataset = HumanMl3dDataset::open(dataRoot, readOptions);
    // Whole clips only: caption sub-clips ("A_NAME") are frames of a clip already counted.
    std::vector<at::Tensor> clips;
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (std::int64_t i = 0; i < dataset.size(); ++i) {
        const auto &record = dataset.record(i);
        if (record.name != record.file || !seen.insert(record.file).second)
            continue;
        clips.push_back(dataset.features(i));
        names.push_back(record.name);
    }
    if (clips.empty())
        throw InputError(dataRoot.string() + ": no usable clip in split '" + split + "'");
    const auto device = bundle.device();
    return measureVqVaeReconstruction(bundle.vqvae(), clips, names, bundle.mean().to(device),
                                      bundle.std().to(device), options, progress);
}

} // namespace mp
