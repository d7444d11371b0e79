#pragma once
// How well a VQ-VAE reconstructs held-out motions: each clip is encoded to codes and decoded
// back, both the original and the reconstruction are turned into joints with recoverFromRic, and
// the per-joint position errors are averaged. This is the "reconstruction error in mm" of the
// default model's quality bar, and the number a VQ-VAE paper reports as MPJPE.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "ml/core/progress.h"
#include "ml/models/vqvae.h"

namespace mp {

class ModelBundle;

struct VqVaeReconstructionOptions {
    std::int64_t maxClips = 0; // 0 = all
};

struct VqVaeReconstruction {
    std::int64_t clips = 0;
    std::int64_t frames = 0;
    // Mean per-joint position error over every frame and joint, millimetres: in the world frame
    // (root trajectory integrated from the velocities, so drift counts) and root-relative (the
    // pelvis of both put at the origin in every frame: the pose alone).
    double mpjpeMm = 0.0;
    double rootRelativeMpjpeMm = 0.0;
    double worstClipMpjpeMm = 0.0;
    std::string worstClip;
    double featureL1 = 0.0;  // mean |error| of the normalised features
    double codesUsed = 0.0;  // share of the codebook used on these clips
    double perplexity = 0.0; // exp(entropy) of the code histogram

    nlohmann::json toJson() const;
};

// clips: denormalised HumanML3D features (T, 263), any length of at least one code (T is cut
// down to a multiple of the downsampling); names label the worst clip. mean/std: the
// normalisation the VQ-VAE was trained with. Runs in eval mode without gradients.
VqVaeReconstruction measureVqVaeReconstruction(VqVae &vqvae, const std::vector<at::Tensor> &clips,
                                               const std::vector<std::string> &names,
                                               const at::Tensor &mean, const at::Tensor &std,
                                               const VqVaeReconstructionOptions &options = {},
                                               const ProgressFn &progress = {});

// The same on a split of a HumanML3D-layout directory (whole clips, not caption sub-clips), with
// a bundle's VQ-VAE and normalisation.
VqVaeReconstruction measureVqVaeReconstruction(ModelBundle &bundle,
                                               const std::filesystem::path &dataRoot,
                                               const std::string &split,
                                               const VqVaeReconstructionOptions &options = {},
                                               const ProgressFn &progress = {});

} // namespace mp
