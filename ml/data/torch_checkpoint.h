#pragma once
// PyTorch checkpoints written by Python's torch.save, read with no Python step (LibTorch 1.13's
// torch::pickle_load stops at the first opcode of such a file). Two layouts:
//  - the zip format (torch >= 1.6): <archive>/data.pkl, <archive>/data/<key> raw storages,
//    <archive>/byteorder ("little"), <archive>/version; entries stored uncompressed;
//  - the legacy format (_use_new_zipfile_serialization=False): pickled magic number, protocol
//    version and sys_info, the object, the sorted storage keys, then each storage as an int64
//    element count and its bytes.
// The object is unpickled by the restricted reader (pickle_reader.h); tensors are read from the
// file only when asked for, so a Lightning checkpoint's optimizer_states cost nothing unless read.
// Views of one storage share it, as in PyTorch. Not thread-safe (storages are cached).

#include "ml/data/pickle_value.h"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mp {

class ZipArchive;

class TorchCheckpoint {
public:
    explicit TorchCheckpoint(const std::filesystem::path &path);
    ~TorchCheckpoint();
    TorchCheckpoint(TorchCheckpoint &&) noexcept;
    TorchCheckpoint &operator=(TorchCheckpoint &&) noexcept;

    const std::filesystem::path &path() const { return m_path; }
    bool isLegacy() const { return m_legacy; }
    const PickleValue &root() const { return m_root; }
    // Objects the reader did not build (OmegaConf configs, NumPy scalars, unknown classes),
    // with their paths in the tree.
    const std::vector<SkippedObject> &skipped() const { return m_skipped; }

    // The tensors of the dict at a '/'-separated path ("" is the root, "state_dict",
    // "model/encoder"), by key; entries that are not tensors are left out. InputError if the
    // path is missing or not a dict.
    std::map<std::string, at::Tensor> tensors(std::string_view dictPath = "") const;
    // One tensor of the tree (a CPU tensor; its storage is read once and shared by its views).
    at::Tensor tensor(const PickleTensor &ref) const;

private:
    at::Tensor storageTensor(const PickleStorage &storage) const;

    std::filesystem::path m_path;
    bool m_legacy = false;
    PickleValue m_root;
    std::vector<SkippedObject> m_skipped;
    std::unique_ptr<ZipArchive> m_zip;
    std::string m_prefix;                                 // "<archive>/" of the zip layout
    std::map<std::string, std::uint64_t> m_legacyOffsets; // key -> file offset of its bytes
    mutable std::map<std::string, at::Tensor> m_storages;
};

TorchCheckpoint readTorchCheckpoint(const std::filesystem::path &path);

} // namespace mp
