#pragma once
// Commands that run other motionpref-cli commands as child processes (experiment run, study
// experiment): a child survives a crash of its step and leaves its log behind.

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

namespace mp::cli {

// Runs this program (/proc/self/exe) with ARGUMENTS (argv[0] included), its stdout and stderr
// appended to logFile; the child gets SIGTERM when this process dies. When stop is given and
// becomes true, the child gets SIGTERM once. Returns the wait status. InputError "WHAT: cannot
// start a process: ..." when fork fails.
int runSelf(const std::vector<std::string> &arguments, const std::filesystem::path &logFile,
            const std::string &what, const std::atomic<bool> *stop = nullptr);

// The last non-empty line of a log file ("" when none): a child's one-line error.
std::string lastLogLine(const std::filesystem::path &file);

} // namespace mp::cli
