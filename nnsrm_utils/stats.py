"""Seeded resampling statistics over networks or simulation runs, and the permutation null
of a measure between two layers.

Networks (or runs) are the independent units, so bootstrap and permutation
resample along the first axis; :func:`calibrated` shuffles examples instead.  Every function
takes ``random_state``.
"""
from __future__ import annotations

from collections.abc import Callable
from math import factorial
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import LAYOUT_HINT, check_activations, check_count, is_real
from .comparison import shuffled_similarities


def _check_samples(values, name="values", min_n=2):
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (one entry per network or run)")
    if values.shape[0] < min_n:
        raise ValueError(f"{name} needs at least {min_n} networks/runs along axis 0; got {values.shape[0]}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


def bootstrap_ci(values: ArrayLike, ci: float = 0.95, n_boot: int = 10_000, statistic: Callable = np.mean,
                 random_state: int = 0) -> tuple[NDArray, NDArray]:
    """Percentile bootstrap confidence interval of ``statistic`` over axis 0.

    ``values`` has one entry (or one row, e.g. per layer) per network or run.
    ``statistic(samples, axis=1)`` must reduce the given axis (all resamples at once).

    Returns
    -------
    low, high : numpy.ndarray
        The interval's ends, each of shape ``values.shape[1:]`` (0-d for one value per network).

    Raises
    ------
    ValueError
        If ``values`` is 0-d, has fewer than 2 entries along axis 0 or NaN/infinite values,
        ``n_boot`` is not a positive integer, or ``ci`` is not in (0, 1).

    Examples
    --------
    Variance explained by SRM in five networks, and a 95% interval for its mean:

    >>> import numpy as np
    >>> low, high = bootstrap_ci(np.array([0.61, 0.64, 0.58, 0.66, 0.63]))
    >>> round(float(low), 2), round(float(high), 2)
    (0.6, 0.65)
    """
    values = _check_samples(values)
    check_count(n_boot, "n_boot")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1); got {ci}")
    rng = np.random.default_rng(random_state)
    n = values.shape[0]
    stats = statistic(values[rng.integers(0, n, (n_boot, n))], axis=1)
    alpha = (1 - ci) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha], axis=0)
    return low, high


def permutation_test(a: ArrayLike, b: ArrayLike | None = None, n_perm: int = 10_000,
                     alternative: Literal["two-sided", "greater", "less"] = "two-sided",
                     random_state: int = 0) -> tuple[NDArray, NDArray]:
    """Permutation test for a difference in means, with the +1 correction.

    With ``b`` the two samples are exchangeable groups.  Without ``b``, ``a``
    holds paired differences (e.g. shared minus native, per run) and the test
    flips their signs.

    Returns
    -------
    observed_difference, p_value : numpy.ndarray
        The difference in means (or the mean difference) and its p-value, each of shape
        ``a.shape[1:]``.

    Raises
    ------
    ValueError
        For an unknown ``alternative``, an ``n_perm`` that is not a positive integer, a sample
        with fewer than 2 entries along axis 0 or with NaN/infinite values, or samples that
        disagree beyond axis 0.

    Examples
    --------
    Paired differences (shared minus native) in five runs, tested against zero by sign flips:

    >>> import numpy as np
    >>> difference, p = permutation_test(np.array([0.12, 0.08, 0.15, 0.11, 0.09]))
    >>> round(float(difference), 3), round(float(p), 3)
    (0.11, 0.065)
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less'; got {alternative!r}")
    check_count(n_perm, "n_perm")
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


def calibrated(measure: Callable[[NDArray, NDArray], float] | str, X: ArrayLike, Y: ArrayLike, n_perm: int = 100,
               identical: float = 1.0, random_state: int = 0) -> dict[str, float]:
    """A score between two layers read against its permutation null.

    ``measure(X, Y)`` for ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)``, or the name of one of
    :data:`nnsrm_utils.comparison.MEASURES` (each layer then prepared once, and a shuffle only
    permutes its prepared data: many times faster for the CCA family, same values), beside the same measure with
    the examples of ``Y`` shuffled ``n_perm`` times: each layer keeps its own statistics (units,
    widths, spectrum) and only their correspondence is broken, so the null holds whatever bias
    the measure has for layers of these sizes.  ``identical`` is the score of a layer with itself
    (1 for similarities, 0 for distances).

    Returns
    -------
    dict
        ``score``; ``null_mean`` and ``null_sd``; ``calibrated``, ``(score - null_mean) /
        (identical - null_mean)``, 0 at chance and 1 for identical layers; and ``p_value``, the
        share of shuffles that score at least as close to ``identical``, with the +1 correction.

    Raises
    ------
    ValueError
        If ``n_perm`` is not a positive integer; ``identical`` is not a finite number; ``X`` or
        ``Y`` is not 2-D, has NaN or infinite values or too few examples; they disagree on the
        number of examples; the examples have too few orderings for ``n_perm`` shuffles; the
        measure returns NaN or infinity; the null's mean equals ``identical``; or a named
        measure is unknown (or refuses the layers, e.g. one that does not vary).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5, 100))
    >>> Y = X + rng.standard_normal((5, 100))
    >>> r = calibrated("linear CKA", X, Y, n_perm=50)
    >>> round(r["score"], 2), round(r["null_mean"], 2), round(r["calibrated"], 2), round(r["p_value"], 3)
    (0.57, 0.05, 0.55, 0.02)
    """
    check_count(n_perm, "n_perm")
    if not (is_real(identical) and np.isfinite(identical)):
        raise ValueError(f"identical must be a finite number (the score of a layer with itself); got {identical!r}")
    X, Y = check_activations(X, "X"), check_activations(Y, "Y")
    n = X.shape[1]
    if Y.shape[1] != n:
        raise ValueError(f"X and Y must hold the same examples: X has {n}, Y has {Y.shape[1]} ({LAYOUT_HINT})")
    if factorial(min(n, 20)) <= n_perm:
        raise ValueError(f"{n} examples have too few orderings for a null of {n_perm} shuffles")
    rng = np.random.default_rng(random_state)
    orders = [rng.permutation(n) for _ in range(n_perm)]
    if isinstance(measure, str):
        scores = shuffled_similarities(X, Y, measure, orders)
        score, null = float(scores[0]), scores[1:]
    else:
        score = float(measure(X, Y))
        null = np.array([measure(X, Y[:, order]) for order in orders], dtype=float)
    if not (np.isfinite(score) and np.all(np.isfinite(null))):
        raise ValueError("the measure returned NaN or infinity")
    centre = null.mean()
    if np.isclose(centre, identical):
        raise ValueError("the null already scores as identical layers would: nothing to calibrate against")
    closer = np.abs(null - identical) <= np.abs(score - identical)
    return {"score": score, "null_mean": float(centre), "null_sd": float(null.std(ddof=1)) if n_perm > 1 else 0.0,
            "calibrated": float((score - centre) / (identical - centre)),
            "p_value": float((closer.sum() + 1) / (n_perm + 1))}
