#pragma once
// The BLAS's own thread pool. The executables' thread policy (ml/core/thread_policy) starts
// OpenBLAS with one thread, for generation's sake: its small products gain nothing from a pool
// that busy-waits beside LibTorch's. A training step is the other way round: LibTorch hands each
// large product to one BLAS call, so with one BLAS thread a step's products (about two thirds of
// it) use one core whatever LibTorch's thread count.

namespace mp {

// Sets OpenBLAS's thread count (found at run time: the reference BLAS has no pool and takes no
// count) unless the environment sets OPENBLAS_NUM_THREADS, which then decides. Returns the BLAS's
// thread count afterwards, 1 where it has no pool.
int useBlasThreads(int threads);

} // namespace mp
