#pragma once
// Where the embedded default model bundle lives.

#include <filesystem>

namespace mp {

// The default model bundle: $MOTIONPREF_MODEL_DIR if set, else the installed copy
// (<prefix>/share/motionpref/models/default), else the source tree's resources/models/default.
// Returns the first that exists, or the source-tree path when none does.
std::filesystem::path defaultModelDir();

} // namespace mp
