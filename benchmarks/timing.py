"""What the benchmarks share (they run as scripts, so this folder is on sys.path)."""
import argparse
import time


def arguments(doc, **defaults):
    """The benchmark's command line: an integer option ``--name`` for each default."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    for name, default in defaults.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    return parser.parse_args()


def best_of(fn, repeats=1):
    """``(result, seconds)`` of ``fn()``: the fastest of ``repeats`` calls, and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)
