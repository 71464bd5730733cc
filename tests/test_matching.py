"""Neuron-group matches (Wang et al. 2018): planted matches recovered, monotone, symmetric, invariant."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

from nnsrm_utils import matching

seeds = st.integers(0, 2**32 - 1)


def planted(rng, k=3, shared=(5, 4), private=(10, 12), n=200):
    """Neurons 0..shared-1 of each layer mix one k-dimensional latent; the rest are independent."""
    latent = rng.standard_normal((k, n))
    return [np.concatenate([rng.standard_normal((s, k)) @ latent, rng.standard_normal((p, n))])
            for s, p in zip(shared, private)]


@given(seed=seeds)
def test_maximum_match_is_the_planted_groups(seed):
    x, y = planted(np.random.default_rng(seed))
    ix, iy = matching.max_match(x, y, 1e-6)
    assert list(ix) == [0, 1, 2, 3, 4] and list(iy) == [0, 1, 2, 3]


@given(seed=seeds)
def test_simple_matches_have_the_size_of_the_latent(seed):
    x, y = planted(np.random.default_rng(seed))
    simple = matching.simple_matches(x, y, 1e-6)
    assert all(len(sx) == len(sy) == 3 for sx, sy in simple)
    union_x = sorted(set(np.concatenate([sx for sx, _ in simple]).tolist()))
    union_y = sorted(set(np.concatenate([sy for _, sy in simple]).tolist()))
    assert union_x == [0, 1, 2, 3, 4] and union_y == [0, 1, 2, 3]
    sx, sy = matching.simple_match(x, y, 1e-6, 2, side="y")
    assert 2 in sy and len(sx) == len(sy) == 3


def test_neuron_in_no_match_raises(rng):
    x, y = planted(rng)
    with pytest.raises(ValueError, match="no 1e-06-match"):
        matching.simple_match(x, y, 1e-6, 7)


@given(seed=seeds)
def test_match_grows_with_epsilon_and_is_symmetric(seed):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((4, 60))
    x = rng.standard_normal((8, 4)) @ latent + 0.3 * rng.standard_normal((8, 60))
    y = rng.standard_normal((9, 4)) @ latent + 0.3 * rng.standard_normal((9, 60))
    sweep = matching.epsilon_sweep(x, y, np.linspace(0, 1, 11))
    assert np.all(np.diff(sweep) >= 0) and sweep[-1] == 1
    for eps in (0.2, 0.5, 0.8):
        ix, iy = matching.max_match(x, y, eps)
        jy, jx = matching.max_match(y, x, eps)
        np.testing.assert_array_equal(ix, jx)
        np.testing.assert_array_equal(iy, jy)


@given(seed=seeds)
def test_invariant_to_per_neuron_scaling(seed):
    rng = np.random.default_rng(seed)
    x, y = planted(rng, n=80)
    x = x + 0.05 * rng.standard_normal(x.shape)
    scale = rng.uniform(0.01, 100, (len(x), 1)) * rng.choice([-1, 1], (len(x), 1))
    for eps in (0.1, 0.5):
        a, b = matching.max_match(x, y, eps), matching.max_match(scale * x, y, eps)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_too_few_examples_everything_matches_and_a_warning_says_so(rng):
    """With at least as many neurons as examples, each layer spans the whole space: the regime a
    transposed (n_points, n_neurons) array lands in, so the package warns and suggests the transpose."""
    x, y = rng.standard_normal((30, 20)), rng.standard_normal((30, 20))
    with pytest.warns(RuntimeWarning, match="matches trivially.*pass the transpose"):
        assert matching.match_similarity(x, y, 1e-6) == 1
    with pytest.warns(RuntimeWarning):
        assert matching.min_epsilon_all(x, y) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert matching.match_similarity(x.T, y.T, 0.01) == 0.0


def test_random_neurons_sit_at_the_expected_angle(rng):
    """A random direction's sine to a random N-dimensional subspace of R^D is about sqrt(1 - N/D)."""
    x, y = rng.standard_normal((50, 2000)), rng.standard_normal((500, 2000))
    sines = matching._Neurons(x, y, 1e-10).sines(np.arange(50), np.arange(50, 550))
    assert np.mean(sines) == pytest.approx(np.sqrt(1 - 500 / 2000), abs=0.01)


def test_dead_neurons_are_left_out(rng):
    x, y = planted(rng)
    x[6] = 0
    ix, _ = matching.max_match(x, y, 1e-6)
    assert 6 not in ix
    total = len(x) - 1 + len(y)
    assert matching.match_similarity(x, y, 1e-6) == pytest.approx(9 / total)


def test_neuron_sines_agree_with_least_squares(rng):
    x, y = rng.standard_normal((6, 40)), rng.standard_normal((4, 40))
    x[2] = 0
    sx, sy = matching.neuron_sines(x, y)
    coef = np.linalg.lstsq(y.T, x[0], rcond=None)[0]
    assert sx[0] == pytest.approx(np.linalg.norm(x[0] - y.T @ coef) / np.linalg.norm(x[0]), abs=1e-10)
    assert np.isnan(sx[2]) and not np.isnan(sy).any()
    assert matching.min_epsilon_all(x, y) == pytest.approx(max(np.nanmax(sx), sy.max()))


def test_smallest_epsilons(rng):
    x, y = planted(rng, n=60)
    x = x + 0.01 * rng.standard_normal(x.shape)
    e_all = matching.min_epsilon_all(x, y)
    assert matching.match_similarity(x, y, e_all + 1e-9) == 1
    assert matching.match_similarity(x, y, e_all - 1e-3) < 1
    e9 = matching.min_epsilon_for_size(x, y, 9)
    assert sum(map(len, matching.max_match(x, y, e9))) >= 9
    assert sum(map(len, matching.max_match(x, y, e9 - 2e-4))) < 9


def test_bad_input(rng):
    x = rng.standard_normal((5, 30))
    with pytest.raises(ValueError, match="eps"):
        matching.max_match(x, x, 1.5)
    with pytest.raises(ValueError, match="same examples"):
        matching.max_match(x, x[:, :20], 0.2)
    with pytest.raises(ValueError, match="NaN"):
        matching.max_match(x, np.full((3, 30), np.nan), 0.2)
    with pytest.raises(ValueError, match="side"):
        matching.simple_match(x, x, 0.2, 0, side="z")
    with pytest.raises(ValueError, match="size"):
        matching.min_epsilon_for_size(x, x, 11)


def test_exactly_spanned_neurons_have_sines_at_rounding_level(rng):
    """Wang et al.'s least-squares residuals find planted exact matches at eps = 1e-8; so must we
    (1 - cos^2 from a Gram matrix bottoms out near 1e-7)."""
    a = rng.standard_normal((5, 2000))
    x = np.vstack([a, rng.standard_normal((20, 2000))])
    y = np.vstack([rng.standard_normal((5, 5)) @ a, rng.standard_normal((20, 2000))])
    sx, sy = matching.neuron_sines(x, y)
    assert np.all(sx[:5] < 1e-13) and np.all(sy[:5] < 1e-13) and np.all(sx[5:] > 0.5)
    ix, iy = matching.max_match(x, y, 1e-10)
    assert list(ix) == list(range(5)) and list(iy) == list(range(5))
    assert [list(g) for g in matching.simple_matches(x, y, 1e-10)[0]] == [list(range(5))] * 2


def test_a_tiny_live_neuron_is_not_dead(rng):
    """A neuron a million times smaller than its neighbours still has a direction."""
    a = rng.standard_normal((3, 300))
    x = np.vstack([a[:2], 1e-6 * a[2]])
    y = np.vstack([rng.standard_normal((2, 300)), 5 * a[2]])
    assert not np.isnan(matching.neuron_sines(x, y)[0][2])
    ix, iy = matching.max_match(x, y, 1e-10)
    assert list(ix) == [2] and list(iy) == [2]


def test_a_layer_without_live_neurons_matches_nothing(rng):
    y = rng.standard_normal((4, 50))
    for eps in (0.5, 1.0):
        assert matching.match_similarity(np.zeros((3, 50)), y, eps) == 0.0
        ix, iy = matching.max_match(y, np.zeros((3, 50)), eps)
        assert len(ix) == len(iy) == 0
    assert matching.match_similarity(rng.standard_normal((3, 50)), y, 1.0) == 1.0  # any live span is within 1
    with pytest.raises(ValueError, match="all dead"):
        matching.match_similarity(np.zeros((3, 50)), np.zeros((2, 50)), 0.5)
    for find in (matching.min_epsilon_all, lambda a, b: matching.min_epsilon_for_size(a, b, 2)):
        with pytest.raises(ValueError, match="no epsilon gives a match"):
            find(np.zeros((3, 50)), y)
