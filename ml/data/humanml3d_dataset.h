#pragma once
// Reader of the HumanML3D directory layout (Guo et al. 2022), for the real data set and for the
// project's own corpus alike:
//   ROOT/new_joint_vecs/NAME.npy   features (T, 263) float32
//   ROOT/new_joints/NAME.npy       joints (optional): HumanML3D's are (T, 22, 3), recover_from_ric
//                                  of the features; the corpus's (T + 1, 22, 3) source frames
//   ROOT/texts/NAME.txt            lines "caption#word/POS word/POS ...#start#end"
//   ROOT/train.txt val.txt test.txt all.txt    one NAME per line
//   ROOT/Mean.npy ROOT/Std.npy     normalization (optional)
// As T2M's Text2MotionDatasetV2: a caption with start = end = 0 describes the whole clip; other
// captions describe the sub-clip [int(start * 20), int(end * 20)) of the features, kept as its own
// item named "A_NAME", "B_NAME", ...; clips and sub-clips outside [minFrames, maxFramesExclusive)
// are left out.

#include "ml/core/progress.h"
#include "ml/data/normalizer.h"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace mp {

struct Caption {
    std::string text;
    std::vector<std::string> tokens; // "word/POS"
    double startS = 0.0;             // 0 and 0: the whole clip
    double endS = 0.0;
};

// Parses one text file; throws InputError "FILE:LINE: ..." for a malformed line. Blank lines are
// skipped; "nan" times read as 0 (as T2M does).
std::vector<Caption> readCaptionFile(const std::filesystem::path &path);
std::vector<Caption> parseCaptions(const std::string &text, const std::string &sourceName);
// One line in the same format (without the newline); '#' and newlines in the text become spaces.
std::string formatCaptionLine(const Caption &caption);

struct HumanMl3dOptions {
    std::string split = "train"; // reads ROOT/<split>.txt
    int minFrames = 40;          // T2M's min_motion_len for HumanML3D
    int maxFramesExclusive = 200;
    double fps = 20.0;   // HumanML3D's frame rate, for the caption times
    bool preload = true; // read and check every feature file now; else on access
    // Report and leave out bad items instead of throwing on the first one.
    bool skipBad = false;
    std::function<void(const std::string &problem)> onProblem; // called for each skipped item
    ProgressFn progress;
};

struct MotionRecord {
    std::string name;       // NAME, or "A_NAME" for a sub-clip
    std::string file;       // NAME: the stem of the .npy and .txt files
    int64_t startFrame = 0; // first feature frame of the file
    int64_t numFrames = 0;
    std::vector<Caption> captions;
};

class HumanMl3dDataset {
public:
    // Throws InputError naming the file for a missing split file, a missing or malformed motion
    // or text file (unless skipBad).
    static HumanMl3dDataset open(const std::filesystem::path &root,
                                 const HumanMl3dOptions &options = {});

    int64_t size() const { return static_cast<int64_t>(m_records.size()); }
    const MotionRecord &record(int64_t index) const;
    const std::vector<MotionRecord> &records() const { return m_records; }

    // Features (numFrames, 263) float32 of an item.
    at::Tensor features(int64_t index) const;
    // Joints of the same frames (numFrames, 22, 3) from new_joints/ (InputError if absent).
    at::Tensor joints(int64_t index) const;

    const std::filesystem::path &root() const { return m_root; }
    // From Mean.npy/Std.npy; empty when the directory has none.
    const Normalizer &normalizer() const { return m_normalizer; }
    // Items left out because they were bad (with skipBad), one line each.
    const std::vector<std::string> &problems() const { return m_problems; }
    // Names in the split file that were left out for their length or for having no caption.
    int64_t numFiltered() const { return m_numFiltered; }

private:
    at::Tensor loadFile(const std::string &stem) const;

    std::filesystem::path m_root;
    HumanMl3dOptions m_options;
    std::vector<MotionRecord> m_records;
    std::vector<at::Tensor> m_cache; // per record, when preloaded (sub-clips share storage)
    Normalizer m_normalizer;
    std::vector<std::string> m_problems;
    int64_t m_numFiltered = 0;
};

} // namespace mp
