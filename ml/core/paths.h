#pragma once
// Where the embedded default model bundle lives.

#include <filesystem>
#include <vector>

namespace mp {

// Where the default model bundle is looked for, in order: $MOTIONPREF_MODEL_DIR if set, the
// installed copy beside the executable (<prefix>/share/motionpref/models/default for
// <prefix>/bin/motionpref-cli), the source tree's resources/models/default (a build that was not
// installed). The installed copy comes before the compiled-in source path, so an installed
// program never reads a checkout that happens to be on the same machine.
std::vector<std::filesystem::path> defaultModelCandidates();

// The first of defaultModelCandidates() that exists, or the source-tree path when none does
// (for display: the GUI shows "no bundle at ...").
std::filesystem::path defaultModelDir();

// The first of defaultModelCandidates() that exists; an InputError naming every place looked in
// when none does.
std::filesystem::path requireDefaultModelDir();

} // namespace mp
