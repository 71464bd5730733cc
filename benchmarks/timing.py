"""The one timing helper the benchmarks share (they run as scripts, so this folder is on sys.path)."""
import time


def best_of(fn, repeats=1):
    """``(result, seconds)`` of ``fn()``: the fastest of ``repeats`` calls, and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)
