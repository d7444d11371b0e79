#pragma once
// How the compute thread pools wait. libgomp's worker threads spin and the pthread OpenBLAS
// busy-yields while waiting for work; on a machine with other busy processes (a laptop, CI's
// `ctest -j`, two jobs at once) a spinning pool waits on descheduled threads and a generation or
// training step gets many times slower (measured: a worst-case pair 327 ms -> 107 ms, a tiny
// train-base 36 s -> 2 s). libgomp reads OMP_WAIT_POLICY when it loads, before main(), so the
// setting needs the process to start again with it.

namespace mp {

// Call first in main(). Unless the environment already decides (OMP_WAIT_POLICY or
// OPENBLAS_NUM_THREADS set, or this was done once), sets OMP_WAIT_POLICY=PASSIVE and
// OPENBLAS_NUM_THREADS=1 and re-executes the program with the same arguments. Returns normally
// when nothing was needed or the re-execution failed (the program then runs as it is).
void useSleepingThreadPools(char **argv);

} // namespace mp
