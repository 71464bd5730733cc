"""Bad input that used to pass silently (a wrong or NaN result, a loop without end) or leak an
internal error, found by feeding the public API what users get wrong: each must now be a
clear ValueError (TypeError for complex numbers), naming what was wrong."""
import numpy as np
import pytest

from nnsrm_utils import analysis, cca, comparison, invariance, matching, rsm, shape, simulation, srm, stats

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((5, 60)), RNG.standard_normal((4, 60))
_latent = RNG.standard_normal((2, 100))
MX = np.vstack([RNG.standard_normal((2, 2)) @ _latent, RNG.standard_normal((3, 100))])
MY = np.vstack([RNG.standard_normal((4, 100)), RNG.standard_normal((2, 2)) @ _latent])
NETS = [RNG.standard_normal((8, 40)) for _ in range(3)]


@pytest.mark.parametrize("call, message", [
    # an index into the other layer was taken as one into Y, or a loop never ended
    (lambda: matching.simple_match(MX, MY, 0.99, 5), "index into X's 5 neurons"),
    (lambda: matching.simple_match(MX, MY, 0.99, -1), "index into X's 5 neurons"),
    (lambda: matching.simple_match(MX, MY, 0.99, 6, side="y"), "index into Y's 6 neurons"),
    (lambda: matching.min_epsilon_for_size(MX, MY, 2, precision=0), "precision"),
    (lambda: matching.min_epsilon_for_size(MX, MY, 2, precision=np.nan), "precision"),
    (lambda: matching.min_epsilon_for_size(MX, MY, 2.5), "size"),
    # thresholds at which everything is nothing, and NaN thresholds
    (lambda: matching.match_similarity(MX, MY, 0.1, tol=np.nan), "tol"),
    (lambda: matching.neuron_sines(MX, MY, tol=2), "tol"),
    (lambda: cca.cca(X, Y, tol=1), "tol"),
    (lambda: cca.pwcca(X, Y, tol=np.nan), "tol"),
    (lambda: cca.svcca(X, Y, tol=np.nan), "tol"),
    (lambda: shape.shape_distance(X, Y, alpha=0, tol=2), "tol"),
    # RBF bandwidths that give NaN kernels; a truthy string taken as debiased=True
    (lambda: cca.gram_rbf(X, 0), "sigma"),
    (lambda: cca.gram_rbf(X, np.nan), "sigma"),
    (lambda: cca.cka(X, Y, "rbf", sigma=-1), "sigma"),
    (lambda: cca.cka(X, Y, debiased="no"), "debiased"),
    # a correlation with a constant RSM is NaN
    (lambda: rsm.compare_rsms(np.ones((6, 6)), rsm.rsm(X[:, :6])), "RSM A is constant"),
    (lambda: rsm.compare_rsms(np.eye(6), np.eye(6)), "constant"),
    # a network that does not vary was placed anywhere (identity maps, a climbing likelihood)
    (lambda: srm.DetSRM(3).fit([NETS[0], np.ones((8, 40))]), "network 1 does not vary"),
    (lambda: srm.SRM(3).fit([NETS[0], np.zeros((8, 40))]), "network 1 does not vary"),
    (lambda: srm.DetSRM(3).fit(NETS).fit_network(np.zeros((8, 40))), "X does not vary"),
    (lambda: srm.init_w([5], 2, dtype=int), "floating dtype"),
    # empty lists, one array for a list, a string for a list of names, orders that are no permutations
    (lambda: comparison.pairwise([]), "holds no networks"),
    (lambda: comparison.distances(X), "got one array"),
    (lambda: comparison.shuffled(X), "got one array"),
    (lambda: comparison.pairwise([X, X], "linear CKA"), "list of measure names"),
    (lambda: comparison.shuffled_similarities(X, X, "linear CKA", [np.zeros(60, int)]), "permutation"),
    (lambda: comparison.shuffled_similarities(X, X, "linear CKA", [np.arange(59)]), "permutation"),
    # NaN, empty and out-of-range input of the helpers
    (lambda: rsm.class_mean_rsm(np.full((4, 4), np.nan), [0, 0, 1, 1]), "NaN"),
    (lambda: srm.procrustes(np.zeros((3, 0))), "at least one column"),
    (lambda: cca.svcca(X, Y, keep=0), "between 1 and"),
    (lambda: stats.calibrated("linear CKA", X, X[::-1], n_perm=5, identical=np.nan),
     "identical must be a finite number"),
    # class means: NaN labels or activity, other widths, an index out of range, no networks
    (lambda: analysis.class_means(X, np.r_[np.nan, np.zeros(59)]), "labels contain NaN"),
    (lambda: analysis.class_means(np.where(X > 2, np.nan, X), np.arange(60) % 3), "NaN"),
    (lambda: analysis.project_class_means([X, X], np.arange(60) % 3, basis_from=5), "basis_from"),
    (lambda: analysis.project_class_means([X, Y], np.arange(60) % 3), "different numbers of units"),
    (lambda: analysis.project_class_means([], np.arange(60) % 3), "at least 1 network"),
    # alignment helpers: an empty list, a negative count, activity and transforms of other sizes
    (lambda: analysis.align_layer([], []), "at least 2 network"),
    (lambda: simulation.network_copies(4, -1), "n_copies"),
    (lambda: simulation.align_copies(X[:, :40], X[:4, 40:], simulation.network_copies(5, 2)), "same units"),
    (lambda: simulation.align_copies(X[:, :40], X[:, 40:], simulation.network_copies(4, 2)), r"\(5, 5\) transforms"),
    (lambda: simulation.align_copies(X[:, :40], X[:, 40:], []), "non-empty"),
])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_complex_activations_are_refused_not_truncated():
    with pytest.raises(TypeError, match="complex"):
        rsm.rsm(X + 1j)
    with pytest.raises(TypeError, match="complex"):
        cca.cca(X + 1j, Y)


def test_the_checks_let_good_input_through():
    """The same calls with sound arguments still work (the checks are not too strict)."""
    assert matching.simple_match(MX, MY, 0.99, 4)[0].size > 0
    assert 0 < matching.min_epsilon_for_size(MX, MY, 2, precision=0.01) <= 1
    assert cca.cka(X, Y, "rbf", sigma=np.float32(0.5)) > 0 and cca.cka(X, Y, debiased=np.True_) < 0.2
    assert cca.cca(X, Y, tol=0).shape == (4,)
    assert comparison.shuffled_similarities(X, X, "linear CKA", [RNG.permutation(60)]).shape == (2,)


@pytest.mark.parametrize("call", [
    lambda: matching.max_match(MX, MY, "0.1"),
    lambda: matching.max_match(MX, MY, True),
    lambda: invariance.transform(np.arange(5.0), "translation"),
    lambda: invariance.transform(np.full((3, 4), np.nan), "orthogonal"),
])
def test_options_and_layers_of_the_wrong_kind(call):
    with pytest.raises(ValueError):
        call()


def test_shape_distances_ignore_scale_over_the_whole_float_range():
    """The distance ignores isotropic scaling, so neither tiny nor huge activations are refused
    or overflow (the norm was taken before scaling: 1e-14 was 'does not vary', 1e154 gave pi/2)."""
    expected = shape.shape_distance(X, Y)
    for scale in (1e-14, 1e-150, 1e154):
        assert shape.shape_distance(scale * X, Y) == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="does not vary"):
        shape.shape_distance(np.full((5, 60), 1e-20) + 1e-40 * (np.arange(60) % 2), Y)
