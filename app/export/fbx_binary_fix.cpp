#include "app/export/fbx_binary_fix.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace mp {

namespace {

constexpr std::size_t kHeaderSize = 27;
constexpr char kMagic[] = "Kaydara FBX Binary  \0\x1a\0"; // 23 bytes with the two NULs
constexpr std::size_t kMagicSize = 23;
// The footer Assimp (and the FBX SDK) write after the top-level null record: a 16-byte id,
// zero padding to a 16-byte boundary, then 4 zero bytes, the version, 120 zeros and this magic.
constexpr unsigned char kFooterMagic[16] = {0xf8, 0x5a, 0x8c, 0x6a, 0xde, 0xf5, 0xd9, 0x7e,
                                            0xec, 0xe9, 0x0c, 0xe3, 0x75, 0x8f, 0x29, 0x0b};
constexpr std::size_t kFooterTail = 4 + 4 + 120 + 16;
constexpr int kMaxDepth = 64; // far deeper than any real FBX; stops runaway recursion

std::uint64_t readLe(std::string_view bytes, std::size_t at, int width)
{
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i)
        value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    return value;
}

void writeLe(std::string &out, std::size_t at, std::uint64_t value, int width)
{
    for (int i = 0; i < width; ++i) {
        out[at + i] = static_cast<char>(value & 0xff);
        value >>= 8;
    }
}

struct Layout {
    int fieldWidth;       // 4 or 8 bytes per header field
    std::size_t nullSize; // 13 or 25
    std::size_t headerSize() const { return 3 * static_cast<std::size_t>(fieldWidth) + 1; }
};

Layout layoutFor(std::uint32_t version)
{
    return version >= 7500 ? Layout{8, 25} : Layout{4, 13};
}

std::string at(std::size_t offset)
{
    return " at byte " + std::to_string(offset);
}

// One node record as read: where its pieces are in the input.
struct Record {
    std::string_view name;
    std::uint64_t numProperties = 0;
    std::string_view properties;
    std::vector<Record> children;
    bool hadNullRecord = false;
};

class RecordReader {
public:
    RecordReader(std::string_view bytes, Layout layout, bool strict)
        : m_bytes(bytes), m_layout(layout), m_strict(strict)
    {
    }

    // Reads records from pos up to end (exclusive). In a nested list stops at a null record; at
    // the top level (end = npos) also stops at the first bytes that cannot be a record.
    std::vector<Record> readList(std::size_t &pos, std::size_t end, int depth, bool &sawNull)
    {
        if (depth > kMaxDepth)
            throw std::runtime_error("nesting deeper than " + std::to_string(kMaxDepth) + at(pos));
        m_maxDepth = std::max(m_maxDepth, depth);
        const bool topLevel = end == std::string_view::npos;
        const std::size_t limit = topLevel ? m_bytes.size() : end;
        std::vector<Record> records;
        sawNull = false;
        while (pos < limit) {
            if (pos + m_layout.headerSize() > limit) {
                if (topLevel && !m_strict)
                    break;
                throw std::runtime_error("record header runs past its parent's end" + at(pos));
            }
            if (isNullRecord(pos, limit)) {
                pos += m_layout.nullSize;
                sawNull = true;
                break;
            }
            const std::uint64_t endOffset = readLe(m_bytes, pos, m_layout.fieldWidth);
            if (endOffset <= pos + m_layout.headerSize() || endOffset > limit) {
                if (topLevel && !m_strict)
                    break; // the footer
                throw std::runtime_error("end offset " + std::to_string(endOffset) +
                                         " outside its parent (ends at " + std::to_string(limit) +
                                         ")" + at(pos));
            }
            records.push_back(readRecord(pos, endOffset, depth));
            pos = endOffset;
        }
        if (!topLevel && pos != end)
            throw std::runtime_error("nested list does not end at its parent's end offset" +
                                     at(pos));
        return records;
    }

    int numNodes() const { return m_numNodes; }
    int numNested() const { return m_numNested; }
    int maxDepth() const { return m_maxDepth; }

private:
    bool isNullRecord(std::size_t pos, std::size_t limit) const
    {
        if (pos + m_layout.nullSize > limit)
            return false;
        for (std::size_t i = 0; i < m_layout.nullSize; ++i)
            if (m_bytes[pos + i] != 0)
                return false;
        return true;
    }

    Record readRecord(std::size_t start, std::size_t endOffset, int depth)
    {
        const int w = m_layout.fieldWidth;
        Record record;
        record.numProperties = readLe(m_bytes, start + w, w);
        const std::uint64_t propertyBytes = readLe(m_bytes, start + 2 * w, w);
        const std::size_t nameLength = static_cast<unsigned char>(m_bytes[start + 3 * w]);
        std::size_t pos = start + m_layout.headerSize();
        if (nameLength == 0 || pos + nameLength > endOffset)
            throw std::runtime_error("bad node name length" + at(start));
        record.name = m_bytes.substr(pos, nameLength);
        pos += nameLength;
        if (propertyBytes > endOffset - pos)
            throw std::runtime_error("property list of '" + std::string(record.name) +
                                     "' runs past the record's end" + at(start));
        record.properties = m_bytes.substr(pos, propertyBytes);
        if (m_strict)
            checkProperties(record, pos);
        pos += propertyBytes;
        ++m_numNodes;
        if (pos < endOffset) {
            bool sawNull = false;
            record.children = readList(pos, endOffset, depth + 1, sawNull);
            record.hadNullRecord = sawNull;
            if (m_strict && !sawNull)
                throw std::runtime_error("nested list of '" + std::string(record.name) +
                                         "' lacks its null record" + at(start));
            if (sawNull && pos != endOffset)
                throw std::runtime_error("bytes after the null record of '" +
                                         std::string(record.name) + "'" + at(pos));
            ++m_numNested;
        }
        return record;
    }

    // Walks the typed property values and checks they fill the declared length exactly.
    void checkProperties(const Record &record, std::size_t start) const
    {
        const std::string_view p = record.properties;
        std::size_t pos = 0;
        const auto need = [&](std::size_t n) {
            if (pos + n > p.size())
                throw std::runtime_error("property of '" + std::string(record.name) +
                                         "' runs past its list" + at(start + pos));
        };
        for (std::uint64_t i = 0; i < record.numProperties; ++i) {
            need(1);
            const char type = p[pos++];
            switch (type) {
            case 'C':
                need(1), pos += 1;
                break;
            case 'Y':
                need(2), pos += 2;
                break;
            case 'I':
            case 'F':
                need(4), pos += 4;
                break;
            case 'D':
            case 'L':
                need(8), pos += 8;
                break;
            case 'S':
            case 'R': {
                need(4);
                const std::uint64_t length = readLe(p, pos, 4);
                pos += 4;
                need(length);
                pos += length;
                break;
            }
            case 'f':
            case 'd':
            case 'l':
            case 'i':
            case 'b': {
                need(12);
                const std::uint64_t count = readLe(p, pos, 4);
                const std::uint64_t encoding = readLe(p, pos + 4, 4);
                const std::uint64_t stored = readLe(p, pos + 8, 4);
                pos += 12;
                const std::uint64_t element = (type == 'd' || type == 'l') ? 8
                                              : type == 'b'                ? 1
                                                                           : 4;
                if (encoding == 0 && stored != count * element)
                    throw std::runtime_error("array property of '" + std::string(record.name) +
                                             "' has inconsistent lengths" + at(start + pos));
                need(stored);
                pos += stored;
                break;
            }
            default:
                throw std::runtime_error("unknown property type '" + std::string(1, type) +
                                         "' in '" + std::string(record.name) + "'" +
                                         at(start + pos));
            }
        }
        if (pos != p.size())
            throw std::runtime_error("property list of '" + std::string(record.name) +
                                     "' is longer than its properties" + at(start));
    }

    std::string_view m_bytes;
    Layout m_layout;
    bool m_strict;
    int m_numNodes = 0;
    int m_numNested = 0;
    int m_maxDepth = 0;
};

std::uint32_t readHeader(std::string_view bytes)
{
    if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
        throw std::runtime_error("not a binary FBX file (bad header)");
    const auto version = static_cast<std::uint32_t>(readLe(bytes, kMagicSize, 4));
    if (version < 7000 || version >= 8000)
        throw std::runtime_error("unsupported binary FBX version " + std::to_string(version));
    return version;
}

// Whether a record gets a null record: when it has children, as the format requires, and also
// where the FBX SDK writes one on a childless record (no properties, or an animation stack or
// layer), which Blender's writer copies for the SDK-based importers of Maya, Unity and Unreal.
bool closesWithNullRecord(const Record &record)
{
    return !record.children.empty() || record.hadNullRecord || record.numProperties == 0 ||
           record.name == "AnimationStack" || record.name == "AnimationLayer";
}

void writeRecord(std::string &out, const Record &record, Layout layout)
{
    const int w = layout.fieldWidth;
    const std::size_t start = out.size();
    out.append(layout.headerSize(), '\0');
    writeLe(out, start + w, record.numProperties, w);
    writeLe(out, start + 2 * w, record.properties.size(), w);
    out[start + 3 * w] = static_cast<char>(record.name.size());
    out += record.name;
    out += record.properties;
    if (closesWithNullRecord(record)) {
        for (const Record &child : record.children)
            writeRecord(out, child, layout);
        out.append(layout.nullSize, '\0');
    }
    writeLe(out, start, out.size(), w);
}

} // namespace

FbxBinaryCheck checkFbxBinary(std::string_view bytes)
{
    FbxBinaryCheck check;
    try {
        check.version = readHeader(bytes);
        const Layout layout = layoutFor(check.version);
        RecordReader reader(bytes, layout, true);
        std::size_t pos = kHeaderSize;
        bool sawNull = false;
        // Strict: the top-level list must end with its own null record before the footer.
        std::size_t end = std::string_view::npos;
        const auto records = reader.readList(pos, end, 0, sawNull);
        if (!sawNull)
            throw std::runtime_error("top-level node list lacks its null record" + at(pos));
        if (records.empty())
            throw std::runtime_error("no node records");
        check.numNodes = reader.numNodes();
        check.numNestedLists = reader.numNested();
        check.maxDepth = reader.maxDepth();
        if (bytes.size() - pos < kFooterTail ||
            std::memcmp(bytes.data() + bytes.size() - 16, kFooterMagic, 16) != 0)
            throw std::runtime_error("missing footer" + at(pos));
        check.valid = true;
    } catch (const std::exception &e) {
        check.valid = false;
        check.problem = e.what();
    }
    return check;
}

std::string addFbxNullRecords(std::string_view bytes)
{
    const std::uint32_t version = readHeader(bytes);
    const Layout layout = layoutFor(version);
    RecordReader reader(bytes, layout, false);
    std::size_t pos = kHeaderSize;
    bool sawNull = false;
    const auto records = reader.readList(pos, std::string_view::npos, 0, sawNull);
    if (records.empty())
        throw std::runtime_error("binary FBX without node records");

    std::string out(bytes.substr(0, kHeaderSize));
    out.reserve(bytes.size() + 64 * static_cast<std::size_t>(reader.numNested() + 1));
    for (const Record &record : records)
        writeRecord(out, record, layout);
    out.append(layout.nullSize, '\0');

    // Footer: keep its id and tail, redo the alignment padding for the new length.
    const std::string_view footer = bytes.substr(pos);
    if (footer.size() >= 16 + kFooterTail &&
        std::memcmp(footer.data() + footer.size() - 16, kFooterMagic, 16) == 0) {
        out += footer.substr(0, 16);
        out.append(16 - out.size() % 16, '\0');
        out += footer.substr(footer.size() - kFooterTail);
    } else {
        out += footer;
    }
    return out;
}

} // namespace mp
