"""Generalized shape metrics: metric axioms, agreement with CCA and Procrustes, and bad input."""
from itertools import permutations

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.optimize import linear_sum_assignment

from nnsrm_utils import cca, shape
from nnsrm_utils.transforms import random_orthogonal

RNG = np.random.default_rng(1)
Z = RNG.standard_normal((5, 120))
LAYERS = [np.tanh(RNG.standard_normal((p, 5)) @ Z) + s * RNG.standard_normal((p, 120))
          for p, s in ((5, 0.3), (5, 0.8), (7, 0.5), (4, 1.0), (6, 0.2))]


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("kind", shape.KINDS)
def test_metric_axioms(alpha, kind):
    D = shape.pairwise_distances(LAYERS, alpha, kind)
    assert np.allclose(D, D.T) and np.all(np.diag(D) == 0) and np.all(D[~np.eye(len(D), dtype=bool)] > 1e-3)
    for i, j, k in permutations(range(len(D)), 3):
        assert D[i, k] <= D[i, j] + D[j, k] + 1e-12
    X = LAYERS[0]
    assert shape.shape_distance(X, 3 * random_orthogonal(5, 0) @ X + 1.0, alpha, kind) < 1e-6


def test_pairwise_matrix_equals_each_pair():
    D = shape.pairwise_distances(LAYERS, 0.5, "euclidean")
    for i, j in [(0, 1), (2, 4), (3, 0)]:
        assert D[i, j] == pytest.approx(shape.shape_distance(LAYERS[i], LAYERS[j], 0.5, "euclidean"), abs=1e-12)


def test_upper_triangle_from_several_tasks_equals_each_pair():
    """Tasks of at least 8 units (256 by default): groups (0, 1) and (2, 3), each against every
    later layer, run in threads."""
    prepared = [shape.prepare(X) for X in LAYERS]
    norms = shape._upper_nuclear_norms(prepared, rows_per_task=8)
    expected = [np.linalg.svd(prepared[i] @ prepared[j].T, compute_uv=False).sum()
                for i in range(len(LAYERS)) for j in range(i + 1, len(LAYERS))]
    assert norms == pytest.approx(expected, abs=1e-12)


def test_alpha_zero_is_mean_cca():
    X, Y = LAYERS[0], LAYERS[1]
    assert np.cos(shape.shape_distance(X, Y, alpha=0.0)) == pytest.approx(np.mean(cca.cca(X, Y)), abs=1e-10)


def test_alpha_one_is_the_procrustes_distance():
    X, Y = (shape.prepare(x) for x in LAYERS[:2])
    Q, _ = orthogonal_procrustes(Y.T, X.T)  # Y^T Q ~ X^T
    euclidean = np.linalg.norm(X - Q.T @ Y)
    assert shape.shape_distance(*LAYERS[:2], kind="euclidean") == pytest.approx(euclidean, abs=1e-10)
    assert shape.shape_distance(*LAYERS[:2]) == pytest.approx(2 * np.arcsin(euclidean / 2), abs=1e-10)


def test_permutation_distance_is_the_best_permutation():
    X, Y = LAYERS[0], LAYERS[1]
    Xp, Yp = shape.prepare(X), shape.prepare(Y)
    best = min(np.arccos(np.clip(np.sum(Xp * Yp[list(p)]), -1, 1)) for p in permutations(range(5)))
    assert shape.permutation_distance(X, Y) == pytest.approx(best, abs=1e-12)
    assert shape.permutation_distance(X, Y) >= shape.shape_distance(X, Y)  # fewer maps to choose from
    assert shape.permutation_distance(X, X[::-1] * 4) < 1e-6
    assert shape.permutation_distance(X, random_orthogonal(5, 1) @ X) > 0.05


def test_narrower_layer_is_padded_with_zero_units():
    X, Y = LAYERS[2], LAYERS[3]  # 7 and 4 units
    padded = np.concatenate([Y, np.zeros((3, Y.shape[1]))])
    for alpha in (0.0, 1.0):
        assert shape.shape_distance(X, Y, alpha) == pytest.approx(shape.shape_distance(X, padded, alpha), abs=1e-10)
    assert shape.permutation_distance(X, Y) == pytest.approx(shape.permutation_distance(X, padded), abs=1e-12)


def _replicated_assignment_cosine(X, Y):
    """Soft matching's cosine by another route: repeat each unit of X lcm/p1 times and each of Y
    lcm/p2 times (units of mean squared norm 1), then the best one-to-one assignment."""
    p1, p2 = len(X), len(Y)
    L = np.lcm(p1, p2)
    Xr = np.repeat(np.sqrt(p1) * shape.prepare(X), L // p1, axis=0)
    Yr = np.repeat(np.sqrt(p2) * shape.prepare(Y), L // p2, axis=0)
    M = Xr @ Yr.T
    rows, cols = linear_sum_assignment(M, maximize=True)
    return M[rows, cols].sum() / L


@pytest.mark.parametrize("kind", shape.KINDS)
def test_soft_matching_equals_permutation_distance_for_equal_widths(kind):
    """Birkhoff-von Neumann: over plans with margins 1/p the optimum is a permutation / p."""
    for X, Y in [(LAYERS[0], LAYERS[1]), (LAYERS[2], np.random.default_rng(3).standard_normal((7, 120)))]:
        assert shape.soft_matching_distance(X, Y, kind) == pytest.approx(shape.permutation_distance(X, Y, kind), abs=1e-12)


@pytest.mark.parametrize("i, j", [(2, 3), (3, 4), (0, 2)])  # 7 and 4 units, 4 and 6, 5 and 7
def test_soft_matching_is_an_assignment_of_replicated_units(i, j):
    cosine = np.cos(shape.soft_matching_distance(LAYERS[i], LAYERS[j]))
    assert cosine == pytest.approx(_replicated_assignment_cosine(LAYERS[i], LAYERS[j]), abs=1e-12)


@pytest.mark.parametrize("kind", shape.KINDS)
def test_soft_matching_metric_axioms(kind):
    n = len(LAYERS)
    D = np.zeros((n, n))
    for i, j in permutations(range(n), 2):
        D[i, j] = shape.soft_matching_distance(LAYERS[i], LAYERS[j], kind)
    assert np.allclose(D, D.T, atol=1e-12) and np.all(D[~np.eye(n, dtype=bool)] > 1e-3)
    assert all(shape.soft_matching_distance(X, X, kind) < 1e-6 for X in LAYERS)
    for i, j, k in permutations(range(n), 3):
        assert D[i, k] <= D[i, j] + D[j, k] + 1e-12


def test_soft_matching_ignores_permutations_not_rotations():
    X, Y = LAYERS[2], LAYERS[4]
    d = shape.soft_matching_distance(X, Y)
    rng = np.random.default_rng(4)
    assert shape.soft_matching_distance(X[rng.permutation(7)], Y[rng.permutation(6)]) == pytest.approx(d, abs=1e-12)
    assert abs(shape.soft_matching_distance(random_orthogonal(7, 2) @ X, Y) - d) > 1e-2


def test_soft_matching_forgives_duplicated_units_where_padding_does_not():
    X = LAYERS[3]
    doubled = 2 * np.concatenate([X, X[::-1]]) + 1.0  # every unit twice, rescaled and shifted
    assert shape.soft_matching_distance(X, doubled) < 1e-6
    assert shape.soft_matching_distance(X, doubled, "euclidean") < 1e-6
    # with zero units added, X's unit-norm units meet copies of norm 1/sqrt(2): cosine 1/sqrt(2)
    assert shape.permutation_distance(X, doubled) == pytest.approx(np.pi / 4, abs=1e-12)
    # repeated unequally, the distribution of units changes
    assert shape.soft_matching_distance(X, np.concatenate([X, X[:1]])) > 1e-3


@pytest.mark.parametrize("call, message", [
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1], alpha=1.5), "alpha"),
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1], alpha=np.int64(2)), "alpha"),
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1], kind="cosine"), "kind"),
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1][:, :50]), "same examples"),
    (lambda: shape.shape_distance(np.where(LAYERS[0] > 1, np.nan, LAYERS[0]), LAYERS[1]), "NaN"),
    (lambda: shape.shape_distance(np.ones((3, 120)), LAYERS[1]), "does not vary"),
    (lambda: shape.permutation_distance(LAYERS[0][:, :1], LAYERS[1][:, :1]), "example"),
    (lambda: shape.soft_matching_distance(np.where(LAYERS[2] > 1, np.nan, LAYERS[2]), LAYERS[3]), "NaN"),
    (lambda: shape.soft_matching_distance(LAYERS[2], LAYERS[3][:, :60]), "same examples"),
    (lambda: shape.soft_matching_distance(LAYERS[2], np.full((3, 120), 2.0)), "does not vary"),
    (lambda: shape.soft_matching_distance(LAYERS[2], LAYERS[3], kind="cosine"), "kind"),
    (lambda: shape.soft_matching_distance(LAYERS[2].T, LAYERS[3]), "same examples"),
    (lambda: shape.pairwise_distances(LAYERS[0]), "list"),
    (lambda: shape.pairwise_distances([LAYERS[0], LAYERS[1][:, :60]]), "same examples"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_numpy_integers_are_numbers_for_alpha():
    for alpha in (0, 1):
        assert shape.shape_distance(LAYERS[0], LAYERS[1], alpha=np.int64(alpha)) == \
            shape.shape_distance(LAYERS[0], LAYERS[1], alpha=float(alpha))
