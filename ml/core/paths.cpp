#include "ml/core/paths.h"

#include <cstdlib>
#include <system_error>
#include <vector>

namespace mp {

std::filesystem::path defaultModelDir()
{
    namespace fs = std::filesystem;
    std::vector<fs::path> candidates;
    if (const char *env = std::getenv("MOTIONPREF_MODEL_DIR"); env && *env)
        candidates.emplace_back(env);
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error)
        candidates.push_back(exe.parent_path().parent_path() / "share/motionpref/models/default");
    const fs::path sourceTree = fs::path(MP_SOURCE_DIR) / "resources/models/default";
    candidates.push_back(sourceTree);
    for (const auto &candidate : candidates)
        if (fs::is_directory(candidate, error))
            return candidate;
    return sourceTree;
}

} // namespace mp
