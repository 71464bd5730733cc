import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import planted_layer
from nnsrm_utils import srm
from nnsrm_utils.rsm import inter_rsm, within_rsm
from reference_srm import det_srm as reference_det_srm, prob_srm as reference_prob_srm

ESTIMATORS = [srm.DetSRM, srm.SRM]


def _centred(xs):
    return [x - x.mean(1, keepdims=True) for x in xs]


def test_det_srm_conforms_to_reference(rng):
    xs, _ = planted_layer(rng, noise=0.5)
    model = srm.DetSRM(n_features=4, n_iter=7, random_state=3).fit(xs)
    # without BrainIAK's 0.001 I perturbation (a deliberate difference)
    for got, want in zip(model.w_, reference_det_srm(_centred(xs), 4, 7, seed=3, perturbation=0)):
        np.testing.assert_allclose(got, want, atol=1e-8)


def test_prob_srm_conforms_to_reference_on_centred_data(rng):
    # On centred data BrainIAK's uncentred ||X||^2 equals ours, so every update must agree.
    xs = _centred(planted_layer(rng, noise=0.5)[0])
    model = srm.SRM(n_features=4, n_iter=7, random_state=3).fit(xs)
    w_ref, rho2_ref = reference_prob_srm(xs, 4, 7, seed=3, perturbation=0)
    for got, want in zip(model.w_, w_ref):
        np.testing.assert_allclose(got, want, atol=1e-8)
    np.testing.assert_allclose(model.rho2_, rho2_ref, rtol=1e-8)


@pytest.mark.parametrize("units, examples", [(8, 100), (30, 20)])  # narrow, and wide (not reduced)
def test_brainiak_mode_runs_brainiaks_updates(units, examples, rng):
    # offsets make the uncentred ||X||^2 matter; without either quirk W or rho2 would differ
    xs = [rng.standard_normal((units, 3)) @ rng.standard_normal((3, examples)) + 2
          + 0.3 * rng.standard_normal((units, examples)) for _ in range(4)]
    model = srm.SRM(n_features=3, n_iter=7, random_state=3, brainiak=True).fit(xs)
    w_ref, rho2_ref = reference_prob_srm(xs, 3, 7, seed=3)
    for got, want in zip(model.w_, w_ref):
        np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(model.rho2_, rho2_ref, rtol=1e-10)
    exact = srm.SRM(n_features=3, n_iter=7, random_state=3).fit(xs)
    assert max(np.abs(a - b).max() for a, b in zip(exact.w_, w_ref)) > 1e-3


def test_what_separates_us_from_brainiak_as_the_docstring_says(rng):
    xs, _ = planted_layer(rng, noise=0.5, offset=2.0)  # unit means about 2, as ReLU layers have
    # 1. its noise update from the uncentred ||X_i||^2 inflates rho_i^2
    ours = srm.SRM(n_features=4, n_iter=7, random_state=3).fit(xs)
    assert np.all(reference_prob_srm(xs, 4, 7, seed=3, perturbation=0)[1] > 3 * ours.rho2_)
    # 2. its DetSRM does not centre: on data with offsets its W are far from ours
    det = srm.DetSRM(n_features=4, n_iter=7, random_state=3).fit(xs)
    uncentred = reference_det_srm(xs, 4, 7, seed=3, perturbation=0)
    assert max(np.abs(a - b).max() for a, b in zip(det.w_, uncentred)) > 0.1
    # 3. on centred data its 0.001 I perturbation is the only difference left, about 1e-5
    xc = _centred(xs)
    fit = srm.SRM(n_features=4, n_iter=7, random_state=3).fit(xc)
    gap = max(np.abs(a - b).max() for a, b in zip(fit.w_, reference_prob_srm(xc, 4, 7, seed=3)[0]))
    assert 1e-7 < gap < 1e-3


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_wide_networks_are_fitted_exactly_on_the_gram_factor(estimator, rng):
    # more units than examples (like a 7,200-unit pool layer): the reduced fit must equal the direct one
    xs, _ = planted_layer(rng, units=(90, 120, 60), k=5, n_examples=50, noise=0.5)
    reduced = estimator(n_features=5, n_iter=6, random_state=1).fit(xs)
    direct_model = estimator(n_features=5, n_iter=6, random_state=1)
    direct_model._reduce_wide = False
    direct = direct_model.fit(xs)
    for a, b in zip(reduced.w_, direct.w_):
        np.testing.assert_allclose(a, b, atol=1e-8)
    np.testing.assert_allclose(reduced.s_, direct.s_, atol=1e-8)
    if estimator is srm.SRM:
        np.testing.assert_allclose(reduced.loglik_, direct.loglik_, rtol=1e-10)
        np.testing.assert_allclose(reduced.rho2_, direct.rho2_, rtol=1e-8)
    ref = (reference_det_srm(_centred(xs), 5, 6, seed=1, perturbation=0) if estimator is srm.DetSRM
           else reference_prob_srm(_centred(xs), 5, 6, seed=1, perturbation=0)[0])
    for a, b in zip(reduced.w_, ref):
        np.testing.assert_allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_gram_route_equals_the_direct_products(estimator, rng):
    # X_i S^T from the stack's Gram matrix (taken at this size) must equal the direct products
    xs, _ = planted_layer(rng, units=(12, 10, 15), k=4, n_examples=80, noise=0.5)
    stack = srm._Stack(np.concatenate(_centred(xs)), np.array([0, 12, 22, 37]), k=4, n_iter=7)
    assert stack.gram is not None
    fits = []
    for gram in (True, False):
        model = estimator(n_features=4, n_iter=7, random_state=2)
        model._gram_products = gram
        fits.append(model.fit(xs))
    for a, b in zip(fits[0].w_, fits[1].w_):
        np.testing.assert_allclose(a, b, atol=1e-10)
    np.testing.assert_allclose(fits[0].s_, fits[1].s_, atol=1e-10)
    history = "objective_" if estimator is srm.DetSRM else "loglik_"
    np.testing.assert_allclose(getattr(fits[0], history), getattr(fits[1], history), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cond", [1e1, 1e5])
def test_procrustes_is_the_polar_factor(dtype, cond, rng):
    # cond 1e5 squares to 1e10 in the Gram matrix: the Newton-Schulz step must restore W^T W = I
    u, _ = np.linalg.qr(rng.standard_normal((60, 20)))
    v, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    a = ((u * np.geomspace(1, 1 / cond, 20)) @ v.T).astype(dtype)
    w = srm.procrustes(a)
    assert w.dtype == dtype
    left, sv, right = np.linalg.svd(a.astype(np.float64), full_matrices=False)  # the same (rounded) input
    tol = 100 * np.finfo(dtype).eps
    np.testing.assert_allclose(w.T.astype(np.float64) @ w, np.eye(20), atol=tol)
    # the maximum of trace(W^T A) is the sum of singular values, reached to rounding ...
    np.testing.assert_allclose(np.sum(w * a, dtype=np.float64), sv.sum(), rtol=tol)
    # ... and W is the polar factor up to eps * cond^2 along the tiny singular directions (see the docstring)
    np.testing.assert_allclose(w, left @ right, atol=tol + np.finfo(np.float64).eps * cond**2)


def test_procrustes_of_a_rank_deficient_matrix_is_orthonormal(rng):
    a = rng.standard_normal((30, 3)) @ rng.standard_normal((3, 8))  # rank 3 < 8: not unique
    w = srm.procrustes(a)
    np.testing.assert_allclose(w.T @ w, np.eye(8), atol=1e-12)
    np.testing.assert_allclose(np.sum(w * a), np.linalg.svd(a, compute_uv=False).sum(), rtol=1e-12)


def test_posterior_is_bayes_rule_even_for_a_singular_shared_covariance(rng):
    # In Sigma_s's eigenbasis the posterior covariance is l / (1 + rho0 l) and
    # log det Sigma_s - log det P = sum log(1 + rho0 l): also when some l = 0 (where inverting
    # Sigma_s, as the update is usually written, fails).
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    lam = np.array([3.0, 2.0, 1.0, 0.5, 1e-3, 0.0])
    rho2 = np.array([0.5, 2.0, 4.0])
    rho0 = np.sum(1 / rho2)
    post_cov, logdet_ratio = srm.SRM._posterior((q * lam) @ q.T, rho2)
    np.testing.assert_allclose(post_cov, (q * (lam / (1 + rho0 * lam))) @ q.T, atol=1e-14)
    np.testing.assert_allclose(logdet_ratio, np.sum(np.log1p(rho0 * lam)), rtol=1e-12)


def test_prob_srm_against_brainiak_itself(rng):
    bsrm = pytest.importorskip("brainiak.funcalign.srm")
    xs = _centred(planted_layer(rng, noise=0.5)[0])
    ours = srm.SRM(n_features=4, n_iter=5, random_state=0).fit(xs)
    theirs = bsrm.SRM(n_iter=5, features=4, rand_seed=0).fit(xs)
    # BrainIAK adds 0.001 I to X_i S^T before each SVD; that alone moves W by ~1e-5 here.
    for got, want in zip(ours.w_, theirs.w_):
        np.testing.assert_allclose(got, want, atol=1e-4)
    # brainiak=True runs its updates as written, on data with offsets too
    raw = [x + 2 for x in xs]
    ours = srm.SRM(n_features=4, n_iter=5, random_state=0, brainiak=True).fit(raw)
    theirs = bsrm.SRM(n_iter=5, features=4, rand_seed=0).fit(raw)
    for got, want in zip(ours.w_, theirs.w_):
        np.testing.assert_allclose(got, want, atol=1e-8)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_recovers_planted_orthogonal_transforms(estimator, rng):
    xs, maps = planted_layer(rng, units=(12, 10, 15, 9), k=4)
    model = estimator(n_features=4, n_iter=30).fit(xs)
    for w, (w_true, _) in zip(model.w_, maps):
        np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-10)
        np.testing.assert_allclose(w @ w.T @ w_true, w_true, atol=1e-6)  # same column space
    # held-out examples: the shared-space iRSM equals the wRSM of the networks,
    # centred by the same unit means as the shared space
    test, _ = planted_layer(rng, maps=maps)
    centred = [x - mu[:, None] for x, mu in zip(test, model.mu_)]
    shared = model.transform(test)
    for similarity in ("gram", "cosine"):
        np.testing.assert_allclose(inter_rsm(shared, similarity), within_rsm(centred, similarity), atol=1e-6)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@given(seed=st.integers(0, 2**32 - 1))
def test_objective_is_monotone(estimator, seed):
    rng = np.random.default_rng(seed)
    xs, _ = planted_layer(rng, units=(8, 6, 7), k=3, n_examples=60, noise=0.7)
    model = estimator(n_features=3, n_iter=15, random_state=seed).fit(xs)
    if estimator is srm.DetSRM:
        steps = np.diff(model.objective_)
        assert np.all(steps <= 1e-10 * abs(model.objective_[0]))
    else:
        steps = np.diff(model.loglik_)
        assert np.all(steps >= -1e-9 * abs(model.loglik_[0]))


@pytest.mark.parametrize("n_iter", [1, 4])
@pytest.mark.parametrize("units", [(12, 10, 15), (90, 120, 60)])  # the second: wide networks, fitted reduced
def test_objective_is_that_of_the_returned_w_and_s(rng, n_iter, units):
    xs, _ = planted_layer(rng, units=units, k=4, n_examples=50, noise=0.5)
    model = srm.DetSRM(n_features=4, n_iter=n_iter).fit(xs)
    direct = 0.5 / 50 * sum(np.sum((x - mu[:, None] - w @ model.s_) ** 2) for x, w, mu in zip(xs, model.w_, model.mu_))
    np.testing.assert_allclose(model.objective_[-1], direct, rtol=1e-10)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_tolerance_stops_early_and_is_seeded(estimator, rng):
    xs, _ = planted_layer(rng, noise=0.3)
    model = estimator(n_features=4, n_iter=500, tol=1e-9).fit(xs)
    assert 1 < model.n_iter_ < 500
    again = estimator(n_features=4, n_iter=500, tol=1e-9).fit(xs)
    np.testing.assert_array_equal(model.w_[0], again.w_[0])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_transform_subtracts_unit_means(estimator, rng):
    xs, _ = planted_layer(rng, offset=50.0)
    model = estimator(n_features=4, n_iter=20).fit(xs)
    shared = model.transform(xs)
    np.testing.assert_allclose(shared[0], model.s_, atol=1e-6)
    np.testing.assert_allclose(np.mean(shared[1], axis=1), 0, atol=1e-8)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_fit_network_maps_a_new_network(estimator, rng):
    xs, _ = planted_layer(rng, units=(12, 10, 15, 9), k=4)
    model = estimator(n_features=4, n_iter=30).fit(xs[:3])
    w, mu = model.fit_network(xs[3])
    np.testing.assert_allclose(w.T @ (xs[3] - mu[:, None]), model.s_, atol=1e-6)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_float32_input_stays_float32_and_agrees(estimator, rng):
    xs, _ = planted_layer(rng, noise=0.3)
    m64 = estimator(n_features=4, n_iter=10).fit(xs)
    m32 = estimator(n_features=4, n_iter=10).fit([x.astype(np.float32) for x in xs])
    assert m32.w_[0].dtype == np.float32
    np.testing.assert_allclose(m32.w_[0], m64.w_[0], atol=1e-4)


def test_variance_explained_authors_and_leave_one_out(rng):
    xs, maps = planted_layer(rng, k=4, noise=0.2)
    model = srm.SRM(n_features=4, n_iter=20).fit(xs)
    clean, _ = planted_layer(rng, maps=maps)
    # exact planted maps and means: everything is explained (up to the fitted means)
    assert np.all(srm.variance_explained(model, clean) > 0.99)
    noisy, _ = planted_layer(rng, maps=maps, noise=1.0)
    ve, loo = srm.variance_explained(model, noisy), srm.variance_explained(model, noisy, leave_one_out=True)
    assert np.all((0 < loo) & (loo < ve) & (ve < 1))  # including network i flatters the score


def test_square_w_makes_authors_ve_trivial_with_one_network_weighted(rng):
    # k = n_units: each W_i is square, so W_i W_i^T = I and the authors' score only
    # measures how much the other networks disagree.
    xs = [rng.standard_normal((5, 100)) for _ in range(3)]
    model = srm.SRM(n_features=5, n_iter=5).fit(xs)
    for w in model.w_:
        np.testing.assert_allclose(w @ w.T, np.eye(5), atol=1e-10)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_bad_input_raises(estimator, rng):
    xs = [rng.standard_normal((6, 20)) for _ in range(3)]
    cases = [
        ([xs[0]], {}, "at least 2 network"),
        (xs, {"n_features": 7}, "exceeds the number of units"),
        ([rng.standard_normal((30, 5))] * 2, {"n_features": 6}, "too few examples"),
        ([xs[0], xs[1][:, :10]], {}, "number of examples"),
        ([xs[0], np.full((6, 20), np.nan)], {}, "NaN"),
        (xs, {"n_features": 0}, "positive integer"),
        (xs, {"n_features": True}, "n_features must be a positive integer"),
        (xs, {"n_iter": 0}, "n_iter must be a positive integer"),
        (xs, {"tol": -1.0}, "tol"),
    ]
    for data, params, message in cases:
        with pytest.raises(ValueError, match=message):
            estimator(**{"n_features": 3, **params}).fit(data)
    with pytest.raises(ValueError, match="not fitted"):
        estimator(n_features=3).transform(xs)
    with pytest.raises(ValueError, match="at least n_features=3 units"):
        srm.init_w([2, 5], 3)
    with pytest.raises(ValueError, match="positive integer"):
        srm.init_w([2, 5], 0)
    model = estimator(n_features=3).fit(xs)
    with pytest.raises(ValueError, match="expected 3 networks"):
        model.transform(xs[:2])
    with pytest.raises(ValueError, match="units"):
        model.transform([xs[0][:5], xs[1], xs[2]])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_scikit_learn_estimator_contract(estimator, rng):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    model = estimator(n_features=3, n_iter=5, random_state=7)
    extra = {"brainiak": False} if estimator is srm.SRM else {}
    assert model.get_params() == {"n_features": 3, "n_iter": 5, "tol": None, "random_state": 7, **extra}
    assert repr(model) == f"{estimator.__name__}(n_features=3, n_iter=5, random_state=7)"
    with pytest.raises(NotFittedError):
        model.fit_network(rng.standard_normal((5, 40)))
    xs, _ = planted_layer(rng, k=3, n_examples=40, noise=0.3)
    fitted = model.fit(xs)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "w_")
    np.testing.assert_array_equal(copy.fit(xs).w_[1], fitted.w_[1])
    assert model.set_params(n_iter=2) is model and model.fit(xs).n_iter_ == 2
    model.set_params(n_features=50)  # not refitted: a new network is still mapped into the fitted space
    assert model.fit_network(xs[0])[0].shape == (len(xs[0]), 3)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_transform_subject_is_brainiaks_name_for_fit_network(estimator, rng):
    xs, _ = planted_layer(rng, k=3, n_examples=40, noise=0.3)
    model = estimator(n_features=3).fit(xs[:2])
    np.testing.assert_array_equal(model.transform_subject(xs[2]), model.fit_network(xs[2])[0])


def test_degenerate_input_to_procrustes_and_variance_explained(rng):
    a = rng.integers(-5, 5, (6, 3))
    w = srm.procrustes(a)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(w, srm.procrustes(a.astype(float)))
    with pytest.raises(ValueError, match="NaN"):
        srm.procrustes(np.full((4, 2), np.nan))
    xs, _ = planted_layer(rng, k=3, n_examples=40, noise=0.3)
    model = srm.DetSRM(n_features=3).fit(xs)
    flat = [np.repeat(mu[:, None], 5, axis=1) for mu in model.mu_]
    with pytest.raises(ValueError, match=r"Xs\[0\] equals the unit means"):
        srm.variance_explained(model, flat)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_transform_without_centring_keeps_each_networks_mean_response(estimator, rng):
    xs, _ = planted_layer(rng, offset=50.0)
    model = estimator(n_features=4, n_iter=20).fit(xs)
    for centred, kept, w, mu in zip(model.transform(xs), model.transform(xs, centre=False), model.w_, model.mu_):
        np.testing.assert_allclose(kept, centred + (w.T @ mu)[:, None], rtol=1e-10, atol=1e-8)
