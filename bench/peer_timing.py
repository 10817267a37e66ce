"""The timing rule every PyTorch peer follows, the same as bench/timing.mjs's: two warm-up calls,
an inner count doubled until one repetition takes at least min_time, then the median of the
repetitions' per-call times."""
import time


def median_seconds(fn, repeats=5, min_time=0.075):
    """Seconds per call of fn: the median of `repeats` timed repetitions."""
    fn()
    fn()
    inner = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        if time.perf_counter() - t0 >= min_time or inner >= 1 << 16:
            break
        inner *= 2
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    times.sort()
    return times[len(times) // 2]
