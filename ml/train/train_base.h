#pragma once
// Trains a whole base bundle from a HumanML3D-layout corpus: the SentencePiece model on the
// training captions, the VQ-VAE on the normalised features, then the T5 on caption -> motion
// codes. Stages checkpoint into OUT/checkpoints so an interrupted run resumes where it stopped.
// This is what `motionpref-cli train-base` runs.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/core/progress.h"
#include "ml/models/bundle.h"
#include "ml/train/t5_trainer.h"
#include "ml/train/vqvae_trainer.h"

namespace mp {

// One clip of a HumanML3D-layout directory: features (T, 263) and its captions.
struct CorpusClip {
    std::string id;
    at::Tensor features;
    std::vector<std::string> captions;
};

// The clips and captions of one split of a HumanML3D-layout directory (HumanMl3dDataset, with
// T2M's length filter and sub-clips; listed names without data are skipped).
std::vector<CorpusClip> readHumanMl3dSplit(const std::filesystem::path &root,
                                           const std::string &split);

struct TrainBaseOptions {
    std::filesystem::path corpus;
    std::filesystem::path out;
    BundleConfig bundle; // architecture; t5.vocab_size/tokens are set from the SPM model
    std::int64_t textVocabSize = 1000;
    VqVaeTrainOptions vqvae;
    T5TrainOptions t5;
    std::int64_t checkpointEvery = 200;
    std::int64_t evaluateEvery = 500;
};

// A line of progress for logs and events: stage ("vqvae", "t5"), step and the numbers.
using TrainLogFn = std::function<void(const std::string &stage, std::int64_t step,
                                      const std::vector<std::pair<std::string, double>> &values)>;

// Returns the written bundle directory (options.out).
std::filesystem::path trainBaseBundle(const TrainBaseOptions &options,
                                      const ProgressFn &progress = {}, const TrainLogFn &log = {});

// The small default architecture (d_model 256, 4+4 layers, VQ-VAE width 256, 512 codes).
BundleConfig defaultBaseConfig();
// A toy architecture for tests and pipelines that only need a bundle of the right form
// (d_model 64, 2+2 layers, VQ-VAE width 64, 128 codes): trains in seconds.
BundleConfig tinyBaseConfig();

} // namespace mp
