"""BrainIAK 0.12's SRM algorithms, written out from its published update equations.

The conformance tests compare ``nnsrm_utils.srm`` with these, and the benchmark uses them
as its baseline when BrainIAK itself is not installed.  Faithful to BrainIAK on purpose:
the deterministic SRM does not centre, the probabilistic one centres but computes the
noise variance from the uncentred ``||X_i||^2``, and both add ``perturbation * I`` to
``X_i S^T`` before the SVD (BrainIAK: 0.001).
"""
import numpy as np


def brainiak_init(units, k, seed):
    seeder = np.random.RandomState(seed)
    seeds = [seeder.randint(2**32) for _ in units]
    return [np.linalg.qr(np.random.RandomState(s).random_sample((v, k)))[0] for s, v in zip(seeds, units)]


def _polar(a, perturbation):
    u, _, vt = np.linalg.svd(a + perturbation * np.eye(*a.shape), full_matrices=False)
    return u @ vt


def det_srm(xs, k, n_iter, seed=0, perturbation=0.001):
    w = brainiak_init([x.shape[0] for x in xs], k, seed)
    for _ in range(n_iter):
        s = sum(wi.T @ x for wi, x in zip(w, xs)) / len(xs)
        w = [_polar(x @ s.T, perturbation) for x in xs]
    return w


def prob_srm(xs, k, n_iter, seed=0, perturbation=0.001):
    """EM as BrainIAK writes it: S = Sigma_s (I - rho0 (Sigma_s^-1 + rho0 I)^-1) sum W^T x / rho^2."""
    t = xs[0].shape[1]
    trace_xtx = [np.sum(x**2) for x in xs]
    xs = [x - x.mean(1, keepdims=True) for x in xs]
    w = brainiak_init([x.shape[0] for x in xs], k, seed)
    rho2, sigma_s = np.ones(len(xs)), np.eye(k)
    for _ in range(n_iter):
        rho0 = np.sum(1 / rho2)
        inv_sigma_s_rhos = np.linalg.inv(np.linalg.inv(sigma_s) + rho0 * np.eye(k))
        wt_invpsi_x = sum(wi.T @ x / r for wi, x, r in zip(w, xs, rho2))
        s = sigma_s @ (np.eye(k) - rho0 * inv_sigma_s_rhos) @ wt_invpsi_x
        sigma_s = inv_sigma_s_rhos + s @ s.T / t
        trace_sigma_s = t * np.trace(sigma_s)
        for i, x in enumerate(xs):
            a = x @ s.T
            w[i] = _polar(a, perturbation)
            rho2[i] = (trace_xtx[i] - 2 * np.sum(w[i] * a) + trace_sigma_s) / (t * x.shape[0])
    return w, rho2
