import numpy as np
import pytest

from nnsrm_utils import stats, transforms


@pytest.mark.parametrize("make", [transforms.random_orthogonal, transforms.qr_uniform_orthogonal, transforms.random_permutation])
def test_transforms_are_orthogonal_and_seeded(make):
    q = make(7, 3)
    np.testing.assert_allclose(q.T @ q, np.eye(7), atol=1e-12)
    np.testing.assert_array_equal(q, make(7, 3))
    assert not np.array_equal(q, make(7, 4))


@pytest.mark.parametrize("make", [transforms.random_orthogonal, transforms.qr_uniform_orthogonal, transforms.random_permutation])
def test_transforms_refuse_a_size_that_is_not_a_count(make):
    for n in (0, 2.0, True):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            make(n, 0)


def test_haar_versus_qr_of_uniform():
    # Under the Haar measure Q[0, 0] has mean 0 and variance 1/n; QR of a positive
    # matrix makes the whole first column share one sign.
    n, draws = 5, 2000
    haar = np.array([transforms.random_orthogonal(n, s)[0, 0] for s in range(draws)])
    authors = np.array([transforms.qr_uniform_orthogonal(n, s)[0, 0] for s in range(draws)])
    assert abs(haar.mean()) < 0.05
    assert haar.var() == pytest.approx(1 / n, rel=0.1)
    assert abs(authors.mean()) > 0.3


def test_permutation_matrix_entries():
    p = transforms.random_permutation(6, 0)
    assert set(np.unique(p)) == {0.0, 1.0}
    np.testing.assert_array_equal(p.sum(0), 1)


def test_bootstrap_ci_covers_mean_and_is_seeded(rng):
    x = rng.normal(1.0, 1.0, size=(40, 3))
    lo, hi = stats.bootstrap_ci(x, random_state=1)
    assert lo.shape == hi.shape == (3,)
    assert np.all(lo < x.mean(0)) and np.all(x.mean(0) < hi)
    lo2, hi2 = stats.bootstrap_ci(x, random_state=1)
    np.testing.assert_array_equal(lo, lo2)
    # width close to the normal-theory 95% interval
    se = x.std(0, ddof=1) / np.sqrt(40)
    np.testing.assert_allclose(hi - lo, 2 * 1.96 * se, rtol=0.2)


def test_permutation_test_detects_and_does_not_invent_effects(rng):
    a, b = rng.normal(1.0, 1.0, 30), rng.normal(0.0, 1.0, 30)
    assert stats.permutation_test(a, b, n_perm=2000)[1] < 0.01
    _, p = stats.permutation_test(rng.normal(size=30), rng.normal(size=30), n_perm=2000)
    assert p > 0.01
    diff = rng.normal(0.5, 1.0, 40)
    obs, p = stats.permutation_test(diff, n_perm=2000, alternative="greater")
    assert obs == pytest.approx(diff.mean()) and p < 0.05
    assert stats.permutation_test(diff, n_perm=2000, alternative="less")[1] > 0.5


def test_stats_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        stats.bootstrap_ci([1.0])
    with pytest.raises(ValueError, match="NaN"):
        stats.bootstrap_ci([1.0, np.nan])
    with pytest.raises(ValueError, match="alternative"):
        stats.permutation_test([1.0, 2.0], alternative="bigger")


def test_resampling_counts_must_be_positive():
    for n_boot in (0, True, 2.5):
        with pytest.raises(ValueError, match="n_boot"):
            stats.bootstrap_ci(np.arange(5.0), n_boot=n_boot)
    with pytest.raises(ValueError, match="n_perm"):
        stats.permutation_test(np.arange(5.0), n_perm=0)
