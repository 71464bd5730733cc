"""Seeded resampling statistics over networks or simulation runs.

Networks (or runs) are the independent units, so bootstrap and permutation
resample along the first axis.  Every function takes ``random_state``.
"""
import numpy as np


def _check_samples(values, name="values", min_n=2):
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (one entry per network or run)")
    if values.shape[0] < min_n:
        raise ValueError(f"{name} needs at least {min_n} networks/runs along axis 0; got {values.shape[0]}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


def bootstrap_ci(values, ci=0.95, n_boot=10_000, statistic=np.mean, random_state=0):
    """Percentile bootstrap confidence interval of ``statistic`` over axis 0.

    ``values`` has one entry (or one row, e.g. per layer) per network or run.
    ``statistic(samples, axis=1)`` must reduce the given axis (all resamples at once).  Returns ``(low, high)``,
    each of shape ``values.shape[1:]``.
    """
    values = _check_samples(values)
    if isinstance(n_boot, bool) or not (isinstance(n_boot, (int, np.integer)) and n_boot >= 1):
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1); got {ci}")
    rng = np.random.default_rng(random_state)
    n = values.shape[0]
    stats = statistic(values[rng.integers(0, n, (n_boot, n))], axis=1)
    alpha = (1 - ci) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha], axis=0)
    return low, high


def permutation_test(a, b=None, n_perm=10_000, alternative="two-sided", random_state=0):
    """Permutation test for a difference in means, with the +1 correction.

    With ``b`` the two samples are exchangeable groups.  Without ``b``, ``a``
    holds paired differences (e.g. shared minus native, per run) and the test
    flips their signs.  Returns ``(observed_difference, p_value)``.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less'; got {alternative!r}")
    if isinstance(n_perm, bool) or not (isinstance(n_perm, (int, np.integer)) and n_perm >= 1):
        raise ValueError(f"n_perm must be a positive integer; got {n_perm!r}")
    rng = np.random.default_rng(random_state)
    a = _check_samples(a, "a")
    if b is None:
        observed = a.mean(axis=0)
        signs = rng.choice([-1.0, 1.0], size=(n_perm,) + (a.shape[0],) + (1,) * (a.ndim - 1))
        null = (signs * a).mean(axis=1)
    else:
        b = _check_samples(b, "b")
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(f"a and b must agree beyond axis 0; got {a.shape} and {b.shape}")
        pooled, n_a = np.concatenate([a, b]), a.shape[0]
        observed = a.mean(axis=0) - b.mean(axis=0)
        null = np.empty((n_perm,) + observed.shape)
        for t in range(n_perm):
            shuffled = pooled[rng.permutation(len(pooled))]
            null[t] = shuffled[:n_a].mean(axis=0) - shuffled[n_a:].mean(axis=0)
    if alternative == "greater":
        hits = null >= observed
    elif alternative == "less":
        hits = null <= observed
    else:
        hits = np.abs(null) >= np.abs(observed)
    return observed, (hits.sum(axis=0) + 1) / (n_perm + 1)
