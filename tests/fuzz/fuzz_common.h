#pragma once
// Shared by the libFuzzer targets of tests/fuzz (one per parser) and their replay driver.
// A parser's only acceptable answer to bad input is an InputError: anything else thrown escapes
// LLVMFuzzerTestOneInput, terminates the process and is reported as a crash, as is every
// sanitizer finding, an allocation past -malloc_limit_mb and a stack overflow.

#include "ml/core/error.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace mp::fuzz {

inline std::string_view text(const std::uint8_t *data, std::size_t size)
{
    return {reinterpret_cast<const char *>(data), size};
}

// A directory of this process (in /dev/shm when there is one): readers that take a path get the
// input written there.
inline const std::filesystem::path &scratchDir()
{
    static const std::filesystem::path dir = [] {
        std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                         ? std::filesystem::path("/dev/shm")
                                         : std::filesystem::temp_directory_path();
        auto path = base / ("mpfuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
        return path;
    }();
    return dir;
}

inline std::filesystem::path writeScratch(const std::string &name, std::string_view bytes)
{
    const auto path = scratchDir() / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// Runs the parser; an InputError is the expected answer to a bad input.
template <typename Body> int run(Body &&body)
{
    try {
        body();
    } catch (const InputError &) {
    }
    return 0;
}

// The source directory (MP_SOURCE_DIR, as the tests have it, else the configured one) for
// fixtures a target needs besides its input.
inline std::filesystem::path sourceDir()
{
    if (const char *dir = std::getenv("MP_SOURCE_DIR"))
        return dir;
    return MP_FUZZ_SOURCE_DIR;
}

} // namespace mp::fuzz
