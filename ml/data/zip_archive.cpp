#include "ml/data/zip_archive.h"

#include "ml/core/error.h"

#include <algorithm>
#include <cstring>

namespace mp {

namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfCentral = 0x06054b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kZip64End = 0x06064b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kMaxComment = 0xFFFF;
// More entries than any checkpoint has (MotionGPT's holds about a thousand storages).
constexpr std::uint64_t kMaxEntries = 1u << 22;

std::uint64_t le(const std::uint8_t *p, int bytes)
{
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i)
        value = (value << 8) | p[i];
    return value;
}

} // namespace

void ZipArchive::fail(const std::string &what) const
{
    throw InputError(m_path.string() + ": " + what);
}

bool ZipArchive::looksLikeZip(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::uint8_t magic[4] = {};
    return in.read(reinterpret_cast<char *>(magic), 4) && le(magic, 4) == kLocalHeader;
}

void ZipArchive::readAt(std::uint64_t offset, void *out, std::uint64_t size)
{
    if (offset > m_fileSize || size > m_fileSize - offset)
        fail("zip: " + std::to_string(size) + " bytes at offset " + std::to_string(offset) +
             " lie past the end of the file (" + std::to_string(m_fileSize) + " bytes)");
    m_in.clear();
    m_in.seekg(static_cast<std::streamoff>(offset));
    if (!m_in.read(static_cast<char *>(out), static_cast<std::streamsize>(size)))
        fail("zip: read error at offset " + std::to_string(offset));
}

ZipArchive::ZipArchive(const std::filesystem::path &path) : m_path(path)
{
    std::error_code ec;
    m_fileSize = std::filesystem::file_size(path, ec);
    if (ec)
        fail("cannot read (" + ec.message() + ")");
    m_in.open(path, std::ios::binary);
    if (!m_in)
        fail("cannot open");
    if (m_fileSize < kEndSize)
        fail("zip: too short for an end-of-central-directory record");

    // The end record sits in the last 22 + comment bytes.
    const auto tailSize = std::min<std::uint64_t>(m_fileSize, kEndSize + kMaxComment);
    std::vector<std::uint8_t> tail(tailSize);
    readAt(m_fileSize - tailSize, tail.data(), tailSize);
    std::int64_t end = -1;
    for (auto i = static_cast<std::int64_t>(tailSize - kEndSize); i >= 0; --i)
        if (le(&tail[i], 4) == kEndOfCentral) {
            end = i;
            break;
        }
    if (end < 0)
        fail("zip: no end-of-central-directory record (not a zip archive, or truncated)");
    const std::uint64_t endOffset = m_fileSize - tailSize + end;
    std::uint64_t count = le(&tail[end + 10], 2);
    std::uint64_t directorySize = le(&tail[end + 12], 4);
    std::uint64_t directoryOffset = le(&tail[end + 16], 4);
    if (endOffset >= 20) {
        std::uint8_t locator[20];
        readAt(endOffset - 20, locator, 20);
        if (le(locator, 4) == kZip64Locator) {
            std::uint8_t record[56];
            readAt(le(locator + 8, 8), record, 56);
            if (le(record, 4) != kZip64End)
                fail("zip: the zip64 locator points to no zip64 end record");
            count = le(record + 32, 8);
            directorySize = le(record + 40, 8);
            directoryOffset = le(record + 48, 8);
        }
    }
    if (count > kMaxEntries)
        fail("zip: " + std::to_string(count) + " entries (limit " + std::to_string(kMaxEntries) +
             ")");
    if (directoryOffset > m_fileSize || directorySize > m_fileSize - directoryOffset)
        fail("zip: the central directory lies past the end of the file");
    std::vector<std::uint8_t> directory(directorySize);
    readAt(directoryOffset, directory.data(), directorySize);

    std::size_t at = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (directory.size() - at < 46 || le(&directory[at], 4) != kCentralHeader)
            fail("zip: central directory entry " + std::to_string(i) + " is damaged");
        const auto *h = &directory[at];
        Entry entry;
        entry.method = static_cast<std::uint16_t>(le(h + 10, 2));
        entry.compressed = le(h + 20, 4);
        entry.size = le(h + 24, 4);
        entry.headerOffset = le(h + 42, 4);
        const auto nameLength = le(h + 28, 2);
        const auto extraLength = le(h + 30, 2);
        const auto commentLength = le(h + 32, 2);
        if (directory.size() - at < 46 + nameLength + extraLength + commentLength)
            fail("zip: central directory entry " + std::to_string(i) + " is truncated");
        std::string name(reinterpret_cast<const char *>(h + 46), nameLength);
        // Zip64 extra field: the 64-bit values of the fields saturated at 0xFFFFFFFF, in order.
        const auto *extra = h + 46 + nameLength;
        for (std::uint64_t e = 0; e + 4 <= extraLength;) {
            const auto id = le(extra + e, 2);
            const auto length = le(extra + e + 2, 2);
            if (e + 4 + length > extraLength)
                break;
            if (id == 0x0001) {
                const auto *field = extra + e + 4;
                std::uint64_t used = 0;
                for (auto *value : {&entry.size, &entry.compressed, &entry.headerOffset}) {
                    if (*value != 0xFFFFFFFFu)
                        continue;
                    if (used + 8 > length)
                        fail("zip: entry '" + name + "' has a short zip64 field");
                    *value = le(field + used, 8);
                    used += 8;
                }
            }
            e += 4 + length;
        }
        m_entries[name] = entry;
        at += 46 + nameLength + extraLength + commentLength;
    }
}

std::vector<std::string> ZipArchive::names() const
{
    std::vector<std::string> out;
    for (const auto &[name, entry] : m_entries)
        out.push_back(name);
    return out;
}

std::uint64_t ZipArchive::size(const std::string &name) const
{
    const auto it = m_entries.find(name);
    if (it == m_entries.end())
        fail("zip: no entry '" + name + "'");
    return it->second.size;
}

std::uint64_t ZipArchive::dataOffset(const std::string &name, const Entry &entry)
{
    if (entry.method != 0 || entry.compressed != entry.size)
        fail("zip: entry '" + name + "' is compressed (method " + std::to_string(entry.method) +
             "); torch.save stores entries uncompressed");
    std::uint8_t header[30];
    readAt(entry.headerOffset, header, 30);
    if (le(header, 4) != kLocalHeader)
        fail("zip: entry '" + name + "' has no local header at its offset");
    const auto data = entry.headerOffset + 30 + le(header + 26, 2) + le(header + 28, 2);
    if (data > m_fileSize || entry.size > m_fileSize - data)
        fail("zip: entry '" + name + "' (" + std::to_string(entry.size) +
             " bytes) runs past the end of the file");
    return data;
}

std::string ZipArchive::read(const std::string &name)
{
    const auto it = m_entries.find(name);
    if (it == m_entries.end())
        fail("zip: no entry '" + name + "'");
    const auto offset = dataOffset(name, it->second);
    std::string bytes(it->second.size, '\0');
    readAt(offset, bytes.data(), bytes.size());
    return bytes;
}

void ZipArchive::read(const std::string &name, void *out, std::uint64_t size)
{
    const auto it = m_entries.find(name);
    if (it == m_entries.end())
        fail("zip: no entry '" + name + "'");
    if (size > it->second.size)
        fail("zip: entry '" + name + "' holds " + std::to_string(it->second.size) + " bytes, " +
             std::to_string(size) + " needed");
    readAt(dataOffset(name, it->second), out, size);
}

} // namespace mp
