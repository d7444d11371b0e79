#pragma once
// Turns MotionGPT's released weights into a model bundle (spec §2): the checkpoint
// motiongpt_s3_h3d.tar holds, under 'state_dict', the VQ-VAE as vae.encoder.model.*,
// vae.decoder.model.*, vae.quantizer.codebook and the language model as
// lm.language_model.{shared, encoder.*, decoder.*, lm_head}; flan-t5-base's directory gives the
// T5 config.json and spiece.model (32000 pieces + 100 extra ids, then <motion_id_0..514> from
// 32100); MotionGPT's assets/meta gives mean.npy and std.npy.

#include <filesystem>

#include "ml/core/progress.h"

namespace mp {

struct MotionGptImportOptions {
    // The checkpoint: a PyTorch file (torch.save's zip format, e.g. motiongpt_s3_h3d.tar) or a
    // .safetensors of its state_dict with the same names.
    std::filesystem::path checkpoint;
    std::filesystem::path t5Directory;   // config.json and spiece.model (flan-t5-base)
    std::filesystem::path metaDirectory; // mean.npy and std.npy (263,)
    std::filesystem::path out;           // the bundle directory to write
};

// Writes the bundle and returns its directory. InputError names the file and what is missing
// or does not match (a key prefix, a tensor shape, a config value).
std::filesystem::path importMotionGpt(const MotionGptImportOptions &options,
                                      const ProgressFn &progress = {});

} // namespace mp
