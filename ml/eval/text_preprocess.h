#pragma once
// Text input of the T2M evaluator (Guo et al. 2022): "word/POS" tokens, sos + up to 20 tokens +
// eos padded with unk to 22, a 15-class POS one-hot where the VIP word lists override the tag,
// and the word vocabulary: GloVe vectors when given, else a vocabulary built from the training
// captions whose vectors the evaluator learns.
//
// Word vectors: T2M's our_vab_data.npy + our_vab_words.pkl + our_vab_idx.pkl are read by
// `import evaluator` (ml/eval/t2m_import.h); `eval train-evaluator --glove` reads plain text,
// one word per line: "word v1 v2 ... v300" separated by single spaces (the format of the original
// glove.*.txt files). The vocabulary must hold "sos", "eos" and "unk"; missing ones are added
// with zero vectors.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mp {

// sos + 20 words + eos, as T2M's max_text_len.
constexpr int kEvalMaxTextWords = 20;
constexpr int kEvalTextTokens = kEvalMaxTextWords + 2;
constexpr int kEvalPosClasses = 15;

// Index of a POS tag in T2M's POS_enumerator (VERB 0 ... Desc_VIP 13, OTHER 14); unknown -> 14.
int evalPosIndex(std::string_view tag);

// Which VIP word lists override the POS tag. T2M: exactly utils/word_vectorizer.py's, what the
// T2M checkpoint was trained with. Project: T2M's plus motion words of the procedural corpus
// (sideways, around, hip, step, wave, ...), what the embedded default evaluator was trained with.
enum class VipLists { Project, T2m };
// The VIP class ("Loc_VIP", ...) a word belongs to, or "" when none.
std::string_view evalVipClass(std::string_view word, VipLists lists = VipLists::Project);

struct TaggedWord {
    std::string word; // lower case, lemmatised for nouns and verbs as HumanML3D's text_process
    std::string pos;  // spaCy universal tag: VERB, NOUN, DET, ...
};

// Parses HumanML3D's token field "a/DET man/NOUN walk/VERB". Throws InputError on a token
// without "/".
std::vector<TaggedWord> parseTaggedTokens(std::string_view field);
// A small rule-based stand-in for spaCy when a caption has no token field (prompts typed by a
// user): lower-cases, splits off punctuation, tags from closed-class word lists and suffixes,
// and lemmatises common motion verbs and plural nouns.
std::vector<TaggedWord> tagCaption(std::string_view caption);

class WordVocabulary {
public:
    WordVocabulary(); // just sos, eos, unk

    // Every word of the captions seen at least minCount times, plus sos/eos/unk; sorted so the
    // same captions always give the same indices.
    static WordVocabulary fromCaptions(const std::vector<std::vector<TaggedWord>> &captions,
                                       int minCount = 1);
    // The plain-text GloVe format above; InputError naming the file and line on a bad row.
    static WordVocabulary fromGloveText(const std::filesystem::path &path);
    // Words with their (words.size(), dim) vectors, e.g. T2M's our_vab_* files; InputError
    // (naming source) on a duplicate word or a size mismatch.
    static WordVocabulary fromVectors(std::vector<std::string> words, const at::Tensor &vectors,
                                      const std::string &source);
    // One word per line (what saveWords writes); vectors are then part of the evaluator weights.
    static WordVocabulary fromWordList(const std::filesystem::path &path);
    void saveWords(const std::filesystem::path &path) const;

    std::int64_t size() const { return static_cast<std::int64_t>(m_words.size()); }
    const std::vector<std::string> &words() const { return m_words; }
    bool contains(std::string_view word) const;
    std::int64_t index(std::string_view word) const; // unk's index when missing
    std::int64_t unkIndex() const { return m_unk; }
    // (size, dim) float32 vectors when read from GloVe, undefined otherwise.
    const at::Tensor &vectors() const { return m_vectors; }

private:
    void rebuildIndex();

    std::vector<std::string> m_words;
    std::unordered_map<std::string, std::int64_t> m_index;
    std::int64_t m_unk = 0;
    at::Tensor m_vectors;
};

struct EncodedText {
    std::vector<std::int64_t> wordIds; // kEvalTextTokens
    std::vector<std::int64_t> posIds;  // kEvalTextTokens, class index
    std::int64_t length = 0;           // with sos and eos
};

// T2M's token handling: in-vocabulary words keep their tag (a VIP list overrides it), others
// become unk/OTHER; sos/eos around at most kEvalMaxTextWords words; unk/OTHER padding.
EncodedText encodeText(const std::vector<TaggedWord> &tokens, const WordVocabulary &vocabulary,
                       VipLists lists = VipLists::Project);

struct TextBatch {
    at::Tensor wordIds;   // (B, 22) int64
    at::Tensor posOneHot; // (B, 22, 15) float32
    at::Tensor lengths;   // (B) int64
};
TextBatch makeTextBatch(const std::vector<EncodedText> &texts);

} // namespace mp
