// The entry of a command library (command_library.h): compiled into each, with
// MP_CLI_LIBRARY_NAME its NAME and MP_CLI_LIBRARY_TORCH whether it links LibTorch.

#include "app/cli/command_library.h"
#include "app/cli/context.h"
#include "ml/core/error.h"

#if MP_CLI_LIBRARY_TORCH
#include "ml/core/device.h"
#endif

#include <stdexcept>

namespace mp::cli {
namespace {

const std::vector<CommandSpec> &commands()
{
    static const std::vector<CommandSpec> named = [] {
        std::vector<CommandSpec> list = Registry::instance().commands();
        for (auto &command : list)
            command.library = MP_CLI_LIBRARY_NAME;
        return list;
    }();
    return named;
}

int run(const std::string &path, const std::vector<std::string> &args, const GlobalOptions &options)
{
    return runReportingErrors([&] {
        const CommandSpec *command = nullptr;
        for (const auto &candidate : Registry::instance().commands())
            if (candidate.path == path)
                command = &candidate;
        if (!command)
            throw std::runtime_error("libmotionpref-cli-" MP_CLI_LIBRARY_NAME
                                     ".so has no command '" +
                                     path + "' (a library from another build?)");
        Context context;
        context.deviceRequest = options.deviceRequest;
        context.quiet = options.quiet;
        if (command->usesTorch) {
#if MP_CLI_LIBRARY_TORCH
            configureTorchThreads();
            context.device = resolveDevice(options.deviceRequest);
#else
            throw std::logic_error("'" + path + "' uses LibTorch but is in libmotionpref-cli-" +
                                   MP_CLI_LIBRARY_NAME + ".so, which does not link it");
#endif
        }
        const ParsedArgs parsed(*command, args);
        return command->run(parsed, context);
    });
}

} // namespace
} // namespace mp::cli

extern "C" {
extern const mp::cli::CommandLibrary mp_cli_command_library;
const mp::cli::CommandLibrary mp_cli_command_library{mp::cli::kCommandLibraryInterface,
                                                     mp::cli::commands, mp::cli::run};
}
