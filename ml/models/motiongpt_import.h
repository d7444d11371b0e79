#pragma once
// Turns MotionGPT's released weights into a model bundle (spec §2): the checkpoint
// motiongpt_s3_h3d.tar holds, under 'state_dict', the VQ-VAE as vae.encoder.model.*,
// vae.decoder.model.*, vae.quantizer.codebook and the language model as
// lm.language_model.{shared, encoder.*, decoder.*, lm_head}; flan-t5-base's directory gives the
// T5 config.json and spiece.model (32000 pieces + 100 extra ids, then <motion_id_0..514> from
// 32100); MotionGPT's assets/meta gives mean.npy and std.npy.

#include <filesystem>
#include <string>

#include "ml/core/progress.h"

namespace mp {

struct MotionGptImportOptions {
    // The checkpoint: a file written by torch.save (zip or legacy layout, e.g. the Lightning
    // checkpoint motiongpt_s3_h3d.tar) or a .safetensors of its state_dict with the same names.
    std::filesystem::path checkpoint;
    std::filesystem::path t5Directory;   // config.json and spiece.model (flan-t5-base)
    std::filesystem::path metaDirectory; // mean.npy and std.npy (263,)
    std::filesystem::path out;           // the bundle directory to write
};

struct MotionGptImportResult {
    std::filesystem::path bundle;
    // One line on what of the checkpoint was not used: its other top-level entries
    // (optimizer_states, callbacks, ...) and the objects the unpickler skipped, by path and class
    // (hyper_parameters/cfg: omegaconf.dictconfig.DictConfig). Empty for a .safetensors.
    std::string notUsed;
};

// Writes the bundle. The checkpoint is read by the project's own unpickler (no Python step);
// the VQ-VAE's widths, depth and down-sampling come from the weights, its dilation growth is
// MotionGPT's 3. The bundle prompts as MotionGPT's text-to-motion path does ("Generate motion:
// <caption>", stored in its config.json). InputError names the file and what is missing or does
// not match (a key prefix, a tensor shape, a config value).
MotionGptImportResult importMotionGpt(const MotionGptImportOptions &options,
                                      const ProgressFn &progress = {});

} // namespace mp
