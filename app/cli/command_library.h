#pragma once
// The interface between the thin motionpref-cli executable and its command libraries.
//
// LibTorch takes about half a second to load (relocations and its operators' static
// registration), more than a command like `study info` or `--help` needs in all. So the
// executable links neither LibTorch nor Qt: the commands live in shared libraries
// (libmotionpref-cli-NAME.so in lib/motionpref beside the executable's bin/, in the build tree
// and installed alike), and the executable loads the one that implements the command it runs,
// only to run it. Their command table (paths, options, help) is copied into the executable
// at build time by motionpref-cli-table (command_table.cpp), from the libraries' own registries:
// each command is written once, in its cmd_*.cpp.

#include "app/cli/command.h"

#include <filesystem>
#include <string>
#include <vector>

namespace mp::cli {

// The options every command sees, given anywhere on the line.
struct GlobalOptions {
    std::string deviceRequest = "auto"; // --device as given: auto, cpu, cuda[:N]
    bool quiet = false;                 // --quiet: no progress bars
};

// What a command library exports, as the C symbol kCommandLibrarySymbol.
struct CommandLibrary {
    int interfaceVersion; // kCommandLibraryInterface of the library's build
    // The commands it implements, each with .library set to the library's NAME.
    const std::vector<CommandSpec> &(*commands)();
    // Runs the command at PATH ("study info") with the arguments after its words and returns
    // its exit code; errors are printed as runReportingErrors does.
    int (*run)(const std::string &path, const std::vector<std::string> &args,
               const GlobalOptions &options);
};

inline constexpr int kCommandLibraryInterface = 1;
inline constexpr const char *kCommandLibrarySymbol = "mp_cli_command_library";

// lib/motionpref/libmotionpref-cli-NAME.so, next to the bin/ folder this executable is in.
std::filesystem::path commandLibraryPath(const std::string &name);

// Loads FILE (once per process) and returns its interface. A missing or broken file throws
// std::runtime_error naming the path: an installation problem, exit 2.
const CommandLibrary &loadCommandLibrary(const std::filesystem::path &file);

} // namespace mp::cli
