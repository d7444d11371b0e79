#pragma once
// A SentencePiece unigram model read and run without libsentencepiece. Debian's libsentencepiece
// carries its own protobuf-lite 3.14 while LibTorch needs libprotobuf 3.21: in one process the
// symbols clash (the start-up crash ml/CMakeLists.txt avoids by link order, after which
// sentencepiece's own protobuf code fails its version check on first use). So this reads the
// .model file (a ModelProto) itself, applies its normaliser (the precompiled character map of
// nmt_nfkc and friends, whitespace rules) and segments with the unigram Viterbi search, as
// sentencepiece 0.1.x does. Training runs the spm_train tool in a child process.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mp {

class SentencePieceModel {
public:
    enum class PieceType {
        Normal = 1,
        Unknown = 2,
        Control = 3,
        UserDefined = 4,
        Unused = 5,
        Byte = 6
    };
    struct Piece {
        std::string text;
        float score = 0.0f;
        PieceType type = PieceType::Normal;
    };

    // Throws InputError naming the file for anything it cannot read or does not support (BPE,
    // WORD and CHAR models, byte fallback).
    explicit SentencePieceModel(const std::filesystem::path &file);

    std::int64_t size() const { return static_cast<std::int64_t>(m_pieces.size()); }
    const Piece &piece(std::int64_t id) const { return m_pieces.at(static_cast<std::size_t>(id)); }
    // -1 when absent.
    std::int64_t pieceId(std::string_view piece) const;
    std::int64_t unkId() const { return m_unkId; }

    // The normalised text ("▁" for spaces) that segmentation works on.
    std::string normalize(std::string_view text) const;
    std::vector<std::int64_t> encode(std::string_view text) const;
    // Pieces joined, "▁" back to spaces, the dummy prefix dropped; control ids are skipped and
    // unknown ids read " ⁇ ".
    std::string decode(const std::vector<std::int64_t> &ids) const;

private:
    // Longest rule of the precompiled map at the start of input: (replacement, bytes consumed).
    std::pair<std::string_view, std::size_t> normalizePrefix(std::string_view input) const;

    std::vector<Piece> m_pieces;
    std::unordered_map<std::string, std::int64_t> m_ids;
    std::int64_t m_unkId = -1;
    float m_minScore = 0.0f;
    float m_maxScore = 0.0f;
    std::size_t m_maxPieceBytes = 0;
    // Normaliser.
    std::vector<std::uint32_t> m_trie; // darts-clone double array
    std::string m_normalized;          // replacement strings, '\0'-terminated
    bool m_addDummyPrefix = true;
    bool m_removeExtraWhitespaces = true;
    bool m_escapeWhitespaces = true;
};

} // namespace mp
