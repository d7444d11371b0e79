"""The timing loop every side-by-side benchmark script shares (bench_t5.py, bench_rlhf.py,
bench_t2m.py): wall ms and process CPU ms of each repetition."""

import time


def timed(reps, work, warmup=1):
    """Wall ms and process CPU ms of each repetition (on a shared machine the CPU time is what
    the work itself costs; with one thread it is the wall time on an idle core)."""
    for _ in range(warmup):  # allocator, thread pool, first-call dispatch, optimizer state
        work()
    wall, cpu = [], []
    for _ in range(reps):
        start, cpu_start = time.perf_counter(), time.process_time()
        work()
        cpu.append(1000.0 * (time.process_time() - cpu_start))
        wall.append(1000.0 * (time.perf_counter() - start))
    return wall, cpu
