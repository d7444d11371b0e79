#include "app/cli/child_process.h"

#include "ml/core/error.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mp::cli {

int runSelf(const std::vector<std::string> &arguments, const std::filesystem::path &logFile,
            const std::string &what, const std::atomic<bool> *stop)
{
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw InputError(what + ": cannot start a process: " + std::strerror(errno));
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM); // a killed parent stops its child at the next step
        if (::getppid() != parent)
            ::_exit(1);
        const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
            ::close(fd);
        }
        std::vector<char *> argv;
        for (const auto &arg : arguments)
            argv.push_back(const_cast<char *>(arg.c_str()));
        argv.push_back(nullptr);
        ::execv("/proc/self/exe", argv.data());
        std::fprintf(stderr, "%s: cannot execute motionpref-cli: %s\n", what.c_str(),
                     std::strerror(errno));
        ::_exit(127);
    }
    bool forwarded = false;
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, stop ? WNOHANG : 0);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            throw InputError(what + ": lost a child process: " + std::strerror(errno));
        if (stop && stop->load() && !forwarded) {
            ::kill(pid, SIGTERM);
            forwarded = true;
        }
        if (stop)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::string lastLogLine(const std::filesystem::path &file)
{
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line))
        if (line.find_first_not_of(" \t\r") != std::string::npos)
            last = line;
    return last;
}

} // namespace mp::cli
