// motionpref-cli info: versions, compute device and the default model location.

#include "app/cli/context.h"
#include "app/export/assimp_info.h"
#include "ml/core/device.h"
#include "ml/core/error.h"
#include "ml/core/version.h"

#include <iostream>

namespace mp::cli {
namespace {

// Resolves --device itself, so that `info --device cuda` on a machine without a usable GPU still
// says what it found (and then exits 1 with the reason).
int runInfo(const ParsedArgs &, const Context &context)
{
    configureTorchThreads();
    std::string device;
    std::string problem;
    try {
        device = describeDevice(resolveDevice(context.deviceRequest));
    } catch (const InputError &e) {
        device = "none usable for --device " + context.deviceRequest;
        problem = e.what();
    }
    std::cout << "MotionPref Studio " << projectVersion() << "\n"
              << "LibTorch  " << torchVersion() << "\n"
              << "Assimp    " << assimpVersion() << "\n"
              << "device    " << device << "\n"
              << "CUDA      " << describeCuda() << "\n";
    if (!problem.empty())
        throw InputError(problem);
    return 0;
}

const CommandRegistration infoCommand{{
    .path = "info",
    .summary = "print versions, the compute device and what CUDA offers",
    .usesTorch = false, // resolves --device itself
    .run = runInfo,
}};

} // namespace
} // namespace mp::cli
