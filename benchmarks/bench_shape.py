"""Shape distances between every pair of many networks, against the per-pair algorithm.

The baseline takes each pair on its own, as netrep's ``pairwise_distances`` does with its
``LinearMetric`` (fit, then score, for every pair): ``fit`` centres and partially whitens both
layers and finds the best orthogonal map from the SVD of their cross-product; ``score`` centres
and transforms both layers again and measures the angle between them.  Reimplemented here from
Williams et al. (2021) and netrep's documented steps.  ``nnsrm_utils.shape.pairwise_distances``
prepares each network once and takes the cross-products above the diagonal from a few large
products of the stacked networks (groups of about 256 units against every later network), where
each pair then needs only the singular values of a ``p x p`` block; the groups run side by side
on the cores, one BLAS thread each.  Both must agree to 1e-8.  Default size: netrep's example,
64 networks x 1,024 images x 64 units.  Wall and CPU time (all threads) are printed, and the
load average before and after: the wall-time ratio depends on how many cores are free.  Each
side's time is the best of ``--repeats`` calls (default 3: the single calls of either side vary
by tens of percent on a shared machine).

    python benchmarks/bench_shape.py
    python benchmarks/bench_shape.py --networks 16 --examples 512 --units 32
"""
import os
import time

import numpy as np
from timing import arguments, best_of

from nnsrm_utils.shape import pairwise_distances


def _whitening(X, alpha):
    """netrep's partial whitening matrix of a centred layer (identity at alpha = 1, where it returns early)."""
    if alpha == 1:
        return np.eye(len(X))
    lam, V = np.linalg.eigh(X @ X.T)
    return (V * (alpha + (1 - alpha) / np.sqrt(np.maximum(lam, 1e-7)))) @ V.T


def _checked(X, Y):
    """netrep checks both layers on every call (scikit-learn's ``check_array``): 2-D, finite."""
    for Z in (X, Y):
        if Z.ndim != 2 or not np.isfinite(Z).all():
            raise ValueError("expected 2-D finite arrays")
    return X, Y


def _fit(X, Y, alpha):
    """netrep's ``fit``: centre and whiten each layer, then the rotations that align them (SVD)."""
    X, Y = _checked(X, Y)
    mx, my = X.mean(axis=1, keepdims=True), Y.mean(axis=1, keepdims=True)
    Xc, Yc = X - mx, Y - my
    Zx, Zy = _whitening(Xc, alpha), _whitening(Yc, alpha)
    U, _, Vt = np.linalg.svd((Zx @ Xc) @ (Zy @ Yc).T)
    return mx, my, U.T @ Zx, Vt @ Zy


def _score(X, Y, fitted):
    """netrep's ``score``: centre and transform both layers, then the angle between them."""
    X, Y = _checked(X, Y)
    mx, my, Wx, Wy = fitted
    tX, tY = Wx @ (X - mx), Wy @ (Y - my)
    cosine = np.sum(tX * tY) / (np.linalg.norm(tX) * np.linalg.norm(tY))
    return np.arccos(np.clip(cosine, -1, 1))


def reference_distance(X, Y, alpha):
    """One pair as netrep's ``pairwise_distances`` takes it: fit, then score."""
    return _score(X, Y, _fit(X, Y, alpha))


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
    args = arguments(__doc__, networks=64, examples=1024, units=64, repeats=3)
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((args.units, args.examples))
    Xs = [rng.standard_normal((args.units, args.units)) @ latent + rng.standard_normal((args.units, args.examples))
          for _ in range(args.networks)]
    # Centred and of unit norm, as prepare() makes them: netrep whitens a layer at the scale it is
    # given, so at 0 < alpha < 1 the two agree only for layers given at this scale.
    Xs = [X / np.linalg.norm(X) for X in (X - X.mean(axis=1, keepdims=True) for X in Xs)]
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
