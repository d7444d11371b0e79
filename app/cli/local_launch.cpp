#include "app/cli/local_launch.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ml/core/error.h"

namespace mp::cli {
namespace {

// This process's own arguments, argv[0] first.
std::vector<std::string> ownArguments()
{
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    std::size_t begin = 0;
    for (std::size_t end; (end = all.find('\0', begin)) != std::string::npos; begin = end + 1)
        args.push_back(all.substr(begin, end - begin));
    if (args.empty())
        throw InputError("--nproc: cannot read this process's arguments (/proc/self/cmdline)");
    return args;
}

// A TCP port on 127.0.0.1 that was free a moment ago (torchrun --standalone picks it alike).
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        throw InputError(std::string("--nproc: cannot open a socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0;
    ::close(fd);
    if (!ok)
        throw InputError(std::string("--nproc: cannot find a free port on 127.0.0.1: ") +
                         std::strerror(errno));
    return ntohs(address.sin_port);
}

std::string describeStatus(int status)
{
    if (WIFSIGNALED(status))
        return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "exited with code " + std::to_string(WEXITSTATUS(status));
}

bool succeeded(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

int launchLocalRanks(const LocalLaunch &launch)
{
    const int n = launch.numProcesses;
    const std::vector<std::string> args = ownArguments();
    const std::string port = std::to_string(freePort());
    const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
    const std::string threads = std::to_string(std::max(1u, hardware / static_cast<unsigned>(n)));
    const bool threadsSet = std::getenv("OMP_NUM_THREADS") != nullptr;
    const pid_t parent = ::getpid();

    std::vector<pid_t> pids;
    for (int rank = 0; rank < n; ++rank) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            const std::string reason = std::strerror(errno);
            for (pid_t started : pids)
                ::kill(started, SIGTERM);
            throw InputError("--nproc: cannot start rank " + std::to_string(rank) + ": " + reason);
        }
        if (pid == 0) {
            // The rank: dies with the launcher, then becomes motionpref-cli with its environment.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(1);
            ::setenv("RANK", std::to_string(rank).c_str(), 1);
            ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
            ::setenv("WORLD_SIZE", std::to_string(n).c_str(), 1);
            ::setenv("LOCAL_WORLD_SIZE", std::to_string(n).c_str(), 1);
            ::setenv("MASTER_ADDR", "127.0.0.1", 1);
            ::setenv("MASTER_PORT", port.c_str(), 1);
            if (!threadsSet)
                ::setenv("OMP_NUM_THREADS", threads.c_str(), 1);
            std::vector<char *> argv;
            for (const auto &arg : args)
                argv.push_back(const_cast<char *>(arg.c_str()));
            argv.push_back(nullptr);
            ::execv("/proc/self/exe", argv.data());
            std::fprintf(stderr, "--nproc: cannot execute %s: %s\n", args[0].c_str(),
                         std::strerror(errno));
            ::_exit(127);
        }
        pids.push_back(pid);
    }

    // Wait for all; forward a stop request once; after a failure, give the others the collective
    // timeout (plus a grace period) to notice and stop, then kill what is left.
    std::vector<std::optional<int>> statuses(pids.size());
    std::optional<std::size_t> firstFailure;
    std::optional<std::chrono::steady_clock::time_point> killAt;
    bool forwarded = false;
    const auto grace = std::chrono::seconds(5);
    for (;;) {
        bool running = false;
        for (std::size_t i = 0; i < pids.size(); ++i) {
            if (statuses[i])
                continue;
            int status = 0;
            const pid_t done = ::waitpid(pids[i], &status, WNOHANG);
            if (done == pids[i]) {
                statuses[i] = status;
                if (!succeeded(status) && !firstFailure) {
                    firstFailure = i;
                    killAt = std::chrono::steady_clock::now() + launch.timeout + grace;
                }
            } else {
                running = true;
            }
        }
        if (!running)
            break;
        if (launch.stopRequested && launch.stopRequested->load() && !forwarded) {
            for (std::size_t i = 0; i < pids.size(); ++i)
                if (!statuses[i])
                    ::kill(pids[i], SIGTERM);
            forwarded = true;
        }
        if (killAt && std::chrono::steady_clock::now() > *killAt) {
            for (std::size_t i = 0; i < pids.size(); ++i)
                if (!statuses[i]) {
                    std::cerr << "--nproc: rank " << i << " still running "
                              << (launch.timeout + grace).count() << " s after rank "
                              << *firstFailure << " failed; killing it\n";
                    ::kill(pids[i], SIGKILL);
                }
            killAt.reset();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!firstFailure)
        return 0;
    std::cerr << "train --nproc " << n << ": rank " << *firstFailure << " "
              << describeStatus(*statuses[*firstFailure]) << "; ranks:";
    for (std::size_t i = 0; i < statuses.size(); ++i)
        std::cerr << " " << i << (succeeded(*statuses[i]) ? " ok" : " failed")
                  << (i + 1 < statuses.size() ? "," : "");
    std::cerr << "\n";
    return 1;
}

} // namespace mp::cli
