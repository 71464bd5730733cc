"""Shape distances between every pair of many networks, against the per-pair algorithm.

The baseline takes each pair on its own, as netrep's ``LinearMetric`` does (fit, then score,
for every pair): centre and partially whiten both layers, find the best orthogonal map from the
SVD of their cross-product, apply it, and measure the angle; reimplemented here from Williams
et al. (2021) and netrep's documented steps.  ``nnsrm_utils.shape.pairwise_distances``
prepares each network once and takes every cross-product from one product of the stacked
networks, where each pair then needs only the singular values of a ``p x p`` block.  Both must
agree to 1e-8.  Default size: netrep's example, 64 networks x 1,024 images x 64 units.

    python benchmarks/bench_shape.py
    python benchmarks/bench_shape.py --networks 16 --examples 512 --units 32
"""
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


def main():
    args = arguments(__doc__, networks=64, examples=1024, units=64, repeats=1)
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((args.units, args.examples))
    Xs = [rng.standard_normal((args.units, args.units)) @ latent + rng.standard_normal((args.units, args.examples))
          for _ in range(args.networks)]
    print(f"{args.networks} networks x {args.units} units x {args.examples} examples (float64), "
          f"{args.networks * (args.networks - 1) // 2} pairs, best of {args.repeats}")
    ok = True
    for alpha in (1.0, 0.5, 0.0):
        expected, t_base = best_of(lambda: reference_pairwise(Xs, alpha), args.repeats)
        got, t_ours = best_of(lambda: pairwise_distances(Xs, alpha), args.repeats)
        diff = float(np.max(np.abs(got - expected)))
        ok &= diff < 1e-8
        print(f"alpha {alpha:.1f}: per pair {t_base:6.2f} s   nnsrm_utils {t_ours:6.2f} s   "
              f"speed-up {t_base / t_ours:5.1f}x   max |difference| {diff:.1e}")
    if not ok:
        raise SystemExit("results disagree beyond 1e-8")


if __name__ == "__main__":
    main()
