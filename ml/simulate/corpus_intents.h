#pragma once
// Prompts with what they ask for, from the project's procedural corpus (ml/data/corpus): each
// caption's clip realises the caption's actions and parameters (manifest.json), so its measured
// descriptor is the intent a simulated labeler compares generated motions against.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/simulate/simulated_labeler.h"

namespace mp {

class TextMotionJudge;

struct CorpusPrompt {
    std::string clipId;
    std::string caption;
    std::vector<std::string> actions; // the clip's actions in order, from the manifest
    PromptIntent intent;
    at::Tensor referenceJoints; // the clip's joints (T, 22, 3)
};

// The intent's target for alignedPoseError (ml/simulate/motion_alignment.h) against the clip.
inline constexpr const char *kPoseErrorFeature = "pose_error_m";

struct CorpusPromptOptions {
    // Weight of the pose error against the clip, relative to 1 for each kinematic measure (there
    // are 15): 0 leaves it out, 15 makes it half the match score.
    double poseWeight = 0.0;
    // Weight of a text-motion judge's distance between caption and motion
    // (ml/simulate/text_motion_judge.h), relative to 1 per kinematic measure; used when judge is
    // set. Its unit of mismatch is a third of the distance from a clip to other clips' captions, so
    // a motion that ignores its caption reaches the cap.
    double judgeWeight = 0.0;
    TextMotionJudge *judge = nullptr;
};

// Draws `count` (clip, caption) pairs of the split, seeded, clips without replacement while they
// last. Descriptor spreads are measured over all of the split's clips. InputError naming the
// file when the directory is not a corpus (no manifest.json) or a clip's joints are missing.
// The pose error's unit of mismatch is its spread over pairs of different clips of the split.
std::vector<CorpusPrompt> drawCorpusPrompts(const std::filesystem::path &corpusDir,
                                            const std::string &split, std::int64_t count,
                                            std::uint64_t seed,
                                            const CorpusPromptOptions &options = {});

// A generated motion's measures for the labeler: describeMotion, plus its pose error against the
// prompt's clip and the judge's text-match distance (from its (T, 263) features) when the intent
// asks for them.
MotionDescriptor describeForPrompt(const CorpusPrompt &prompt, const at::Tensor &joints, double fps,
                                   const at::Tensor &features = {},
                                   TextMotionJudge *judge = nullptr);

} // namespace mp
