#pragma once
// NumPy .npy files: read any of float16/32/64, int8/16/32/64, uint8 and bool, in C or Fortran
// order, little or big endian, header versions 1.0, 2.0 and 3.0; write the same. Every problem
// with a file is an InputError whose message starts with the file name.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mp::npy {

struct Header {
    std::string descr; // as written, e.g. "<f4"
    bool fortranOrder = false;
    std::vector<int64_t> shape;
    int majorVersion = 1;
    std::size_t dataOffset = 0; // bytes before the array data
};

// Parses only the header (cheap: for lengths and shapes of many files).
Header readHeader(const std::filesystem::path &path);

// Always returns a contiguous CPU tensor in C order and native byte order.
at::Tensor read(const std::filesystem::path &path);
// The same from bytes in memory; name is used in error messages.
at::Tensor fromBytes(std::string_view bytes, const std::string &name);

struct WriteOptions {
    int version = 0; // 0: 1.0 unless the header needs 2.0; or 1, 2, 3
    bool fortranOrder = false;
    bool bigEndian = false;
};

// Writes through a temporary file and a rename, so a crash never leaves half a file.
void write(const std::filesystem::path &path, const at::Tensor &tensor,
           const WriteOptions &options = {});
std::string toBytes(const at::Tensor &tensor, const WriteOptions &options = {});

} // namespace mp::npy
