#pragma once
// A terminal progress bar on stderr for long CLI commands (silent with --quiet).

#include "app/cli/command.h"
#include "ml/core/progress.h"

#include <string>

namespace mp::cli {

ProgressFn makeProgressBar(const Context &context, std::string label);

} // namespace mp::cli
