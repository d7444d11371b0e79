#pragma once
// Reads the entries of a zip archive written without compression, as PyTorch's
// PyTorchStreamWriter writes torch.save files (zip64 included, for checkpoints past 4 GiB).
// Only the central directory is read up front; entries are read on request, after their
// offsets and sizes are checked against the file's size. A compressed entry is an InputError.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace mp {

class ZipArchive {
public:
    explicit ZipArchive(const std::filesystem::path &path);

    const std::filesystem::path &path() const { return m_path; }
    std::vector<std::string> names() const;
    bool contains(const std::string &name) const { return m_entries.count(name) > 0; }
    std::uint64_t size(const std::string &name) const;
    // Reads a whole entry; InputError if it is missing or compressed.
    std::string read(const std::string &name);
    // Reads `size` bytes (the entry's size or less) of an entry into out.
    void read(const std::string &name, void *out, std::uint64_t size);

    // True when the file starts with a zip local header ("PK\3\4").
    static bool looksLikeZip(const std::filesystem::path &path);

private:
    struct Entry {
        std::uint16_t method = 0;
        std::uint64_t size = 0; // uncompressed
        std::uint64_t compressed = 0;
        std::uint64_t headerOffset = 0;
    };
    [[noreturn]] void fail(const std::string &what) const;
    void readAt(std::uint64_t offset, void *out, std::uint64_t size);
    std::uint64_t dataOffset(const std::string &name, const Entry &entry);

    std::filesystem::path m_path;
    std::ifstream m_in;
    std::uint64_t m_fileSize = 0;
    std::map<std::string, Entry> m_entries;
};

} // namespace mp
