#pragma once
// Progress of long CLI commands on stderr (silent with --quiet): a bar redrawn in place on a
// terminal, plain lines (one per stage and per tenth of the work) in a pipe or a log file.

#include "app/cli/context.h"
#include "ml/core/progress.h"

#include <string>

namespace mp::cli {

ProgressFn makeProgressBar(const Context &context, std::string label);

} // namespace mp::cli
