"""Generalized shape metrics: metric axioms, agreement with CCA and Procrustes, and bad input."""
from itertools import permutations

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes

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


@pytest.mark.parametrize("call, message", [
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1], alpha=1.5), "alpha"),
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1], kind="cosine"), "kind"),
    (lambda: shape.shape_distance(LAYERS[0], LAYERS[1][:, :50]), "same examples"),
    (lambda: shape.shape_distance(np.where(LAYERS[0] > 1, np.nan, LAYERS[0]), LAYERS[1]), "NaN"),
    (lambda: shape.shape_distance(np.ones((3, 120)), LAYERS[1]), "does not vary"),
    (lambda: shape.permutation_distance(LAYERS[0][:, :1], LAYERS[1][:, :1]), "example"),
    (lambda: shape.pairwise_distances(LAYERS[0]), "list"),
    (lambda: shape.pairwise_distances([LAYERS[0], LAYERS[1][:, :60]]), "same examples"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
