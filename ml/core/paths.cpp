#include "ml/core/paths.h"

#include "ml/core/error.h"

#include <cstdlib>
#include <optional>
#include <system_error>

namespace mp {
namespace fs = std::filesystem;

namespace {

const fs::path &sourceTreeModelDir()
{
    static const fs::path path = fs::path(MP_SOURCE_DIR) / "resources/models/default";
    return path;
}

std::optional<fs::path> firstExisting()
{
    std::error_code error;
    for (const auto &candidate : defaultModelCandidates())
        if (fs::is_directory(candidate, error))
            return candidate;
    return std::nullopt;
}

} // namespace

std::vector<fs::path> defaultModelCandidates()
{
    std::vector<fs::path> candidates;
    if (const char *env = std::getenv("MOTIONPREF_MODEL_DIR"); env && *env)
        candidates.emplace_back(env);
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error)
        candidates.push_back(exe.parent_path().parent_path() / "share/motionpref/models/default");
    candidates.push_back(sourceTreeModelDir());
    return candidates;
}

fs::path defaultModelDir()
{
    return firstExisting().value_or(sourceTreeModelDir());
}

fs::path requireDefaultModelDir()
{
    if (auto found = firstExisting())
        return *found;
    std::string places;
    for (const auto &candidate : defaultModelCandidates())
        places += (places.empty() ? "" : ", ") + candidate.string();
    throw InputError("the default model bundle is missing (looked in " + places +
                     "); pass --model DIR or set MOTIONPREF_MODEL_DIR");
}

} // namespace mp
