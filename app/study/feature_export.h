#pragma once
// A study's labeled pairs for other model families (MDM, MLD, MoMask and other diffusion or
// masked models that train on HumanML3D features rather than MotionGPT's VQ codes).
//
// DIRECTORY/
//   pairs.jsonl   one line per current label that prefers a sample (each labeler's; unsure and
//                 skips are left out, as in the TRL form):
//                 {"pair_id", "prompt", "chosen": {MOTION}, "rejected": {MOTION}, "degree",
//                  "margin" (0..3), "labeler", "time_on_task_ms"}
//                 MOTION = {"sample_id", "model", "adapter", "seed", "temperature", "num_frames",
//                           "features": "motions/sample_ID_features.npy",
//                           "joints": "motions/sample_ID_joints.npy"}
//   motions/      per sample: features (T, 263) float32, HumanML3D's new_joint_vecs layout, NOT
//                 normalised (no Mean/Std applied); joints (T, 22, 3) float32, metres, Y up,
//                 SMPL-22 order, recover_from_ric of the features (HumanML3D's new_joints)
//   meta.json     {"format": "motionpref-features", "fps": 20, "feature_dim": 263,
//                  "normalised": false, "num_joints": 22, "study", "pairs", "motions"}
// A sample's features come from the study (stored .npy bytes or its features file), else its
// motion codes decoded by its model's bundle (the path recorded in the study) or by modelDir.

#include "ml/core/progress.h"

#include <QString>

#include <optional>
#include <vector>

namespace mp {

class StudyStore;

struct FeatureExportOptions {
    std::optional<std::vector<qint64>> pairIds; // default: every pair
    // A bundle that decodes the codes of samples whose model is not recorded or whose bundle
    // directory is gone; empty: such a sample is an error.
    QString modelDir;
};

struct FeatureExportReport {
    int records = 0; // lines of pairs.jsonl
    int motions = 0; // samples written
    int decoded = 0; // of them, decoded from codes
};

// Creates the directory if needed; refuses a directory that holds a pairs.jsonl already
// (InputError) unless overwrite. Each file is written atomically. InputError names the sample
// and the problem (no features and no codes, a bundle that cannot be loaded, a wrong shape).
// Torch work: call it off the GUI thread.
FeatureExportReport exportFeatures(const StudyStore &store, const QString &directory,
                                   const FeatureExportOptions &options = {}, bool overwrite = false,
                                   const ProgressFn &progress = {});

} // namespace mp
