#pragma once
// Writes a whole file through a temporary next to it and a rename, so a crash or a full disk
// never leaves a half-written export where the user expects a good one.

#include <filesystem>
#include <string>
#include <string_view>

namespace mp {

// Throws InputError naming the path when the file cannot be written.
void saveFileAtomically(const std::filesystem::path &path, std::string_view bytes);

// Reads a whole file; InputError naming the path when it cannot be read.
std::string readWholeFile(const std::filesystem::path &path);

} // namespace mp
