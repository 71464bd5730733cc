"""The ladder: each measure ignores exactly the transformations it declares (invariance.py)."""
import warnings

import numpy as np
import pytest

from nnsrm_utils import invariance


@pytest.fixture(scope="module")
def layers():
    """Two related layers: ReLU units of one latent signal, four of Y's units rescaled copies of
    X's (so that Wang et al.'s matches are not empty), the rest noisy mixtures."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 300))
    X = np.maximum(rng.standard_normal((8, 6)) @ z + 0.3, 0) + 0.3 * rng.standard_normal((8, 300))
    Y = np.concatenate([X[:4] * [[2.0], [0.5], [1.0], [3.0]] + 0.01 * rng.standard_normal((4, 300)),
                        np.maximum(rng.standard_normal((6, 6)) @ z, 0) + 0.5 * rng.standard_normal((6, 300))])
    return X, Y


def _change(measure, X, Y, group):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        base = invariance.MEASURES[measure](X, Y)
        return max(abs(invariance.MEASURES[measure](invariance.transform(X, group, seed), Y) - base)
                   for seed in range(3))


@pytest.mark.parametrize("group", invariance.GROUPS)
@pytest.mark.parametrize("measure", list(invariance.MEASURES))
def test_each_measure_ignores_exactly_its_declared_groups(layers, measure, group):
    change = _change(measure, *layers, group)
    if group in invariance.INVARIANT_TO[measure]:
        assert change < 1e-9
    else:
        assert change > 1e-3


def test_the_ladder_is_nested():
    """Ignoring a group of the ladder means ignoring every smaller one."""
    for measure, groups in invariance.INVARIANT_TO.items():
        rungs = [g in groups for g in invariance.LADDER]
        assert rungs == sorted(rungs, reverse=True), measure
    assert invariance.rung("mean CCA") == "invertible linear"
    assert invariance.rung("linear CKA") == "orthogonal"
    assert invariance.rung("PWCCA") == "permutation"


def test_matches_are_not_trivial_here(layers):
    assert 0.2 < invariance.MEASURES["neuron matches (Wang et al., eps 0.5)"](*layers) < 1


def test_pwcca_ignores_invertible_maps_of_its_second_layer_only(layers):
    X, Y = layers
    pwcca = invariance.MEASURES["PWCCA"]
    assert pwcca(X, invariance.transform(Y, "invertible linear", 0)) == pytest.approx(pwcca(X, Y), abs=1e-9)
    assert abs(pwcca(invariance.transform(X, "invertible linear", 0), Y) - pwcca(X, Y)) > 1e-3


def test_unknown_group_is_refused():
    with pytest.raises(ValueError, match="group must be one of"):
        invariance.transform(np.ones((2, 3)), "affine")


@pytest.mark.parametrize("measure", list(invariance.MEASURES))
def test_identical_is_the_score_of_a_layer_with_itself(layers, measure):
    X, _ = layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert invariance.MEASURES[measure](X, X) == pytest.approx(invariance.IDENTICAL[measure], abs=1e-6)
