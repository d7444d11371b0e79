#pragma once
// What a command runs with besides its arguments: the compute device (resolved from --device
// before a command that uses LibTorch runs) and the global options. Only the command libraries
// include this; the thin executable knows no LibTorch type.

#include "app/cli/command.h"

#include <c10/core/Device.h>

#include <string>

namespace mp::cli {

struct Context {
    c10::Device device{c10::kCPU};
    std::string deviceRequest = "auto"; // --device as given: auto, cpu, cuda[:N]
    bool quiet = false;                 // no progress bars
};

} // namespace mp::cli
