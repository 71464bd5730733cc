"""SRM on layers wider than the number of examples: time and peak memory, reduced vs direct.

A pool layer of a ConvNet has thousands of units but the analysis only a few thousand
examples.  ``nnsrm_utils.srm`` then fits each network on a factor of its Gram matrix
(``examples x examples``) and maps the result back, exactly.  The baseline is the same
estimator on the direct path (every update on the full ``units x examples`` matrices), in
the same process.  Target: 10 networks x 16,384 units x 2,000 examples with peak memory
under 4 GB.

    python benchmarks/bench_srm_wide.py                       # the target scale
    python benchmarks/bench_srm_wide.py --units 4096 --examples 500 --features 250
"""
import resource
import time
import tracemalloc

import numpy as np
from timing import arguments

from nnsrm_utils.srm import DetSRM


def make_layer(n_networks, n_units, n_examples, seed=0):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((50, n_examples)).astype(np.float32)
    return [(rng.standard_normal((n_units, 50), dtype=np.float32) @ s
             + rng.standard_normal((n_units, n_examples), dtype=np.float32) + 1.0) for _ in range(n_networks)]


def measure(xs, k, n_iter, reduce_wide):
    model = DetSRM(n_features=k, n_iter=n_iter)
    model._reduce_wide = reduce_wide
    tracemalloc.start()
    start = time.perf_counter()
    model.fit(xs)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return model, seconds, peak


def main():
    args = arguments(__doc__, networks=10, units=16384, examples=2000, features=1000, iterations=10)
    xs = make_layer(args.networks, args.units, args.examples)
    data_gb = sum(x.nbytes for x in xs) / 1e9
    print(f"{args.networks} networks x {args.units} units x {args.examples} examples (float32, {data_gb:.2f} GB), "
          f"k = {args.features}, {args.iterations} iterations")
    ours, t_ours, peak_ours = measure(xs, args.features, args.iterations, True)
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux
    print(f"reduced: {t_ours:6.1f} s, fit allocates at most {peak_ours / 1e9:.2f} GB; "
          f"process peak (data included) {rss_gb:.2f} GB")
    direct, t_direct, peak_direct = measure(xs, args.features, args.iterations, False)
    print(f" direct: {t_direct:6.1f} s, fit allocates at most {peak_direct / 1e9:.2f} GB")
    gap = max(float(np.abs(a - b).max()) for a, b in zip(ours.w_, direct.w_))
    print(f"speed-up {t_direct / t_ours:.1f}x, memory {peak_direct / peak_ours:.1f}x less; "
          f"objective reduced {ours.objective_[-1]:.6g} vs direct {direct.objective_[-1]:.6g}; max |W difference| {gap:.1e}")
    if rss_gb > 4:
        raise SystemExit("peak memory above 4 GB")


if __name__ == "__main__":
    main()
