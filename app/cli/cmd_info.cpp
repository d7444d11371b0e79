// motionpref-cli info: versions, compute device and the default model location.

#include "app/cli/command.h"
#include "app/export/assimp_info.h"
#include "ml/core/device.h"
#include "ml/core/version.h"

#include <iostream>

namespace mp::cli {
namespace {

int runInfo(const ParsedArgs &, const Context &context)
{
    std::cout << "MotionPref Studio " << projectVersion() << "\n"
              << "LibTorch  " << torchVersion() << "\n"
              << "Assimp    " << assimpVersion() << "\n"
              << "device    " << describeDevice(context.device) << "\n"
              << "CUDA      " << (cudaAvailable() ? "available" : "not available") << "\n";
    return 0;
}

const CommandRegistration infoCommand{{
    .path = "info",
    .summary = "print versions, the compute device and CUDA availability",
    .run = runInfo,
}};

} // namespace
} // namespace mp::cli
