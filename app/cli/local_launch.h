#pragma once
// `motionpref-cli train --nproc N`: N data-parallel ranks on this machine, as torchrun's
// --standalone does. This process starts N copies of itself (the same arguments, from
// /proc/self/cmdline) with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1
// and a free MASTER_PORT set, and OMP_NUM_THREADS = hardware threads / N unless set. It forwards
// SIGTERM/SIGINT to them and waits for all. When a rank fails, the others stop on their own (a
// collective fails within the timeout); any still running 5 s after that
// are killed. The ranks die with this process (PR_SET_PDEATHSIG). POSIX only, no Qt.

#include <atomic>
#include <chrono>

namespace mp::cli {

struct LocalLaunch {
    int numProcesses = 2;
    std::chrono::seconds timeout{600}; // the ranks' collective timeout
    // Set by this process's signal handler; forwarded to the ranks once.
    const std::atomic<bool> *stopRequested = nullptr;
};

// Returns the exit status for this process: 0 when every rank exited 0, else 1, with the first
// failing rank's exit code or signal on stderr. InputError when the ranks cannot be started.
int launchLocalRanks(const LocalLaunch &launch);

} // namespace mp::cli
