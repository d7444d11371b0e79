#pragma once
// A tiny HumanML3D-layout dataset (32 motions in val.txt: one group of the protocol, two
// POS-tagged captions each) and a tiny random text/motion evaluator for it, for tests that run
// the HumanML3D evaluation in seconds (e.g. eval.motion_metrics of a training run).

#include "ml/data/npy.h"
#include "ml/eval/eval_dataset.h"
#include "ml/eval/evaluator.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mp::test {

inline void writeTinyEvalDataset(const std::filesystem::path &root)
{
    std::filesystem::create_directories(root / "new_joint_vecs");
    std::filesystem::create_directories(root / "texts");
    const std::vector<std::string> verbs = {"walk", "run", "jump", "kick"};
    std::ofstream val(root / "val.txt");
    torch::manual_seed(3);
    for (int i = 0; i < 32; ++i) {
        const std::string name = "clip" + std::to_string(i);
        const int cls = i % 4;
        npy::write(root / "new_joint_vecs" / (name + ".npy"),
                   torch::randn({40 + 4 * (i % 5), 263}) * 0.2 + double(cls) * 0.1);
        std::ofstream text(root / "texts" / (name + ".txt"));
        text << "a person " << verbs[cls] << "s.#a/DET person/NOUN " << verbs[cls]
             << "/VERB#0.0#0.0\n";
        text << "someone " << verbs[cls] << "s#someone/PRON " << verbs[cls] << "/VERB#0.0#0.0\n";
        val << name << "\n";
    }
    npy::write(root / "Mean.npy", torch::zeros({263}));
    npy::write(root / "Std.npy", torch::ones({263}));
}

// An untrained evaluator with 8-d embeddings over the dataset's caption words.
inline void writeTinyEvaluator(const std::filesystem::path &dataset,
                               const std::filesystem::path &out)
{
    const auto split = loadEvalSplit(dataset, "val");
    const auto vocabulary = WordVocabulary::fromCaptions(taggedCaptions(split));
    EvaluatorConfig c;
    c.vocabSize = vocabulary.size();
    c.dimWord = 16;
    c.dimTextHidden = 16;
    c.dimCoemb = 8;
    c.dimMovementHidden = 16;
    c.dimMovementLatent = 16;
    c.dimMotionHidden = 16;
    torch::manual_seed(5);
    TextMotionEvaluator evaluator(c);
    saveEvaluator(out, *evaluator, vocabulary, split.mean, split.std);
}

} // namespace mp::test
