#include "ml/data/torch_checkpoint.h"

#include "ml/core/error.h"
#include "ml/data/pickle_reader.h"
#include "ml/data/zip_archive.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>

namespace mp {

namespace fs = std::filesystem;

namespace {

// torch.serialization's MAGIC_NUMBER (0x1950a86a20f9469cfc6c) as pickle's LONG1 bytes, and the
// legacy format's PROTOCOL_VERSION.
const std::string kLegacyMagic = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
constexpr std::int64_t kLegacyProtocol = 1001;

[[noreturn]] void failCheckpoint(const fs::path &path, const std::string &what)
{
    throw InputError(path.string() + ": " + what);
}

std::vector<std::uint8_t> readFile(const fs::path &path)
{
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec)
        failCheckpoint(path, "cannot read (" + ec.message() + ")");
    std::vector<std::uint8_t> bytes(size);
    std::ifstream in(path, std::ios::binary);
    if (!in.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(size)))
        failCheckpoint(path, "cannot read");
    return bytes;
}

bool isTar(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    char magic[5] = {};
    return in.seekg(257) && in.read(magic, 5) && std::string(magic, 5) == "ustar";
}

} // namespace

TorchCheckpoint::TorchCheckpoint(const fs::path &path) : m_path(path)
{
    if (!fs::is_regular_file(path))
        failCheckpoint(path, "missing or not a file");
    const PickleOptions options{.allowPersistentIds = true};
    if (ZipArchive::looksLikeZip(path)) {
        m_zip = std::make_unique<ZipArchive>(path);
        // Every record sits under one folder named after the file when it was saved.
        for (const auto &name : m_zip->names()) {
            const auto slash = name.find('/');
            if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl")
                m_prefix = name.substr(0, slash + 1);
        }
        if (m_prefix.empty())
            failCheckpoint(path,
                           "a zip archive without <archive>/data.pkl (not a torch.save file)");
        if (m_zip->contains(m_prefix + "byteorder")) {
            const auto order = m_zip->read(m_prefix + "byteorder");
            if (order != "little")
                failCheckpoint(path, "byte order '" + order + "' (only little-endian is read)");
        }
        const auto pickle = m_zip->read(m_prefix + "data.pkl");
        const auto result =
            unpickle(reinterpret_cast<const std::uint8_t *>(pickle.data()), pickle.size(), 0,
                     path.string() + " (" + m_prefix + "data.pkl)", options);
        m_root = result.value;
    } else if (isTar(path)) {
        failCheckpoint(
            path, "the tar layout of torch.save before PyTorch 0.4 is not read; load and save it "
                  "again with a recent PyTorch");
    } else {
        // Legacy: magic, protocol, sys_info, the object, the storage keys, then the storages.
        m_legacy = true;
        const auto bytes = readFile(path);
        const auto source = path.string();
        const std::string notCheckpoint =
            "not a PyTorch checkpoint (neither a zip archive nor torch.save's legacy format)";
        PickleResult magic;
        try {
            magic = unpickle(bytes.data(), bytes.size(), 0, source);
        } catch (const InputError &e) {
            failCheckpoint(path, notCheckpoint + ": " + e.what());
        }
        if (!magic.value.is(PickleValue::Kind::BigInt) || magic.value.toString() != kLegacyMagic)
            failCheckpoint(path, notCheckpoint);
        const auto protocol = unpickle(bytes.data(), bytes.size(), magic.end, source);
        if (!protocol.value.is(PickleValue::Kind::Int) || protocol.value.toInt() != kLegacyProtocol)
            failCheckpoint(path, "legacy torch.save protocol other than 1001");
        const auto sysInfo = unpickle(bytes.data(), bytes.size(), protocol.end, source);
        const auto object = unpickle(bytes.data(), bytes.size(), sysInfo.end, source, options);
        const auto keys = unpickle(bytes.data(), bytes.size(), object.end, source);
        if (!keys.value.is(PickleValue::Kind::List))
            failCheckpoint(path, "legacy storage key list missing");
        std::uint64_t at = keys.end;
        for (const auto &key : keys.value.toList()) {
            if (!key.is(PickleValue::Kind::String))
                failCheckpoint(path, "legacy storage key that is not a string");
            const auto it = object.storages.find(key.toString());
            if (it == object.storages.end())
                failCheckpoint(path,
                               "legacy storage '" + key.toString() + "' is used by no tensor");
            std::int64_t count = 0;
            if (bytes.size() - at < 8)
                failCheckpoint(path, "truncated before storage '" + key.toString() + "'");
            std::memcpy(&count, bytes.data() + at, 8);
            const auto itemSize = static_cast<std::uint64_t>(c10::elementSize(it->second.dtype));
            if (count != it->second.numel ||
                static_cast<std::uint64_t>(count) > (bytes.size() - at - 8) / itemSize)
                failCheckpoint(path, "storage '" + key.toString() +
                                         "' is truncated or of another size (" +
                                         std::to_string(count) + " elements)");
            m_legacyOffsets[key.toString()] = at + 8;
            at += 8 + static_cast<std::uint64_t>(count) * itemSize;
        }
        m_root = object.value;
    }
    m_skipped = findSkipped(m_root);
}

TorchCheckpoint::~TorchCheckpoint() = default;
TorchCheckpoint::TorchCheckpoint(TorchCheckpoint &&) noexcept = default;
TorchCheckpoint &TorchCheckpoint::operator=(TorchCheckpoint &&) noexcept = default;

at::Tensor TorchCheckpoint::storageTensor(const PickleStorage &storage) const
{
    const auto cached = m_storages.find(storage.key);
    if (cached != m_storages.end())
        return cached->second;
    // The size the pickle claims is checked against the file before anything is allocated (a
    // legacy storage's offset exists only where its element count matched the file).
    const auto itemSize = static_cast<std::uint64_t>(c10::elementSize(storage.dtype));
    const auto record = m_prefix + "data/" + storage.key;
    const auto legacy = m_legacyOffsets.find(storage.key);
    if (m_zip ? !m_zip->contains(record) ||
                    static_cast<std::uint64_t>(storage.numel) > m_zip->size(record) / itemSize
              : legacy == m_legacyOffsets.end())
        failCheckpoint(m_path, "storage '" + storage.key + "' of " + std::to_string(storage.numel) +
                                   " elements is missing or larger than its record");
    auto flat = at::empty({storage.numel}, at::TensorOptions().dtype(storage.dtype));
    const auto bytes = static_cast<std::uint64_t>(flat.nbytes());
    if (m_zip) {
        m_zip->read(record, flat.data_ptr(), bytes);
    } else {
        std::ifstream in(m_path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(legacy->second));
        if (!in.read(static_cast<char *>(flat.data_ptr()), static_cast<std::streamsize>(bytes)))
            failCheckpoint(m_path, "cannot read storage '" + storage.key + "'");
    }
    m_storages.emplace(storage.key, flat);
    return flat;
}

at::Tensor TorchCheckpoint::tensor(const PickleTensor &ref) const
{
    // The unpickler has checked that the view lies inside the storage.
    return storageTensor(ref.storage).as_strided(ref.sizes, ref.strides, ref.storageOffset);
}

std::map<std::string, at::Tensor> TorchCheckpoint::tensors(std::string_view dictPath) const
{
    const auto *dict = findPath(m_root, dictPath);
    if (!dict)
        failCheckpoint(m_path, "no '" + std::string(dictPath) + "' in the checkpoint");
    if (!dict->is(PickleValue::Kind::Dict))
        failCheckpoint(m_path, "'" + std::string(dictPath) + "' is " +
                                   PickleValue::kindName(dict->kind()) + ", not a dict");
    std::map<std::string, at::Tensor> out;
    for (const auto &[key, value] : dict->toDict())
        if (key.is(PickleValue::Kind::String) && value.is(PickleValue::Kind::Tensor))
            out[key.toString()] = tensor(value.toTensor());
    return out;
}

TorchCheckpoint readTorchCheckpoint(const fs::path &path)
{
    return TorchCheckpoint(path);
}

} // namespace mp
