#include "ml/models/sentencepiece.h"

#include "ml/core/error.h"

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace mp {

namespace {

// sentencepiece's unknown-piece penalty below the lowest piece score.
constexpr float kUnkPenalty = 10.0f;
const std::string kSpace = "\xE2\x96\x81"; // U+2581, "▁"

// A minimal protobuf wire-format reader: enough for ModelProto.
class WireReader {
public:
    WireReader(std::string_view data, const std::string &source)
        : m_p(reinterpret_cast<const std::uint8_t *>(data.data())), m_end(m_p + data.size()),
          m_source(source)
    {
    }

    bool next(std::uint32_t &field, std::uint32_t &wire)
    {
        if (m_p >= m_end)
            return false;
        const auto key = varint();
        field = static_cast<std::uint32_t>(key >> 3);
        wire = static_cast<std::uint32_t>(key & 7);
        return true;
    }

    std::uint64_t varint()
    {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p >= m_end)
                fail();
            const auto byte = *m_p++;
            value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return value;
        }
        fail();
    }

    std::string_view bytes()
    {
        const auto size = varint();
        if (size > static_cast<std::uint64_t>(m_end - m_p))
            fail();
        std::string_view out(reinterpret_cast<const char *>(m_p), size);
        m_p += size;
        return out;
    }

    float fixed32()
    {
        if (m_end - m_p < 4)
            fail();
        float value;
        std::memcpy(&value, m_p, 4);
        m_p += 4;
        return value;
    }

    void skip(std::uint32_t wire)
    {
        switch (wire) {
        case 0:
            varint();
            return;
        case 1:
            if (m_end - m_p < 8)
                fail();
            m_p += 8;
            return;
        case 2:
            bytes();
            return;
        case 5:
            fixed32();
            return;
        default:
            fail();
        }
    }

private:
    [[noreturn]] void fail() const
    {
        throw InputError(m_source + ": not a SentencePiece model (truncated or corrupt protobuf)");
    }

    const std::uint8_t *m_p;
    const std::uint8_t *m_end;
    const std::string &m_source;
};

// Bytes of the UTF-8 character at the start of text (1 for a malformed byte).
std::size_t utf8Length(std::string_view text, bool *valid = nullptr)
{
    const auto c = static_cast<unsigned char>(text[0]);
    std::size_t length = c < 0x80           ? 1
                         : (c >> 5) == 0x6  ? 2
                         : (c >> 4) == 0xe  ? 3
                         : (c >> 3) == 0x1e ? 4
                                            : 0;
    bool ok = length != 0 && length <= text.size();
    for (std::size_t i = 1; ok && i < length; ++i)
        ok = (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80;
    if (valid)
        *valid = ok;
    return ok ? length : 1;
}

} // namespace

SentencePieceModel::SentencePieceModel(const std::filesystem::path &file)
{
    const auto source = file.filename().string();
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw InputError(file.string() + ": missing");
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    WireReader model(data, source);
    std::uint32_t field = 0;
    std::uint32_t wire = 0;
    std::string_view charmap;
    while (model.next(field, wire)) {
        if (field == 1 && wire == 2) { // SentencePiece
            WireReader reader(model.bytes(), source);
            Piece piece;
            while (reader.next(field, wire)) {
                if (field == 1 && wire == 2)
                    piece.text = std::string(reader.bytes());
                else if (field == 2 && wire == 5)
                    piece.score = reader.fixed32();
                else if (field == 3 && wire == 0)
                    piece.type = static_cast<PieceType>(reader.varint());
                else
                    reader.skip(wire);
            }
            m_pieces.push_back(std::move(piece));
        } else if (field == 2 && wire == 2) { // TrainerSpec
            WireReader reader(model.bytes(), source);
            while (reader.next(field, wire)) {
                if (field == 3 && wire == 0) {
                    const auto type = reader.varint();
                    if (type != 1)
                        throw InputError(source +
                                         ": only unigram SentencePiece models are "
                                         "supported (model_type " +
                                         std::to_string(type) + ")");
                } else if (field == 35 && wire == 0) {
                    if (reader.varint() != 0)
                        throw InputError(source + ": byte_fallback models are not supported");
                } else {
                    reader.skip(wire);
                }
            }
        } else if (field == 3 && wire == 2) { // NormalizerSpec
            WireReader reader(model.bytes(), source);
            while (reader.next(field, wire)) {
                if (field == 2 && wire == 2)
                    charmap = reader.bytes();
                else if (field == 3 && wire == 0)
                    m_addDummyPrefix = reader.varint() != 0;
                else if (field == 4 && wire == 0)
                    m_removeExtraWhitespaces = reader.varint() != 0;
                else if (field == 5 && wire == 0)
                    m_escapeWhitespaces = reader.varint() != 0;
                else
                    reader.skip(wire);
            }
        } else {
            model.skip(wire);
        }
    }
    if (m_pieces.empty())
        throw InputError(source + ": not a SentencePiece model (no pieces)");

    m_minScore = FLT_MAX;
    m_maxScore = FLT_MIN; // as sentencepiece: never below the smallest positive float
    for (std::size_t i = 0; i < m_pieces.size(); ++i) {
        const auto &p = m_pieces[i];
        if (p.text.empty())
            throw InputError(source + ": piece " + std::to_string(i) + " is empty");
        if (!m_ids.emplace(p.text, static_cast<std::int64_t>(i)).second)
            throw InputError(source + ": piece '" + p.text + "' is defined twice");
        if (p.type == PieceType::Unknown)
            m_unkId = static_cast<std::int64_t>(i);
        if (p.type == PieceType::Normal) {
            m_minScore = std::min(m_minScore, p.score);
            m_maxScore = std::max(m_maxScore, p.score);
        }
        if (p.type == PieceType::Normal || p.type == PieceType::UserDefined)
            m_maxPieceBytes = std::max(m_maxPieceBytes, p.text.size());
    }
    if (m_unkId < 0)
        throw InputError(source + ": the model has no unknown piece");

    if (!charmap.empty()) {
        // [uint32 trie size][darts-clone double array][replacement strings]
        std::uint32_t trieBytes = 0;
        if (charmap.size() <= 4)
            throw InputError(source + ": corrupt precompiled character map");
        std::memcpy(&trieBytes, charmap.data(), 4);
        if (trieBytes >= charmap.size() - 4 + 1 || trieBytes % 4 != 0)
            throw InputError(source + ": corrupt precompiled character map");
        m_trie.resize(trieBytes / 4);
        std::memcpy(m_trie.data(), charmap.data() + 4, trieBytes);
        m_normalized = std::string(charmap.substr(4 + trieBytes));
        m_normalized.push_back('\0');
    }
}

std::int64_t SentencePieceModel::pieceId(std::string_view piece) const
{
    const auto it = m_ids.find(std::string(piece));
    return it == m_ids.end() ? -1 : it->second;
}

std::pair<std::string_view, std::size_t>
SentencePieceModel::normalizePrefix(std::string_view input) const
{
    std::size_t longest = 0;
    std::uint32_t value = 0;
    if (!m_trie.empty()) {
        // darts-clone common prefix search: unit = label | has_leaf | offset, leaf = value.
        auto offset = [](std::uint32_t unit) { return (unit >> 10) << ((unit & (1U << 9)) >> 6); };
        std::size_t node = offset(m_trie[0]);
        for (std::size_t i = 0; i < input.size(); ++i) {
            const auto byte = static_cast<unsigned char>(input[i]);
            node ^= byte;
            if (node >= m_trie.size())
                break;
            const auto unit = m_trie[node];
            if ((unit & ((1U << 31) | 0xFF)) != byte)
                break;
            node ^= offset(unit);
            if (node >= m_trie.size())
                break;
            if ((unit >> 8) & 1) {
                longest = i + 1;
                value = m_trie[node] & ((1U << 31) - 1);
            }
        }
    }
    if (longest > 0 && value < m_normalized.size())
        return {std::string_view(m_normalized.c_str() + value), longest};
    bool valid = true;
    const auto length = utf8Length(input, &valid);
    if (!valid)
        return {"\xEF\xBF\xBD", 1}; // U+FFFD for a malformed byte
    return {input.substr(0, length), length};
}

std::string SentencePieceModel::normalize(std::string_view input) const
{
    std::string out;
    if (m_removeExtraWhitespaces) {
        while (!input.empty()) {
            const auto [text, consumed] = normalizePrefix(input);
            if (text != " ")
                break;
            input.remove_prefix(consumed);
        }
    }
    if (input.empty())
        return out;
    const std::string space = m_escapeWhitespaces ? kSpace : " ";
    if (m_addDummyPrefix)
        out += space;
    bool previousSpace = m_removeExtraWhitespaces;
    while (!input.empty()) {
        auto [text, consumed] = normalizePrefix(input);
        if (previousSpace && m_removeExtraWhitespaces)
            while (!text.empty() && text.front() == ' ')
                text.remove_prefix(1);
        if (!text.empty()) {
            for (const char ch : text) {
                if (m_escapeWhitespaces && ch == ' ')
                    out += kSpace;
                else
                    out += ch;
            }
            previousSpace = text.back() == ' ';
        }
        input.remove_prefix(consumed);
        if (!m_removeExtraWhitespaces)
            previousSpace = false;
    }
    if (m_removeExtraWhitespaces)
        while (out.size() >= space.size() &&
               out.compare(out.size() - space.size(), space.size(), space) == 0)
            out.resize(out.size() - space.size());
    return out;
}

std::vector<std::int64_t> SentencePieceModel::encode(std::string_view text) const
{
    const auto normalized = normalize(text);
    const auto size = normalized.size();
    struct Node {
        std::int64_t id = -1;
        std::int64_t startsAt = -1;
        double score = 0.0;
    };
    std::vector<Node> best(size + 1);
    best[0].startsAt = 0;
    const double unkScore = static_cast<double>(m_minScore) - kUnkPenalty;
    std::size_t start = 0;
    while (start < size) {
        const auto charBytes =
            std::min(utf8Length(std::string_view(normalized).substr(start)), size - start);
        const double here = best[start].score;
        bool hasSingle = false;
        // Every piece that starts here, shortest first, ending on a character boundary.
        std::size_t end = start;
        while (end < size && end - start < m_maxPieceBytes) {
            end += std::min(utf8Length(std::string_view(normalized).substr(end)), size - end);
            if (end - start > m_maxPieceBytes)
                break;
            const auto it = m_ids.find(normalized.substr(start, end - start));
            if (it == m_ids.end())
                continue;
            const auto &piece = m_pieces[static_cast<std::size_t>(it->second)];
            if (piece.type != PieceType::Normal && piece.type != PieceType::UserDefined)
                continue;
            const double length = static_cast<double>(end - start);
            const double score = piece.type == PieceType::UserDefined
                                     ? length * m_maxScore - 0.1
                                     : static_cast<double>(piece.score);
            auto &target = best[end];
            if (target.startsAt < 0 || here + score > target.score) {
                target = {it->second, static_cast<std::int64_t>(start), here + score};
            }
            if (end - start == charBytes)
                hasSingle = true;
        }
        if (!hasSingle) {
            auto &target = best[start + charBytes];
            if (target.startsAt < 0 || here + unkScore > target.score)
                target = {m_unkId, static_cast<std::int64_t>(start), here + unkScore};
        }
        start += charBytes;
    }
    std::vector<std::int64_t> ids;
    for (auto at = static_cast<std::int64_t>(size); at > 0;) {
        const auto &node = best[static_cast<std::size_t>(at)];
        ids.push_back(node.id);
        at = node.startsAt;
    }
    std::reverse(ids.begin(), ids.end());
    // Runs of unknown characters become one unknown token, as sentencepiece's encoder does.
    ids.erase(
        std::unique(ids.begin(), ids.end(),
                    [&](std::int64_t a, std::int64_t b) { return a == m_unkId && b == m_unkId; }),
        ids.end());
    return ids;
}

std::string SentencePieceModel::decode(const std::vector<std::int64_t> &ids) const
{
    std::string text;
    for (const auto id : ids) {
        if (id < 0 || id >= size())
            continue;
        const auto &p = m_pieces[static_cast<std::size_t>(id)];
        if (p.type == PieceType::Control || p.type == PieceType::Unused)
            continue;
        text += p.type == PieceType::Unknown ? " \xE2\x81\x87 " : p.text;
    }
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, kSpace.size(), kSpace) == 0) {
            out += ' ';
            i += kSpace.size();
        } else {
            out += text[i++];
        }
    }
    if (m_addDummyPrefix && !out.empty() && out.front() == ' ')
        out.erase(0, 1);
    return out;
}

} // namespace mp
