"""CCA and PWCCA against google/svcca's algorithm, measured in one process.

The baseline follows the steps of google/svcca's ``get_cca_similarity`` (covariance of the
stacked layers with ``np.cov``, rescaling by the largest entry, matrix square roots by
eigendecomposition and their pseudo-inverses, SVD) and ``compute_pwcca`` (canonical
variates on the data, QR of them, weights from their products with the neurons),
reimplemented here from the published description.  The first layer is whitened, the case
in which the reference's PWCCA equals the paper's formula, so both must agree to 1e-8.
A second check runs both on a rank-deficient layer: the baseline goes NaN, ours does not.

    python benchmarks/bench_cca.py                       # 512 units x 10,000 examples
    python benchmarks/bench_cca.py --units 128 --examples 2000
"""
import warnings

import numpy as np
from timing import arguments, best_of

from nnsrm_utils.cca import cca, pwcca


def reference_cca(acts1, acts2, epsilon=0.0):
    """Canonical correlations and the neuron coefficients ``u^T``, the reference's way."""
    p1, p2 = len(acts1), len(acts2)
    sigma = np.cov(acts1, acts2)
    sxx, sxy, syy = sigma[:p1, :p1], sigma[:p1, p1:], sigma[p1:, p1:]
    xmax, ymax = np.max(np.abs(sxx)), np.max(np.abs(syy))
    sxx, syy, sxy = sxx / xmax, syy / ymax, sxy / np.sqrt(xmax * ymax)
    # neurons whose variance is below epsilon are dropped, epsilon regularises the rest
    kx, ky = np.abs(np.diag(sxx)) >= epsilon, np.abs(np.diag(syy)) >= epsilon
    sxx, sxy, syy = sxx[kx][:, kx], sxy[kx][:, ky], syy[ky][:, ky]

    def inv_sqrt(c):  # pseudo-inverse, then its square root by eigendecomposition
        w, v = np.linalg.eigh(np.linalg.pinv(c + epsilon * np.eye(len(c))))
        return v @ (np.diag(np.sqrt(w)) @ v.T)

    ixx, iyy = inv_sqrt(sxx), inv_sqrt(syy)
    u, rho, vt = np.linalg.svd(ixx @ (sxy @ iyy))
    # the full-size coefficient matrices the reference always returns
    for keep, coef, inv in ((kx, u.T, ixx), (ky, vt, iyy)):
        mask = np.outer(keep, keep)
        for small in (coef, inv):
            full = np.zeros((len(keep), len(keep)))
            np.place(full, mask, small)
    acts1.mean(axis=1), acts2.mean(axis=1)
    return np.abs(rho), u.T


def reference_pwcca(acts1, acts2):
    """The reference's projection weighting: variates u^T (X - mean) + mean, QR, weights.
    Equal to the paper's formula here because the benchmark's first layer is whitened."""
    rho, coef = reference_cca(acts1, acts2)
    mean = acts1.mean(axis=1, keepdims=True)
    variates = coef @ (acts1 - mean) + mean
    q, _ = np.linalg.qr(variates.T)
    weights = np.abs(q.T @ acts1.T).sum(axis=1)
    weights /= weights.sum()
    return float(weights @ rho)


def make_pair(units, examples, seed=0):
    """A whitened first layer and a noisy linear image of it."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((units, examples))
    x -= x.mean(axis=1, keepdims=True)
    x = np.ascontiguousarray(np.linalg.qr(x.T)[0].T) * np.sqrt(examples - 1)  # identity covariance
    y = rng.standard_normal((units, units)) @ x + 2 * rng.standard_normal((units, examples))
    return x, y


def main():
    args = arguments(__doc__, units=512, examples=10000, repeats=3)
    x, y = make_pair(args.units, args.examples)
    print(f"{args.units} x {args.examples} per layer (float64), best of {args.repeats}")
    ok = True
    for name, base, ours in (("CCA", lambda: reference_cca(x, y)[0], lambda: cca(x, y)),
                             ("PWCCA", lambda: reference_pwcca(x, y), lambda: pwcca(x, y))):
        expected, t_base = best_of(base, args.repeats)
        got, t_ours = best_of(ours, args.repeats)
        diff = float(np.max(np.abs(np.asarray(got) - np.asarray(expected))))
        ok &= diff < 1e-8
        print(f"{name:6s} baseline {t_base:6.3f} s   nnsrm_utils {t_ours:6.3f} s   "
              f"speed-up {t_base / t_ours:4.1f}x   max |difference| {diff:.1e}")

    rng = np.random.default_rng(1)
    latent = rng.standard_normal((10, 2000))
    deficient = rng.standard_normal((50, 10)) @ latent  # 50 units spanning 10 dimensions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            base = reference_cca(deficient, deficient + 0.0)[0]
            base_says = f"{np.sum(~np.isfinite(base))} of 50 correlations non-finite" if not np.all(
                np.isfinite(base)) else f"{np.sum(base > 0.999)} of 50 correlations ~1"
        except np.linalg.LinAlgError as err:
            base_says = f"LinAlgError ({err})"
    rho = cca(deficient, deficient)
    print(f"rank-deficient layer (50 units, 10 dimensions): baseline {base_says}; "
          f"nnsrm_utils {np.sum(rho > 1 - 1e-6)} correlations ~1 and {np.sum(rho < 1e-9)} ~0")
    if not ok:
        raise SystemExit("results disagree beyond 1e-8")


if __name__ == "__main__":
    main()
