#pragma once
// The preference pairs a training run reads (the study's trainer JSONL, one pair per line, see
// app/study/study_split.h), their selection by degree and percentage, the train/eval split as
// explicit id lists saved in the run directory, and the tensors a batch of them becomes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ml/train/preference_degree.h"

namespace mp {

class Tokenizer;

struct PreferencePair {
    std::int64_t pairId = 0;
    std::string id; // the imported record id, may be empty
    std::string prompt;
    std::vector<std::int64_t> chosen; // VQ codes, no start/end tokens
    std::vector<std::int64_t> rejected;
    PreferenceDegree degree = PreferenceDegree::Unsure;
    std::string labeler;
};

// Reads the JSONL file; InputError naming the file and line for a malformed line, a duplicate
// pair_id, an unknown degree or an empty code list.
std::vector<PreferencePair> readPreferencePairs(const std::filesystem::path &path);
void writePreferencePairs(const std::vector<PreferencePair> &pairs,
                          const std::filesystem::path &path);

// Keeps pairs whose degree is listed, then a seeded share `percent` in (0, 1] of them (at least
// one), in their original order.
std::vector<PreferencePair> selectPreferencePairs(const std::vector<PreferencePair> &pairs,
                                                  const std::vector<PreferenceDegree> &degrees,
                                                  double percent, std::uint64_t seed);

struct PreferenceSplit {
    std::vector<std::int64_t> trainIds; // pair ids
    std::vector<std::int64_t> evalIds;
};

// A seeded split with ceil(evalFraction * n) eval pairs (none when evalFraction is 0).
PreferenceSplit splitPreferencePairs(const std::vector<PreferencePair> &pairs, double evalFraction,
                                     std::uint64_t seed);

// One pair id per line, after a first line "# N pair ids" (written to a temporary file and renamed
// over). Reading skips '#' comments, names the file and line of a bad entry, and refuses a list
// whose ids are fewer or more than its first line says (cut or edited); lists without that line
// (written by hand or by older versions) are read as they are.
void writePairIdList(const std::vector<std::int64_t> &ids, const std::filesystem::path &path);
std::vector<std::int64_t> readPairIdList(const std::filesystem::path &path);

// The pairs with these ids, in the order of ids; InputError naming `source` for an unknown id.
std::vector<PreferencePair> pairsWithIds(const std::vector<PreferencePair> &pairs,
                                         const std::vector<std::int64_t> &ids,
                                         const std::string &source);

// Deterministic Fisher-Yates over std::mt19937_64, the same on every standard library.
void shufflePairIds(std::vector<std::int64_t> &ids, std::uint64_t seed);

// Labels of a motion target as the base model was trained on them: SOM, codes, EOM, </s>,
// truncated to maxLength.
std::vector<std::int64_t> motionLabels(const Tokenizer &tokenizer,
                                       const std::vector<std::int64_t> &codes,
                                       std::int64_t maxLength);

// Right-padded [B, maxLen] int64 tensor of the rows.
at::Tensor padRows(const std::vector<std::vector<std::int64_t>> &rows, std::int64_t padValue);

} // namespace mp
