// motionpref-cli: every operation of the GUI, headless. Exit codes: 0 ok, 1 user error
// (one line naming what is wrong), 2 internal error.
//
// The thin executable (command_library.h): it parses the global options, answers --help,
// --version and COMMAND --help from the command table compiled in, checks the command's options,
// and only then loads the command library that runs it (LibTorch, Qt) and hands over.

#include "app/cli/command.h"
#include "app/cli/command_library.h"
#include "ml/core/error.h"
#include "ml/core/version.h"

#include <iostream>

namespace {

void printCommandList()
{
    std::cout << "usage: motionpref-cli [--device auto|cpu|cuda] [--quiet] COMMAND [options]\n\n"
                 "MotionPref Studio "
              << mp::projectVersion()
              << ": text-to-motion generation with human preference.\n\ncommands:\n";
    for (const auto &command : mp::cli::Registry::instance().commands()) {
        std::string left = "  " + command.path;
        std::cout << left << std::string(left.size() < 24 ? 24 - left.size() : 2, ' ')
                  << command.summary << "\n";
    }
    std::cout << "\n'motionpref-cli COMMAND --help' describes a command.\n";
}

int run(std::vector<std::string> args)
{
    mp::cli::GlobalOptions options;
    std::string &deviceRequest = options.deviceRequest;
    bool wantHelp = false;
    // Global options are accepted anywhere on the line and handled here, once.
    std::vector<std::string> rest;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        if (arg == "--version") {
            std::cout << "motionpref-cli " << mp::projectVersion() << " (LibTorch "
                      << mp::torchVersion() << ")\n";
            return 0;
        }
        if (arg == "--help" || arg == "-h") {
            wantHelp = true;
        } else if (arg == "--quiet" || arg == "-q") {
            options.quiet = true;
        } else if (arg == "--device") {
            if (i + 1 >= args.size())
                throw mp::InputError("--device needs a value: auto, cpu or cuda");
            deviceRequest = args[++i];
        } else if (arg.starts_with("--device=")) {
            deviceRequest = arg.substr(9);
        } else {
            rest.push_back(arg);
        }
    }
    if (rest.empty()) {
        printCommandList();
        return wantHelp ? 0 : 1;
    }
    std::size_t consumed = 0;
    const auto *command = mp::cli::Registry::instance().find(rest, consumed);
    if (!command) {
        if (wantHelp) {
            printCommandList();
            return 0;
        }
        throw mp::InputError("unknown command '" + rest.front() +
                             "' (motionpref-cli --help lists the commands)");
    }
    if (wantHelp) {
        std::cout << mp::cli::helpText(*command);
        return 0;
    }
    rest.erase(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(consumed));
    const mp::cli::ParsedArgs checked(*command, rest); // an unknown option fails before loading
    const auto &library =
        mp::cli::loadCommandLibrary(mp::cli::commandLibraryPath(command->library));
    return library.run(command->path, rest, options);
}

} // namespace

int main(int argc, char **argv)
{
    return mp::cli::runReportingErrors(
        [&] { return run(std::vector<std::string>(argv + 1, argv + argc)); });
}
