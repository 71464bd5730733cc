"""Scores read against their permutation null (stats.calibrated)."""
import numpy as np
import pytest

from nnsrm_utils import cca, shape, stats


def _layers(n, p=50, shared=0.0, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((p, n))
    return z, shared * z + rng.standard_normal((p, n))


def test_unrelated_wide_layers_score_high_raw_but_zero_calibrated():
    """Linear CKA of unrelated layers with units near the number of examples is far above 0
    (the bias Murphy et al. 2024 warn of); against its null it is at chance."""
    X, Y = _layers(60)
    with pytest.warns(RuntimeWarning, match="biased linear CKA"):  # the package says so too
        result = stats.calibrated(cca.cka, X, Y, n_perm=200)
    assert result["score"] > 0.4 and abs(result["calibrated"]) < 0.1 and result["p_value"] > 0.05
    assert abs(cca.cka(X, Y, debiased=True)) < 0.1  # the debiased estimator removes most of it


def test_related_layers_are_significant_for_a_distance_too():
    X, Y = _layers(200, p=10, shared=1.0)
    result = stats.calibrated(shape.shape_distance, X, Y, n_perm=99, identical=0.0)
    assert result["p_value"] == pytest.approx(0.01) and 0.2 < result["calibrated"] < 1
    assert result["score"] < result["null_mean"] - 3 * result["null_sd"]


def test_reproducible_by_seed():
    X, Y = _layers(80, p=5, shared=0.3)
    assert stats.calibrated(cca.cka, X, Y, 20, random_state=3) == stats.calibrated(cca.cka, X, Y, 20, random_state=3)


@pytest.mark.parametrize("args, message", [
    ((np.ones((3, 4)), np.ones((3, 4)), 100), "too few orderings"),
    ((np.zeros((3, 40)), np.zeros((3, 50)), 10), "same examples"),
    ((np.full((3, 40), np.nan), np.zeros((3, 40)), 10), "NaN"),
    ((np.zeros((3, 40)), np.zeros((3, 40)), 0), "n_perm"),
])
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.calibrated(lambda x, y: 0.5, *args)


def test_a_null_at_identity_is_refused():
    X, Y = _layers(40, p=3)
    with pytest.raises(ValueError, match="nothing to calibrate"):
        stats.calibrated(lambda x, y: 1.0, X, Y, 10)


@pytest.mark.parametrize("name, measure", [("PWCCA", cca.pwcca), ("SVCCA", cca.svcca), ("linear CKA", cca.cka),
                                           ("mean CCA", lambda X, Y: float(np.mean(cca.cca(X, Y)))),
                                           ("RBF CKA", lambda X, Y: cca.cka(X, Y, kernel="rbf"))])
def test_a_named_measure_gives_what_its_function_gives(name, measure):
    """The fast path (each layer prepared once) draws the same shuffles as the callable path."""
    X, Y = _layers(120, p=8, shared=0.5, seed=2)
    fast, slow = stats.calibrated(name, X, Y, 30), stats.calibrated(measure, X, Y, 30)
    assert fast == pytest.approx(slow, rel=1e-9, abs=1e-12)


def test_an_unknown_named_measure_is_refused():
    X, Y = _layers(40, p=3)
    with pytest.raises(ValueError, match="unknown measure"):
        stats.calibrated("Procrustes", X, Y, 10)
