#include "ml/core/threading.h"

#include <cstdlib>

#include <unistd.h>

namespace mp {

void useSleepingThreadPools(char **argv)
{
    constexpr const char *kDone = "MP_THREAD_POOLS_SET";
    if (std::getenv(kDone) || std::getenv("OMP_WAIT_POLICY") || std::getenv("OPENBLAS_NUM_THREADS"))
        return;
    setenv(kDone, "1", 1);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    // OpenBLAS's own pool would sit beside the OpenMP one: LibTorch parallelises around it.
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
    // Not re-executed (no /proc, say): continue with the pools as they are.
}

} // namespace mp
