#pragma once
// Safetensors files (Hugging Face's format): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the raw tensor bytes.
// The reader memory-maps the file and copies each tensor out on request, so a large checkpoint
// can be inspected (names, shapes) without loading it.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mp {

using TensorMap = std::map<std::string, at::Tensor>;
using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsEntry {
    at::ScalarType dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0; // byte offsets relative to the start of the data section
    std::uint64_t end = 0;
};

class SafetensorsReader {
public:
    // Maps the file and validates the whole header; throws InputError naming the file and,
    // where it applies, the tensor.
    explicit SafetensorsReader(const std::filesystem::path &path);
    ~SafetensorsReader();
    SafetensorsReader(const SafetensorsReader &) = delete;
    SafetensorsReader &operator=(const SafetensorsReader &) = delete;

    const std::filesystem::path &path() const { return m_path; }
    std::vector<std::string> names() const;
    bool contains(const std::string &name) const { return m_entries.count(name) > 0; }
    const SafetensorsEntry &entry(const std::string &name) const;
    const SafetensorsMetadata &metadata() const { return m_metadata; }

    // A CPU tensor owning a copy of the bytes.
    at::Tensor tensor(const std::string &name) const;
    TensorMap readAll() const;

private:
    std::filesystem::path m_path;
    const std::uint8_t *m_map = nullptr;
    std::size_t m_mapSize = 0;
    std::size_t m_dataStart = 0;
    std::map<std::string, SafetensorsEntry> m_entries;
    SafetensorsMetadata m_metadata;
};

TensorMap readSafetensors(const std::filesystem::path &path);

// Writes tensors (any device, made contiguous on CPU) sorted by name, header padded to 8 bytes.
// Writes to a temporary file then renames, so a crash never leaves a truncated file.
void writeSafetensors(const std::filesystem::path &path, const TensorMap &tensors,
                      const SafetensorsMetadata &metadata = {});

// "F32", "BF16", ... <-> torch dtypes; unknown names and unsupported dtypes throw InputError.
at::ScalarType safetensorsDtype(const std::string &name);
std::string safetensorsDtypeName(at::ScalarType dtype);

} // namespace mp
