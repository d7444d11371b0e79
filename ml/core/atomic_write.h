#pragma once
// Writing a whole file so that a crash leaves the old content or the new, never a cut one: the
// text goes to PATH.tmp, which is then renamed over PATH.

#include <filesystem>
#include <string_view>

namespace mp {

// InputError naming the file when it cannot be written or replaced.
void writeFileAtomically(const std::filesystem::path &path, std::string_view text);

} // namespace mp
