#pragma once
// Text + motion tokenizer: SentencePiece for the text (T5's spiece.model: pad 0, eos 1, unk 2)
// and the motion tokens appended after the text vocabulary, as MotionGPT does with
// add_tokens(<motion_id_0..514>): motion code k has id textVocabSize + k, then start-of-motion
// (SOM), end-of-motion (EOM) and mask. MotionGPT's layout: textVocabSize 32100 (32000 pieces +
// T5's 100 extra ids), 512 codes, so <motion_id_k> = 32100 + k, SOM 32612, EOM 32613.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mp {

class SentencePieceModel;

struct MotionTokenLayout {
    std::int64_t textVocabSize = 32100;
    std::int64_t numMotionCodes = 512;

    std::int64_t motionId(std::int64_t code) const { return textVocabSize + code; }
    std::int64_t somId() const { return textVocabSize + numMotionCodes; }
    std::int64_t eomId() const { return textVocabSize + numMotionCodes + 1; }
    std::int64_t maskId() const { return textVocabSize + numMotionCodes + 2; }
    // Text vocabulary + codes + SOM/EOM/mask: 32615 for MotionGPT.
    std::int64_t vocabSize() const { return textVocabSize + numMotionCodes + 3; }
    bool isMotionToken(std::int64_t id) const { return id >= textVocabSize && id < vocabSize(); }

    static MotionTokenLayout motionGpt() { return {}; }
    nlohmann::json toJson() const;
    static MotionTokenLayout fromJson(const nlohmann::json &json, const std::string &source);
};

// MotionGPT's reading of a generated sequence.
struct DecodedMotion {
    std::vector<std::int64_t> codes; // clamped to 0..numMotionCodes-1; [0] if nothing was found
    bool foundMarkers = false;       // an SOM followed by an EOM was present
    // MotionGPT turns a sequence of <= 1 token into a zero motion.
    bool degenerate() const { return codes.size() <= 1; }
};

class Tokenizer {
public:
    // Loads spiece.model; throws InputError naming the file. The layout's text vocabulary must
    // cover the SentencePiece pieces.
    Tokenizer(const std::filesystem::path &spmModel, const MotionTokenLayout &layout);
    ~Tokenizer();
    Tokenizer(const Tokenizer &) = delete;
    Tokenizer &operator=(const Tokenizer &) = delete;

    const MotionTokenLayout &layout() const { return m_layout; }
    std::int64_t numPieces() const;
    std::int64_t padId() const { return m_padId; }
    std::int64_t eosId() const { return m_eosId; }
    std::int64_t unkId() const { return m_unkId; }

    // A prompt is cut to maxLength tokens anyway (256 tokens: about 1 KB of text); a text past
    // this many bytes is refused before segmenting it (InputError).
    static constexpr std::size_t kMaxTextBytes = 64 * 1024;
    // Text ids + </s>, truncated to maxLength including the </s> (as HF's truncation does).
    std::vector<std::int64_t> encodeText(std::string_view text, std::int64_t maxLength = 256) const;
    // Text pieces back to a string; motion and special ids are skipped.
    std::string decodeText(const std::vector<std::int64_t> &ids) const;
    // SOM, codes, EOM (the MotionGPT motion string) - without </s>.
    std::vector<std::int64_t> encodeMotion(const std::vector<std::int64_t> &codes) const;
    // MotionGPT's rules: codes between the first SOM and the next EOM; none or no markers -> [0];
    // codes clamped to the codebook (a mask/SOM id inside becomes the last code); text ids
    // between the markers are skipped.
    DecodedMotion decodeMotion(const std::vector<std::int64_t> &ids) const;
    // "<motion_id_k>" for motion ids, the piece otherwise (for logs and debugging).
    std::string tokenName(std::int64_t id) const;

private:
    std::unique_ptr<SentencePieceModel> m_model;
    MotionTokenLayout m_layout;
    std::int64_t m_padId = 0;
    std::int64_t m_eosId = 1;
    std::int64_t m_unkId = 2;
};

struct SentencePieceTrainOptions {
    std::int64_t vocabSize = 1000;
    std::string modelType = "unigram";
    // Tiny corpora cannot always reach vocabSize; allow fewer pieces instead of failing.
    bool hardVocabLimit = false;
};

// Trains a T5-style unigram SentencePiece model (pad 0, eos 1, unk 2, no bos) on the sentences
// and writes it to outputModel (e.g. BUNDLE/spiece.model). Runs the spm_train tool (package
// "sentencepiece") in a child process; see ml/models/sentencepiece.h for why.
void trainSentencePiece(const std::vector<std::string> &sentences,
                        const std::filesystem::path &outputModel,
                        const SentencePieceTrainOptions &options = {});

} // namespace mp
