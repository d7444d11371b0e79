#include "ml/data/safetensors.h"

#include "ml/core/error.h"
#include "ml/core/json_read.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mp {

namespace {

// The reference implementation refuses headers above 100 MB; a larger one is corrupt.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

struct DtypeName {
    const char *name;
    at::ScalarType dtype;
};

constexpr DtypeName kDtypes[] = {
    {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16}, {"F64", at::kDouble},
    {"I64", at::kLong},  {"I32", at::kInt},   {"I16", at::kShort},     {"I8", at::kChar},
    {"U8", at::kByte},   {"BOOL", at::kBool},
};

std::string fileName(const std::filesystem::path &path)
{
    return path.filename().string();
}

[[noreturn]] void fail(const std::filesystem::path &path, const std::string &what)
{
    throw InputError(fileName(path) + ": " + what);
}

std::string shapeText(const std::vector<std::int64_t> &shape)
{
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? "," : "") + std::to_string(shape[i]);
    return text + ")";
}

SafetensorsEntry parseEntry(const std::filesystem::path &path, const std::string &name,
                            const nlohmann::json &value, std::uint64_t dataSize)
{
    const std::string where = "tensor '" + name + "': ";
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") ||
        !value.contains("data_offsets"))
        fail(path, where + "needs dtype, shape and data_offsets");
    SafetensorsEntry entry;
    const auto &dtype = value["dtype"];
    if (!dtype.is_string())
        fail(path, where + "dtype is not a string");
    try {
        entry.dtype = safetensorsDtype(dtype.get<std::string>());
    } catch (const InputError &e) {
        fail(path, where + e.what());
    }
    const auto &shape = value["shape"];
    const auto &offsets = value["data_offsets"];
    if (!shape.is_array() || !offsets.is_array() || offsets.size() != 2)
        fail(path, where + "shape must be a list and data_offsets a pair");
    std::uint64_t numel = 1;
    for (const auto &dim : shape) {
        if (!dim.is_number_unsigned())
            fail(path, where + "shape has a negative or non-integer dimension");
        const auto size = dim.get<std::uint64_t>();
        if (size != 0 && numel > (std::uint64_t(1) << 62) / size)
            fail(path, where + "shape " + dim.dump() + " overflows");
        numel *= size;
        entry.shape.push_back(static_cast<std::int64_t>(size));
    }
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
        fail(path, where + "data_offsets must be non-negative integers");
    entry.begin = offsets[0].get<std::uint64_t>();
    entry.end = offsets[1].get<std::uint64_t>();
    if (entry.end < entry.begin)
        fail(path, where + "data_offsets end " + std::to_string(entry.end) + " before begin " +
                       std::to_string(entry.begin));
    if (entry.end > dataSize)
        fail(path, where + "data_offsets [" + std::to_string(entry.begin) + ", " +
                       std::to_string(entry.end) + "] run past the data (" +
                       std::to_string(dataSize) + " bytes; file truncated?)");
    const std::uint64_t expected = numel * c10::elementSize(entry.dtype);
    if (entry.end - entry.begin != expected)
        fail(path, where + "shape " + shapeText(entry.shape) + " of " + dtype.get<std::string>() +
                       " needs " + std::to_string(expected) + " bytes, data_offsets give " +
                       std::to_string(entry.end - entry.begin));
    return entry;
}

} // namespace

at::ScalarType safetensorsDtype(const std::string &name)
{
    for (const auto &d : kDtypes)
        if (name == d.name)
            return d.dtype;
    throw InputError("unknown dtype '" + name + "'");
}

std::string safetensorsDtypeName(at::ScalarType dtype)
{
    for (const auto &d : kDtypes)
        if (dtype == d.dtype)
            return d.name;
    throw InputError(std::string("dtype ") + c10::toString(dtype) +
                     " cannot be stored in safetensors");
}

SafetensorsReader::SafetensorsReader(const std::filesystem::path &path) : m_path(path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(path, "not a regular file");
    }
    m_mapSize = static_cast<std::size_t>(st.st_size);
    if (m_mapSize < 8) {
        ::close(fd);
        fail(path, "too short for a safetensors header (" + std::to_string(m_mapSize) + " bytes)");
    }
    void *map = ::mmap(nullptr, m_mapSize, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED)
        fail(path, std::string("cannot map: ") + std::strerror(errno));
    m_map = static_cast<const std::uint8_t *>(map);

    try {
        std::uint64_t headerSize = 0;
        std::memcpy(&headerSize, m_map, 8);
        if (headerSize > kMaxHeaderBytes)
            fail(path, "header of " + std::to_string(headerSize) + " bytes is too large (limit " +
                           std::to_string(kMaxHeaderBytes) + ")");
        if (headerSize > m_mapSize - 8)
            fail(path, "header of " + std::to_string(headerSize) + " bytes runs past the end of " +
                           "the file (" + std::to_string(m_mapSize) + " bytes)");
        m_dataStart = 8 + headerSize;
        const std::uint64_t dataSize = m_mapSize - m_dataStart;
        nlohmann::json header;
        try {
            header = parseJsonLimited(path.string(), m_map + 8, m_map + m_dataStart);
        } catch (const nlohmann::json::exception &e) {
            fail(path, std::string("header is not valid JSON: ") + e.what());
        }
        if (!header.is_object())
            fail(path, "header is not a JSON object");
        for (const auto &[name, value] : header.items()) {
            if (name == "__metadata__") {
                if (!value.is_object())
                    fail(path, "__metadata__ is not an object");
                for (const auto &[key, text] : value.items()) {
                    if (!text.is_string())
                        fail(path, "__metadata__ '" + key + "' is not a string");
                    m_metadata[key] = text.get<std::string>();
                }
                continue;
            }
            m_entries[name] = parseEntry(path, name, value, dataSize);
        }
        // Two tensors may not share bytes.
        std::vector<std::pair<const std::string *, const SafetensorsEntry *>> order;
        for (const auto &[name, entry] : m_entries)
            if (entry.end > entry.begin)
                order.emplace_back(&name, &entry);
        std::sort(order.begin(), order.end(),
                  [](const auto &a, const auto &b) { return a.second->begin < b.second->begin; });
        for (std::size_t i = 1; i < order.size(); ++i)
            if (order[i].second->begin < order[i - 1].second->end)
                fail(path, "tensor '" + *order[i].first + "' overlaps tensor '" +
                               *order[i - 1].first + "'");
    } catch (...) {
        ::munmap(const_cast<std::uint8_t *>(m_map), m_mapSize);
        m_map = nullptr;
        throw;
    }
}

SafetensorsReader::~SafetensorsReader()
{
    if (m_map)
        ::munmap(const_cast<std::uint8_t *>(m_map), m_mapSize);
}

std::vector<std::string> SafetensorsReader::names() const
{
    std::vector<std::string> result;
    result.reserve(m_entries.size());
    for (const auto &[name, entry] : m_entries)
        result.push_back(name);
    return result;
}

const SafetensorsEntry &SafetensorsReader::entry(const std::string &name) const
{
    const auto it = m_entries.find(name);
    if (it == m_entries.end())
        fail(m_path, "no tensor '" + name + "'");
    return it->second;
}

at::Tensor SafetensorsReader::tensor(const std::string &name) const
{
    const auto &e = entry(name);
    auto result = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    if (e.end > e.begin)
        std::memcpy(result.data_ptr(), m_map + m_dataStart + e.begin, e.end - e.begin);
    return result;
}

TensorMap SafetensorsReader::readAll() const
{
    TensorMap result;
    for (const auto &[name, e] : m_entries)
        result.emplace(name, tensor(name));
    return result;
}

TensorMap readSafetensors(const std::filesystem::path &path)
{
    return SafetensorsReader(path).readAll();
}

void writeSafetensors(const std::filesystem::path &path, const TensorMap &tensors,
                      const SafetensorsMetadata &metadata)
{
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::vector<at::Tensor> data;
    std::uint64_t offset = 0;
    for (const auto &[name, tensor] : tensors) {
        if (name == "__metadata__")
            throw InputError(fileName(path) + ": '__metadata__' is reserved, not a tensor name");
        if (!tensor.defined())
            throw std::runtime_error(fileName(path) + ": tensor '" + name + "' is undefined");
        auto cpu = tensor.detach().to(torch::kCPU).contiguous();
        std::string dtype;
        try {
            dtype = safetensorsDtypeName(cpu.scalar_type());
        } catch (const InputError &e) {
            throw InputError(fileName(path) + ": tensor '" + name + "': " + e.what());
        }
        const std::uint64_t bytes = cpu.numel() * cpu.element_size();
        header[name] = {{"dtype", dtype},
                        {"shape", cpu.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        data.push_back(std::move(cpu));
    }
    std::string text = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
    text.append((8 - text.size() % 8) % 8, ' ');
    const std::uint64_t headerSize = text.size();

    auto tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw InputError(fileName(path) + ": cannot write to " + tmp.parent_path().string());
        out.write(reinterpret_cast<const char *>(&headerSize), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const auto &t : data)
            out.write(static_cast<const char *>(t.data_ptr()),
                      static_cast<std::streamsize>(t.numel() * t.element_size()));
        out.flush();
        if (!out)
            throw InputError(fileName(path) + ": write failed (disk full?)");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        throw InputError(fileName(path) + ": cannot rename temporary file: " + ec.message());
}

} // namespace mp
