"""Shape distances between every pair of many networks, against the per-pair algorithm.

The baseline takes each pair on its own, as netrep's ``LinearMetric`` does (fit, then score,
for every pair): centre and partially whiten both layers, find the best orthogonal map from the
SVD of their cross-product, apply it, and measure the angle; reimplemented here from Williams
et al. (2021) and netrep's documented steps.  ``nnsrm_utils.shape.pairwise_distances``
prepares each network once and takes the cross-products above the diagonal from a few large
products of the stacked networks (groups of about 256 units against every later network), where
each pair then needs only the singular values of a ``p x p`` block; the groups run side by side
on the cores, one BLAS thread each.  Both must agree to 1e-8.  Default size: netrep's example,
64 networks x 1,024 images x 64 units.  Wall and CPU time (all threads) are printed, and the
load average before and after: the wall-time ratio depends on how many cores are free.

    python benchmarks/bench_shape.py
    python benchmarks/bench_shape.py --networks 16 --examples 512 --units 32
"""
import os
import time

import numpy as np
from timing import arguments, best_of

from nnsrm_utils.shape import pairwise_distances


def _whiten(X, alpha):
    X = X - X.mean(axis=1, keepdims=True)
    X = X / np.linalg.norm(X)
    if alpha == 1:  # no whitening to do (netrep returns early too)
        return X
    lam, V = np.linalg.eigh(X @ X.T)
    Z = (V * (alpha + (1 - alpha) / np.sqrt(np.maximum(lam, 1e-10 * lam.max())))) @ V.T @ X
    return Z / np.linalg.norm(Z)


def reference_distance(X, Y, alpha):
    """One pair, start to end: whiten both, fit the orthogonal map, apply it, take the angle."""
    X, Y = _whiten(X, alpha), _whiten(Y, alpha)
    U, _, Vt = np.linalg.svd(X @ Y.T)
    Q = U @ Vt  # X ~ Q Y
    cosine = np.sum(X * (Q @ Y)) / (np.linalg.norm(X) * np.linalg.norm(Y))
    return np.arccos(np.clip(cosine, -1, 1))


def reference_pairwise(Xs, alpha):
    D = np.zeros((len(Xs), len(Xs)))
    for i in range(len(Xs)):
        for j in range(i + 1, len(Xs)):
            D[i, j] = D[j, i] = reference_distance(Xs[i], Xs[j], alpha)
    return D


def _timed(fn, repeats):
    """``best_of``'s result and wall time, and the CPU time of all threads per call (the work done)."""
    start = time.process_time()
    out, wall = best_of(fn, repeats)
    return out, wall, (time.process_time() - start) / repeats


def main():
    args = arguments(__doc__, networks=64, examples=1024, units=64, repeats=1)
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((args.units, args.examples))
    Xs = [rng.standard_normal((args.units, args.units)) @ latent + rng.standard_normal((args.units, args.examples))
          for _ in range(args.networks)]
    print(f"{args.networks} networks x {args.units} units x {args.examples} examples (float64), "
          f"{args.networks * (args.networks - 1) // 2} pairs, best of {args.repeats}; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    ok = True
    for alpha in (1.0, 0.5, 0.0):
        expected, t_base, cpu_base = _timed(lambda: reference_pairwise(Xs, alpha), args.repeats)
        got, t_ours, cpu_ours = _timed(lambda: pairwise_distances(Xs, alpha), args.repeats)
        diff = float(np.max(np.abs(got - expected)))
        ok &= diff < 1e-8
        print(f"alpha {alpha:.1f}: per pair {t_base:6.2f} s (CPU {cpu_base:5.2f} s)   nnsrm_utils {t_ours:5.2f} s "
              f"(CPU {cpu_ours:4.2f} s)   speed-up {t_base / t_ours:5.1f}x (CPU time {cpu_base / cpu_ours:4.1f}x)   "
              f"max |difference| {diff:.1e}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if not ok:
        raise SystemExit("results disagree beyond 1e-8")


if __name__ == "__main__":
    main()
