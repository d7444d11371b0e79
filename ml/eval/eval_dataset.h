#pragma once
// The evaluation's in-memory test/train split from a HumanML3D-layout directory
// (ml/data/humanml3d_dataset.h): the real HumanML3D or the project's corpus.

#include <filesystem>
#include <string>
#include <vector>

#include "ml/core/progress.h"
#include "ml/eval/evaluation.h"

namespace mp {

class HumanMl3dDataset;
class Normalizer;

// Every item (sub-clips already split by the reader) with its captions; "word/POS" tokens are
// kept, captions without tokens are tagged later by tagCaption. mean/std: the evaluator's
// normalisation (stats), or the dataset's Mean/Std when stats is empty.
EvalDataset evalDatasetFromHumanMl3d(const HumanMl3dDataset &dataset, const Normalizer &stats);

// Opens ROOT/<split>.txt with T2M's length limits and converts it. InputError when the split is
// missing or no normalisation is available.
EvalDataset loadEvalSplit(const std::filesystem::path &root, const std::string &split,
                          const ProgressFn &progress = {});

// The tagged words of every caption (for WordVocabulary::fromCaptions).
std::vector<std::vector<TaggedWord>> taggedCaptions(const EvalDataset &dataset);

} // namespace mp
