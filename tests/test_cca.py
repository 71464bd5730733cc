"""CCA, SVCCA, PWCCA and CKA: declared invariances, planted answers, the published formulas."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

from nnsrm_utils.cca import cca, cka, covariances, gram_cka, gram_linear, gram_rbf, pwcca, svcca
from nnsrm_utils.conv import conv_units
from nnsrm_utils.transforms import random_orthogonal

seeds = st.integers(0, 2**32 - 1)


def _invertible(rng, p):
    """A random invertible map with singular values in [0.5, 2].  A map near singularity makes an
    ill-conditioned layer, where CCA's correlations are only good to about eps x cond(C) (1e-7 at
    cond 1e9, where the whitening leaves Cholesky for eigenvectors) and a direction below its
    tolerance (variance 1e-10 of the largest) counts as absent: the properties below are exact
    only for well-conditioned layers."""
    return random_orthogonal(p, rng) @ np.diag(rng.uniform(0.5, 2, p)) @ random_orthogonal(p, rng)


def _layer(rng, units=20, n=300):
    return _invertible(rng, units) @ rng.standard_normal((units, n)) + rng.standard_normal((units, 1))


# ---- CCA -------------------------------------------------------------------------------------

@given(seed=seeds, units=st.integers(1, 15))
def test_cca_is_one_for_an_invertible_map_plus_offset(seed, units):
    rng = np.random.default_rng(seed)
    x = _layer(rng, units, 200)
    y = _invertible(rng, units) @ x + rng.standard_normal((units, 1))
    np.testing.assert_allclose(cca(x, y), 1, atol=1e-7)


@given(seed=seeds)
def test_cca_invariances(seed):
    rng = np.random.default_rng(seed)
    x, y = _layer(rng, 12), _layer(rng, 8)
    ref = cca(x, y)
    assert np.all(np.diff(ref) <= 1e-12) and np.all((ref >= 0) & (ref <= 1)) and len(ref) == 8
    for xt in (random_orthogonal(12, rng) @ x, 7.5 * x, x + 3.0, _invertible(rng, 12) @ x):
        np.testing.assert_allclose(cca(xt, y), ref, atol=1e-8)


def test_cca_agrees_with_the_textbook_formula(rng):
    """rho^2 are the eigenvalues of C_xx^-1 C_xy C_yy^-1 C_yx."""
    x, y = _layer(rng, 6, 500), _layer(rng, 9, 500)
    cxx, cyy, cxy = covariances(x, y)
    ev = np.sort(np.linalg.eigvals(np.linalg.solve(cxx, cxy) @ np.linalg.solve(cyy, cxy.T)).real)[::-1]
    np.testing.assert_allclose(cca(x, y) ** 2, ev, atol=1e-10)


def test_cca_of_independent_layers_is_small(rng):
    assert cca(rng.standard_normal((5, 20000)), rng.standard_normal((5, 20000)))[0] < 0.05


def test_rank_deficient_layers_give_exactly_their_rank(rng):
    """50 units spanning 10 dimensions (plus dead units): 10 correlations of 1, the rest 0.
    google/svcca's get_cca_similarity returns NaN or raises "SVD did not converge" on such
    layers (one duplicated neuron is enough; measured side by side, 2026-12-02)."""
    latent = rng.standard_normal((10, 2000))
    x = rng.standard_normal((50, 10)) @ latent
    x[[3, 17, 40]] = 0.0  # dead ReLUs
    y = rng.standard_normal((60, 10)) @ latent + 1.0
    rho = cca(x, y)
    assert np.all(np.isfinite(rho)) and len(rho) == 50
    np.testing.assert_allclose(rho[:10], 1, atol=1e-6)
    np.testing.assert_allclose(rho[10:], 0, atol=1e-12)
    for value in (svcca(x, y), pwcca(x, y), pwcca(y, x), cka(x, y)):
        assert np.isfinite(value)
    assert svcca(x, y) == pytest.approx(1, abs=1e-6) and pwcca(x, y) == pytest.approx(1, abs=1e-6)


def test_cca_computes_in_blocks_of_examples(rng, monkeypatch):
    from nnsrm_utils import cca as module

    x, y = _layer(rng, 7, 1000), _layer(rng, 5, 1000)
    whole = cca(x, y)
    monkeypatch.setattr(module, "_BLOCK", 37)  # also exercises the Cholesky and eigen paths on the same data
    np.testing.assert_allclose(cca(x, y), whole, atol=1e-12)


def test_cholesky_and_eigen_whitening_agree(rng, monkeypatch):
    """Moderately ill-conditioned layers take the Cholesky path; forcing the eigen path changes nothing."""
    from nnsrm_utils import cca as module

    x = np.diag(np.geomspace(1, 0.1, 12)) @ _layer(rng, 12, 500)
    y = x[:7] + 0.1 * rng.standard_normal((7, 500))
    eigh = np.linalg.eigh
    monkeypatch.setattr(np.linalg, "eigh", lambda c: pytest.fail("took the eigen path"))
    fast = (cca(x, y), pwcca(x, y), pwcca(y, x))
    monkeypatch.setattr(np.linalg, "eigh", eigh)

    class NoCholesky:
        def __getattr__(self, name):
            return (lambda c, **kw: (c, 1)) if name == "dpotrf" else getattr(module.lapack, name)

    monkeypatch.setattr(module, "lapack", NoCholesky())
    np.testing.assert_allclose(cca(x, y), fast[0], atol=1e-9)
    assert (pwcca(x, y), pwcca(y, x)) == pytest.approx(fast[1:], abs=1e-9)


def test_too_few_examples_warn():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((30, 40)), rng.standard_normal((30, 40))
    with pytest.warns(RuntimeWarning, match="too few|by construction"):
        rho = cca(x, y)
    np.testing.assert_allclose(rho[:21], 1, atol=1e-6)  # 30 + 30 - 39 dimensions must coincide
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cca(rng.standard_normal((30, 400)), rng.standard_normal((30, 400)))


@pytest.mark.parametrize("measure", [cca, svcca, pwcca, cka])
def test_bad_input_raises(measure, rng):
    x = rng.standard_normal((5, 50))
    with pytest.raises(ValueError, match="same examples"):
        measure(x, rng.standard_normal((5, 49)))
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="NaN"):
            measure(x, np.where(np.eye(5, 50) > 0, bad, x))
    if measure is cka:
        with pytest.raises(ValueError, match="NaN"):
            cka(np.where(np.eye(5, 50) > 0, np.nan, x), x, kernel="rbf")
    with pytest.raises(ValueError, match="2-D"):
        measure(x, x[0])
    with pytest.raises(ValueError, match="example"):
        measure(x[:, :2], x[:, :2])


def test_constant_layer_raises(rng):
    with pytest.raises(ValueError, match="does not vary"):
        cca(np.ones((4, 30)), rng.standard_normal((3, 30)))


# ---- SVCCA ------------------------------------------------------------------------------------

def test_svcca_keeps_the_stated_variance(rng):
    """With a planted 5-dimensional signal and weak noise, 99% of variance is those 5 directions."""
    latent = rng.standard_normal((5, 3000))
    x = rng.standard_normal((40, 5)) @ latent * 10 + 0.01 * rng.standard_normal((40, 3000))
    y = rng.standard_normal((30, 5)) @ latent * 10 + 0.01 * rng.standard_normal((30, 3000))
    assert svcca(x, y) == pytest.approx(1, abs=1e-3)
    assert np.mean(cca(x, y)) < 0.5  # the noise directions pull plain CCA down
    assert svcca(x, y, keep=5) == pytest.approx(1, abs=1e-3)


def test_svcca_is_not_invariant_to_general_invertible_maps(rng):
    latent = rng.standard_normal((20, 2000))
    x = np.diag(np.geomspace(10, 0.1, 20)) @ latent
    y = x + 0.5 * rng.standard_normal((20, 2000))
    a = np.diag(np.geomspace(0.1, 10, 20))  # invertible, makes every direction of x equally strong
    assert svcca(x, y, keep=5) - svcca(a @ x, y, keep=5) > 0.1
    q = random_orthogonal(20, rng)
    assert svcca(3 * q @ x + 1, y) == pytest.approx(svcca(x, y), abs=1e-9)


def test_svcca_counts_only_directions_with_variance(rng):
    """A rank-10 layer of 64 units with keep=20 averages 10 correlations; dividing by 20 halves
    the score.  Provenance: google/svcca's get_cca_similarity with epsilon=1e-10 (its tutorial's
    setting) drops the directions without variance and averages the rest (measured side by side,
    2026-12-02); its default epsilon=0 keeps them."""
    s = rng.standard_normal((10, 500))
    x = rng.standard_normal((64, 10)) @ s
    y = rng.standard_normal((64, 10)) @ (s + 0.5 * rng.standard_normal((10, 500)))  # rank 10 too
    assert svcca(x, y, keep=20) == pytest.approx(svcca(x, y, keep=10), rel=1e-12)
    assert svcca(x, y, keep=20) > 0.5
    from nnsrm_utils.comparison import pairwise
    assert pairwise([x, y], ["SVCCA"])["SVCCA"][0] == pytest.approx(svcca(x, y), rel=1e-9)


def test_svcca_bad_keep(rng):
    x = rng.standard_normal((5, 50))
    for keep in (0, 1.5, 6, -2, True, "all", None):
        with pytest.raises(ValueError, match="keep"):
            svcca(x, x, keep=keep)


# ---- PWCCA ------------------------------------------------------------------------------------

def _paper_pwcca(x, y):
    """Morcos et al. (2018) written out from the data: canonical variates h_i of x, their
    correlations with y's variates, weights sum_j |<h_i, z_j>| over x's neurons."""
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    qx, rx = np.linalg.qr(xc.T)
    qy, _ = np.linalg.qr(yc.T)
    u, rho, _ = np.linalg.svd(qx.T @ qy)
    h = (qx @ u).T                       # unit-norm canonical variates of x (examples on axis 1)
    alpha = np.abs(h @ xc.T).sum(axis=1)[:len(rho)]
    alpha /= alpha.sum()
    return alpha @ rho


@given(seed=seeds, p1=st.integers(2, 12), p2=st.integers(2, 12))
def test_pwcca_matches_the_papers_formula(seed, p1, p2):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((4, 400))
    x = rng.standard_normal((p1, 4)) @ latent + rng.standard_normal((p1, 400))
    y = rng.standard_normal((p2, 4)) @ latent + rng.standard_normal((p2, 400))
    assert pwcca(x, y) == pytest.approx(_paper_pwcca(x, y), abs=1e-9)  # either layer may be wider


@given(seed=seeds)
def test_pwcca_weights_are_a_distribution(seed):
    rng = np.random.default_rng(seed)
    x, y = _layer(rng, 9), _layer(rng, 6)
    sim, alpha, rho = pwcca(x, y, return_weights=True)
    assert np.all(alpha >= 0) and alpha.sum() == pytest.approx(1)
    assert len(alpha) == len(rho) == 6 and 0 <= sim <= 1


def test_pwcca_is_asymmetric(rng):
    x, y = _layer(rng, 10), _layer(rng, 6)
    assert abs(pwcca(x, y) - pwcca(y, x)) > 1e-3


# ---- CKA --------------------------------------------------------------------------------------

@given(seed=seeds, kernel=st.sampled_from(["linear", "rbf"]), debiased=st.booleans())
def test_cka_is_one_for_scaled_rotation_plus_offset(seed, kernel, debiased):
    rng = np.random.default_rng(seed)
    x = _layer(rng, 8, 100)
    y = 2.5 * random_orthogonal(8, rng) @ x + rng.standard_normal((8, 1))
    assert cka(x, y, kernel, debiased) == pytest.approx(1, abs=1e-9)


@given(seed=seeds, kernel=st.sampled_from(["linear", "rbf"]))
def test_cka_symmetric_bounded_and_not_invariant_to_invertible_maps(seed, kernel):
    rng = np.random.default_rng(seed)
    x, y = _layer(rng, 8, 120), _layer(rng, 5, 120)
    value = cka(x, y, kernel)
    assert 0 <= value <= 1 + 1e-12
    assert value == pytest.approx(cka(y, x, kernel), abs=1e-12)
    a = np.diag(np.geomspace(0.05, 20, 8))
    assert abs(cka(a @ x, x, kernel) - 1) > 1e-3


@given(seed=seeds, debiased=st.booleans())
def test_linear_cka_feature_and_gram_formulas_agree(seed, debiased):
    rng = np.random.default_rng(seed)
    x, y = _layer(rng, 7, 60), _layer(rng, 11, 60)
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    assert cka(x, y, debiased=debiased) == pytest.approx(gram_cka(gram_linear(xc), gram_linear(yc), debiased),
                                                         abs=1e-10)


def test_gram_cka_is_the_centred_alignment(rng):
    """Biased CKA = <HKH, HLH>_F / (||HKH||_F ||HLH||_F), written out with the centring matrix."""
    K, L = gram_rbf(rng.standard_normal((4, 30))), gram_linear(rng.standard_normal((6, 30)))
    h = np.eye(30) - 1 / 30
    kc, lc = h @ K @ h, h @ L @ h
    assert gram_cka(K, L) == pytest.approx(np.sum(kc * lc) / np.linalg.norm(kc) / np.linalg.norm(lc), abs=1e-12)


def test_debiased_cka_removes_the_small_sample_bias(rng):
    """Independent layers with few examples: biased CKA is far from 0, debiased close to it."""
    x, y = rng.standard_normal((200, 50)), rng.standard_normal((200, 50))
    with pytest.warns(RuntimeWarning, match="debiased=True corrects that"):
        assert cka(x, y) > 0.5
    assert abs(cka(x, y, debiased=True)) < 0.05


def test_rbf_kernel_is_kornbliths(rng):
    """Kornblith et al.'s gram_rbf: bandwidth^2 = threshold^2 x the median of all n^2 squared
    distances, the zero diagonal included; threshold 1.0 by default."""
    x = rng.standard_normal((5, 40))
    np.testing.assert_allclose(gram_rbf(10 * x), gram_rbf(x), atol=1e-12)
    d2 = ((x[:, :, None] - x[:, None, :]) ** 2).sum(0)
    med = np.median(d2)  # over all 1,600 entries; the 780 distinct pairs give a larger median
    np.testing.assert_allclose(gram_rbf(x), np.exp(-d2 / (2 * med)), atol=1e-12)
    np.testing.assert_allclose(gram_rbf(x, 0.4), np.exp(-d2 / (2 * 0.16 * med)), atol=1e-12)
    xc, yc = x - x.mean(1, keepdims=True), x[:3] ** 2
    assert cka(x, x[:3] ** 2, kernel="rbf") == pytest.approx(
        gram_cka(gram_rbf(xc), gram_rbf(yc - yc.mean(1, keepdims=True))), abs=1e-12)


def test_cka_bad_kernel_and_gram_shapes(rng):
    x = rng.standard_normal((3, 20))
    with pytest.raises(ValueError, match="kernel"):
        cka(x, x, kernel="poly")
    with pytest.raises(ValueError, match="square"):
        gram_cka(np.eye(3), np.eye(4))


# ---- conv layers ------------------------------------------------------------------------------

def test_conv_units_layouts(rng):
    acts = rng.standard_normal((7, 4, 3, 5))  # examples, channels, height, width
    assert conv_units(acts, "flatten").shape == (60, 7)
    np.testing.assert_allclose(conv_units(acts, "mean"), acts.mean((2, 3)).T)
    pos = conv_units(acts, "positions")
    assert pos.shape == (4, 105)
    np.testing.assert_array_equal(pos[2], acts[:, 2].ravel())
    sub = conv_units(acts, "positions", max_positions=30, random_state=1)
    assert sub.shape == (4, 30)
    np.testing.assert_array_equal(sub, conv_units(acts, "positions", max_positions=30, random_state=1))
    with pytest.raises(ValueError, match="how"):
        conv_units(acts, "pixels")
    with pytest.raises(ValueError, match="height"):
        conv_units(acts[0], "mean")


def test_degenerate_layers_and_kernels_are_refused(rng):
    from nnsrm_utils.comparison import pairwise

    x, constant = _layer(rng, 5, 50), np.full((5, 50), 3.3)  # a mean of 3.3s is off by 2 ulps
    for kwargs in ({}, {"debiased": True}, {"kernel": "rbf"}):
        with pytest.raises(ValueError, match="does not vary"):
            cka(x, constant, **kwargs)
    for measure in (cca, svcca, pwcca):
        with pytest.raises(ValueError, match="does not vary"):
            measure(x, constant)
    for layer in (constant, np.zeros((5, 50))):
        with pytest.raises(ValueError, match="does not vary.*no similarity is defined"):
            pairwise([x, layer], ["linear CKA"])
    k = gram_linear(x - x.mean(1, keepdims=True))
    with pytest.raises(ValueError, match="NaN"):
        gram_cka(k, np.full_like(k, np.nan))
    with pytest.raises(ValueError, match="constant"):
        gram_cka(k, np.ones_like(k))


def test_kornbliths_published_example_and_its_transpose():
    """Kornblith et al.'s notebook: np.random.seed(1337); X = randn(100, 10); Y = randn(100, 10) + X
    (rows are examples) gives linear CKA 0.557613.  Passed untransposed, the layers look like 10
    examples of 100 units: CKA is then 0.96, and the package says why it may be wrong."""
    np.random.seed(1337)
    x = np.random.randn(100, 10)
    y = np.random.randn(100, 10) + x
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cka(x.T, y.T) == pytest.approx(0.557613, abs=5e-7)
    with pytest.warns(RuntimeWarning, match=r"from 10 examples.*unrelated layers.*pass the transpose"):
        assert cka(x, y) > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cka(x, y, debiased=True)  # the remedy for wide layers: no warning
        rng = np.random.default_rng(0)  # a wide layer of low effective dimensionality is sound: no warning
        wide = [rng.standard_normal((3000, 16)) @ rng.standard_normal((16, 1000)) for _ in range(2)]
        assert cka(*wide) < 0.1
