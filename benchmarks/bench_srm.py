"""SRM fit time against the published algorithm, measured in one process.

The baseline is BrainIAK 0.12's SRM when it is installed (``pip install -e '.[brainiak]'``),
otherwise ``tests/reference_srm.py``, BrainIAK's update loop as published in float64 (same
products, SVD of ``X_i S^T + 0.001 I``).  ``nnsrm_utils`` runs on the float32 activations networks
produce.  Both start from the same initial ``W_i``; the benchmark checks that they reach the same objective (relative
difference under 1e-4) and prints the speed ratio.

    python benchmarks/bench_srm.py                    # the paper's scale: 10 x 1,000 x 8,000, k = 1,000
    python benchmarks/bench_srm.py --units 200 --examples 1600 --features 200   # a quick look
"""
import sys
from pathlib import Path

import numpy as np
from timing import arguments, best_of

from nnsrm_utils.srm import SRM, DetSRM

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
import reference_srm  # noqa: E402  (BrainIAK's algorithm as published, shared with the tests)


def make_layer(n_networks, n_units, n_examples, seed=0):
    """Networks sharing a 50-dimensional signal through random orthonormal maps, plus noise.

    Units are centred: BrainIAK's deterministic SRM does not centre and its probabilistic
    SRM's noise update uses uncentred data (deliberate differences, see nnsrm_utils.srm);
    on centred data the algorithms are the same.
    """
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((50, n_examples))
    xs = [np.linalg.qr(rng.standard_normal((n_units, 50)))[0] @ s * 5 + rng.standard_normal((n_units, n_examples))
          for _ in range(n_networks)]
    return [(x - x.mean(axis=1, keepdims=True)).astype(np.float32) for x in xs]


def brainiak_or_baseline(kind, xs, k, n_iter):
    try:
        from brainiak.funcalign import srm as bsrm
    except ImportError:
        xs64 = [x.astype(np.float64) for x in xs]
        w = reference_srm.det_srm(xs64, k, n_iter) if kind == "det" else reference_srm.prob_srm(xs64, k, n_iter)[0]
        return w, "BrainIAK's algorithm, reimplemented (float64)"
    model = (bsrm.DetSRM if kind == "det" else bsrm.SRM)(n_iter=n_iter, features=k, rand_seed=0)
    return model.fit([x.astype(np.float64) for x in xs]).w_, "BrainIAK " + getattr(__import__("brainiak"), "__version__", "")


def objective(xs, w):
    """0.5/T sum_i ||X_i - mu_i - W_i S||^2 with S = mean_i W_i^T (X_i - mu_i), in float64."""
    xs = [x.astype(np.float64) - x.mean(1, keepdims=True, dtype=np.float64) for x in xs]
    w = [wi.astype(np.float64) for wi in w]
    s = sum(wi.T @ x for wi, x in zip(w, xs)) / len(xs)
    return 0.5 / xs[0].shape[1] * sum(np.sum((x - wi @ s) ** 2) for wi, x in zip(w, xs))


def main():
    args = arguments(__doc__, networks=10, units=1000, examples=8000, features=1000, iterations=10)
    xs = make_layer(args.networks, args.units, args.examples)
    k, n = args.features, args.iterations
    print(f"{args.networks} networks x {args.units} units x {args.examples} examples, k = {k}, {n} iterations")
    ok = True
    for kind, ours in (("det", DetSRM), ("prob", SRM)):
        (w_base, name), t_base = best_of(lambda: brainiak_or_baseline(kind, xs, k, n))
        model, t_ours = best_of(lambda: ours(n_features=k, n_iter=n).fit(xs))
        f_base, f_ours = objective(xs, w_base), objective(xs, model.w_)
        rel = (f_ours - f_base) / abs(f_base)
        ok &= abs(rel) < 1e-4
        print(f"{ours.__name__:>6}: baseline ({name}) {t_base:6.1f} s | nnsrm_utils {t_ours:6.1f} s | "
              f"speed-up {t_base / t_ours:4.1f}x | objective (ours - baseline) / baseline {rel:+.1e}")
    if not ok:
        raise SystemExit("objectives differ by more than 1e-4 (relative)")


if __name__ == "__main__":
    main()
