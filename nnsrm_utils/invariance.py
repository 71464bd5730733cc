"""The ladder of invariances: which transformations of a layer each measure ignores.

Comparing two networks' layers means deciding which differences between them do not count.
The measures of this package answer differently, and the answer is a group of transformations
of one layer ``X`` ``(n_units, n_examples)``:

* ``permutation``: the units reordered (and, for the matches, each unit rescaled);
* ``orthogonal``: a rotation or reflection of the units' space (contains the permutations);
* ``invertible linear``: any invertible map of that space (contains the orthogonal maps);
* ``isotropic scaling``: every unit multiplied by the same positive number;
* ``translation``: a constant added to each unit, the same for every example.

:data:`INVARIANT_TO` declares, for each measure in :data:`MEASURES`, the groups under which
``measure(g X, Y) == measure(X, Y)`` for every ``Y``; the tests check that exactly these hold,
and that the next larger group of the ladder does not.  The transformation is applied to the
first layer: PWCCA, which weights the canonical directions by the first layer's units, ignores
only permutations of that layer but every invertible map of the second.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import cca, matching, rsm, shape
from ._validate import check_activations
from .transforms import RandomState, _rng, random_orthogonal

#: The groups of transformations of a layer that a measure may ignore.
GROUPS = ("permutation", "orthogonal", "invertible linear", "isotropic scaling", "translation")
#: The nested groups, smallest first (each contains the one before).
LADDER = ("permutation", "orthogonal", "invertible linear")


def transform(X: ArrayLike, group: str, random_state: RandomState = None) -> NDArray[np.float64]:
    """``X`` ``(n_units, n_examples)`` under a random member of ``group`` (one of :data:`GROUPS`).

    Parameters
    ----------
    X : array_like, shape ``(n_units, n_examples)``
        One layer's activations.
    group : str
        One of :data:`GROUPS`.
    random_state : int, numpy.random.Generator or None
        Seeds the draw of the transformation.

    Returns
    -------
    numpy.ndarray, float64, shape ``(n_units, n_examples)``
        A new array: the transformed layer (``X`` itself is not changed).

    Raises
    ------
    ValueError
        If ``group`` is not one of :data:`GROUPS`, or ``X`` is not a 2-D array of finite values.

    Examples
    --------
    >>> import numpy as np
    >>> from nnsrm_utils import cca
    >>> X = np.random.default_rng(0).standard_normal((5, 300))
    >>> Y = np.random.default_rng(1).standard_normal((5, 5)) @ X
    >>> round(cca.cka(transform(X, "orthogonal", 0), Y) - cca.cka(X, Y), 9)   # CKA ignores rotations
    0.0
    """
    rng = _rng(random_state)
    X = check_activations(X, min_examples=1).astype(np.float64)
    p = len(X)
    if group == "permutation":
        return X[rng.permutation(p)]
    if group == "orthogonal":
        return random_orthogonal(p, rng) @ X
    if group == "invertible linear":  # well conditioned (singular values 0.3-3), far from orthogonal
        return (random_orthogonal(p, rng) * rng.uniform(0.3, 3.0, p)) @ random_orthogonal(p, rng) @ X
    if group == "isotropic scaling":
        return rng.uniform(2.0, 10.0) * X
    if group == "translation":
        return X + rng.normal(0.0, 3.0, (p, 1))
    raise ValueError(f"group must be one of {GROUPS}; got {group!r}")


#: Every measure of the package as ``measure(X, Y)``, by name.
MEASURES = {
    "neuron matches (Wang et al., eps 0.5)": lambda X, Y: matching.match_similarity(X, Y, 0.5),
    "RSA (Pearson RSMs)": lambda X, Y: rsm.compare_rsms(rsm.rsm(X), rsm.rsm(Y)),
    "RSA (cosine RSMs)": lambda X, Y: rsm.compare_rsms(rsm.rsm(X, "cosine"), rsm.rsm(Y, "cosine")),
    "permutation distance": shape.permutation_distance,
    "soft matching distance": shape.soft_matching_distance,
    "Procrustes distance": shape.shape_distance,
    "shape distance (alpha 0.5)": lambda X, Y: shape.shape_distance(X, Y, alpha=0.5),
    "linear CKA": cca.cka,
    "linear CKA (debiased)": lambda X, Y: cca.cka(X, Y, debiased=True),
    "RBF CKA": lambda X, Y: cca.cka(X, Y, kernel="rbf"),
    "SVCCA": cca.svcca,
    "PWCCA": cca.pwcca,
    "mean CCA": lambda X, Y: float(np.mean(cca.cca(X, Y))),
    "CCA distance (alpha 0)": lambda X, Y: shape.shape_distance(X, Y, alpha=0.0),
}

#: The score of a layer with itself (0 for the shape metrics, which are distances; 1 for the similarities).
IDENTICAL = {name: 0.0 if "distance" in name else 1.0 for name in MEASURES}

_SCALE_AND_SHIFT = {"isotropic scaling", "translation"}
#: For each measure of :data:`MEASURES`, the groups of :data:`GROUPS` it ignores (tested both ways).
INVARIANT_TO = {
    "neuron matches (Wang et al., eps 0.5)": {"permutation", "isotropic scaling"},
    "RSA (Pearson RSMs)": {"permutation", "isotropic scaling"},
    "RSA (cosine RSMs)": {"permutation", "orthogonal", "isotropic scaling"},
    "permutation distance": {"permutation"} | _SCALE_AND_SHIFT,
    "soft matching distance": {"permutation"} | _SCALE_AND_SHIFT,
    "Procrustes distance": {"permutation", "orthogonal"} | _SCALE_AND_SHIFT,
    "shape distance (alpha 0.5)": {"permutation", "orthogonal"} | _SCALE_AND_SHIFT,
    "linear CKA": {"permutation", "orthogonal"} | _SCALE_AND_SHIFT,
    "linear CKA (debiased)": {"permutation", "orthogonal"} | _SCALE_AND_SHIFT,
    "RBF CKA": {"permutation", "orthogonal"} | _SCALE_AND_SHIFT,
    "SVCCA": {"permutation", "orthogonal"} | _SCALE_AND_SHIFT,
    "PWCCA": {"permutation"} | _SCALE_AND_SHIFT,
    "mean CCA": set(LADDER) | _SCALE_AND_SHIFT,
    "CCA distance (alpha 0)": set(LADDER) | _SCALE_AND_SHIFT,
}


def rung(measure: str) -> str | None:
    """The largest group of :data:`LADDER` that ``measure`` ignores (None: not even permutations).

    Returns
    -------
    str or None
        ``"permutation"``, ``"orthogonal"`` or ``"invertible linear"``, or None.

    Raises
    ------
    KeyError
        If ``measure`` is not a name in :data:`MEASURES`.

    Examples
    --------
    >>> rung("linear CKA"), rung("mean CCA"), rung("PWCCA")
    ('orthogonal', 'invertible linear', 'permutation')
    """
    groups = [g for g in LADDER if g in INVARIANT_TO[measure]]
    return groups[-1] if groups else None
