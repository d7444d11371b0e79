#pragma once
// `motionpref-cli import evaluator`: the T2M evaluator of Guo et al. 2022 as an evaluator
// directory (evaluator.h) with no Python step. Reads
//  - finest.tar (torch.save of a dict with text_encoder, movement_encoder, motion_encoder state
//    dicts, epoch, and optimizer states that are ignored) through the restricted unpickler;
//  - T2M's GloVe files our_vab_data.npy (N x word_dim), our_vab_words.pkl (a pickled list of
//    words) and our_vab_idx.pkl (a pickled dict word -> row), as its WordVectorizer does;
//  - the evaluator's own mean.npy / std.npy (T2M's Comp_v6_KLD01/meta, not the dataset's).
// Every dimension is read from the tensor shapes (the release: word 300, hidden 512, motion
// hidden 1024, coemb 512); the result uses T2M's VIP word lists and the packed motion GRU.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "ml/eval/evaluator.h"
#include "ml/eval/text_preprocess.h"

namespace mp {

struct T2mEvaluatorImport {
    std::filesystem::path checkpoint; // finest.tar
    std::filesystem::path gloveDir;   // our_vab_data.npy, our_vab_words.pkl, our_vab_idx.pkl
    std::filesystem::path metaDir;    // mean.npy, std.npy (or Mean.npy, Std.npy)
    std::filesystem::path out;        // the evaluator directory to write
};

// The configuration a T2M state dict implies ("text_encoder.pos_emb.weight", ...: the
// evaluator's own names). InputError (naming source) on a missing tensor or inconsistent shapes.
EvaluatorConfig t2mConfigFromShapes(const std::map<std::string, at::Tensor> &tensors,
                                    std::int64_t vocabSize, const std::string &source);

// T2M's WordVectorizer table: the words of our_vab_words.pkl with their rows of
// our_vab_data.npy (through our_vab_idx.pkl). Needs "unk"; "sos"/"eos", when absent, get unk's
// vector (T2M looks them up and falls back to unk/OTHER, which is the same input).
WordVocabulary readT2mGlove(const std::filesystem::path &dir);

struct T2mImportSummary {
    EvaluatorConfig config;
    std::int64_t epoch = -1; // the checkpoint's, -1 when absent
};
// Reads everything, writes options.out, returns what it found.
T2mImportSummary importT2mEvaluator(const T2mEvaluatorImport &options);

} // namespace mp
