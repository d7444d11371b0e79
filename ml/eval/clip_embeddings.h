#pragma once
// `motionpref-cli eval embed`: each clip's evaluator embeddings without any random draw, for
// comparing evaluators (or an imported T2M evaluator against the original code): the text
// embedding of its first caption and the motion embedding of its first min(T, 196) frames
// floored to the evaluator's 4-frame unit (T2M's dataset item with the first caption, crop
// offset 0 and no shorter-crop coin).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "ml/core/progress.h"

namespace mp {

class TextMotionEvaluatorImpl;
class WordVocabulary;
struct EvalDataset;

struct ClipEmbeddings {
    std::vector<std::string> ids; // the dataset's item names ("NAME", "A_NAME" for sub-clips)
    at::Tensor text;              // (N, coemb) float32
    at::Tensor motion;            // (N, coemb) float32
    at::Tensor frames;            // (N) int64: the frames embedded
};

// dataset: normalised with the evaluator's statistics (EvalDataset::mean/std).
ClipEmbeddings embedClips(TextMotionEvaluatorImpl &evaluator, const WordVocabulary &vocabulary,
                          const EvalDataset &dataset, int maxMotionFrames = 196,
                          int batchSize = 32);

// FILE.safetensors: text_embedding, motion_embedding, frames; the ids as a JSON array in the
// metadata entry "clip_ids".
void writeClipEmbeddings(const std::filesystem::path &path, const ClipEmbeddings &embeddings);

struct EmbedClipsJob {
    std::filesystem::path evaluatorDir;
    std::filesystem::path datasetRoot; // HumanML3D layout
    std::string split = "test";
    std::filesystem::path out; // .safetensors
    c10::Device device{c10::kCPU};
};
// Loads the evaluator (its mean/std normalise the motions) and the split, embeds, writes.
ClipEmbeddings embedClipsJob(const EmbedClipsJob &job, const ProgressFn &progress = {});

} // namespace mp
