"""The geometry on torch tensors: the same numbers as numpy, on the tensors' device, or a clear error."""
import warnings

import numpy as np
import pytest

from nnsrm_utils import cca, rsm, srm
from nnsrm_utils._validate import check_device

torch = pytest.importorskip("torch")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _numpy(x):
    if isinstance(x, (list, tuple)):
        return [_numpy(a) for a in x]
    return x.cpu().numpy() if isinstance(x, torch.Tensor) else x


def _assert_same_kind(got, like):
    """Tensors for tensor input, on its device and in its dtype; Python floats stay floats."""
    if isinstance(got, (list, tuple)):
        for g in got:
            _assert_same_kind(g, like)
    elif isinstance(got, float):
        return
    else:
        assert isinstance(got, torch.Tensor) and got.device == like.device


def _close(got, want, rtol):
    if isinstance(want, (list, tuple)):
        for g, w in zip(got, want):
            _close(g, w, rtol)
    else:  # relative to the largest entry: entries near 0 are judged at the result's scale
        want = np.asarray(want)
        assert np.max(np.abs(np.asarray(_numpy(got)) - want)) <= rtol * max(np.max(np.abs(want)), 1e-300)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((12, 300))
    b = rng.standard_normal((9, 12)) @ a + rng.standard_normal((9, 300))
    layer = [rng.standard_normal((15, 40)) + 1 for _ in range(3)]
    return a, b, layer


# Each case: name, function of (to_array, a, b, layer) returning the result.
CASES = {
    **{f"rsm {s}": (lambda s: lambda t, a, b, xs: rsm.rsm(t(xs[0]), s))(s) for s in rsm.SIMILARITIES},
    **{f"cross_rsm {s}": (lambda s: lambda t, a, b, xs: rsm.cross_rsm(t(xs[0]), t(xs[1]), s))(s)
       for s in rsm.SIMILARITIES},
    "within_rsm": lambda t, a, b, xs: rsm.within_rsm([t(x) for x in xs], "cosine"),
    "inter_rsm": lambda t, a, b, xs: rsm.inter_rsm([t(x) for x in xs]),
    "class_mean_rsm": lambda t, a, b, xs: rsm.class_mean_rsm(t(rsm.rsm(xs[0])), np.array(list("abcd") * 10)),
    "lower_triangle": lambda t, a, b, xs: rsm.lower_triangle(t(rsm.rsm(xs[0]))),
    "compare_rsms lower": lambda t, a, b, xs: rsm.compare_rsms(t(rsm.rsm(xs[0])), t(rsm.rsm(xs[1]))),
    "compare_rsms full": lambda t, a, b, xs: rsm.compare_rsms(t(rsm.rsm(xs[0])), t(rsm.rsm(xs[1])), part="full"),
    "cca": lambda t, a, b, xs: cca.cca(t(a), t(b)),
    "cca rank-deficient": lambda t, a, b, xs: cca.cca(t(np.vstack([a[:4], a[:4]])), t(b)),  # the eigen route
    "svcca": lambda t, a, b, xs: cca.svcca(t(a), t(b)),
    "svcca keep=5": lambda t, a, b, xs: cca.svcca(t(a), t(b), keep=5),
    "pwcca": lambda t, a, b, xs: cca.pwcca(t(a), t(b), return_weights=True),
    **{f"cka {k} debiased={d}": (lambda k, d: lambda t, a, b, xs: cca.cka(t(a), t(b), k, d))(k, d)
       for k in ("linear", "rbf") for d in (False, True)},
    "gram_rbf": lambda t, a, b, xs: cca.gram_rbf(t(a[:, :51]), 0.5),  # an odd count: the median is one value
    "gram_cka": lambda t, a, b, xs: cca.gram_cka(cca.gram_linear(t(a)), cca.gram_rbf(t(b)), debiased=True),
    "procrustes": lambda t, a, b, xs: srm.procrustes(t(a[:, :7])),
}


@pytest.mark.parametrize("name", CASES)
def test_float64_tensors_give_numpys_numbers_on_their_device(name):
    a, b, layer = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # degenerate-regime warnings, alike for both
        want = CASES[name](np.asarray, a, b, layer)
        for device in DEVICES:
            got = CASES[name](lambda x: torch.as_tensor(x, device=device), a, b, layer)
            like = torch.empty(0, device=device)
            _assert_same_kind(got, like)
            assert isinstance(got, float) == isinstance(want, float)
            if isinstance(got, torch.Tensor):
                assert got.dtype == torch.float64
            _close(got, want, 1e-10 if device == "cpu" else 1e-8)


@pytest.mark.parametrize("name", ["rsm pearson", "inter_rsm", "cca", "pwcca", "cka linear debiased=False",
                                  "cka rbf debiased=True", "procrustes"])
def test_float32_tensors_stay_float32_and_close(name):
    """float32 activations: within 1e-4 of float64 numpy (rounding of the float32 inputs and products)."""
    a, b, layer = _data()
    want = CASES[name](np.asarray, a, b, layer)
    for device in DEVICES:
        got = CASES[name](lambda x: torch.as_tensor(np.asarray(x, np.float32), device=device), a, b, layer)
        if isinstance(got, torch.Tensor) and name != "cca":  # canonical correlations come from float64 covariances
            assert got.dtype == torch.float32
        _close(got, want, 1e-4)


@pytest.mark.parametrize("estimator", [srm.DetSRM, srm.SRM])
@pytest.mark.parametrize("units, n_examples", [((15, 18, 20), 100), ((60, 80, 45), 40)],
                         ids=["narrow (products from the stack's Gram matrix)", "wide (fitted on the Gram factor)"])
def test_srm_fits_on_tensors_as_on_numpy(estimator, units, n_examples):
    """``W_i S`` (invariant to how each side orients its factors), the objective or log-likelihood,
    rho2 and the variance explained agree to 1e-10; float32 to 1e-4."""
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((u, n_examples)) + 0.5 for u in units]
    want = estimator(n_features=4, n_iter=5, random_state=2).fit(xs)
    history = "objective_" if estimator is srm.DetSRM else "loglik_"
    for device in DEVICES:
        for dtype, rtol in ((torch.float64, 1e-10 if device == "cpu" else 1e-8), (torch.float32, 1e-4)):
            ts = [torch.as_tensor(x, dtype=dtype, device=device) for x in xs]
            got = estimator(n_features=4, n_iter=5, random_state=2).fit(ts)
            assert all(w.dtype == dtype and w.device == ts[0].device for w in got.w_ + [got.s_] + got.mu_)
            _close([w @ got.s_ for w in got.w_], [w @ want.s_ for w in want.w_], rtol)
            _close(getattr(got, history), getattr(want, history), rtol)
            if estimator is srm.SRM:
                _close(got.rho2_, want.rho2_, rtol)
            ve = srm.variance_explained(got, ts, leave_one_out=True)
            assert isinstance(ve, torch.Tensor) and ve.device == ts[0].device
            _close(ve, srm.variance_explained(want, xs, leave_one_out=True), rtol)
            w_new, mu_new = got.fit_network(ts[0])
            _close(w_new @ got.s_, want.fit_network(xs[0])[0] @ want.s_, rtol)


def test_mixed_numpy_and_torch_are_refused():
    a, b, layer = _data()
    with pytest.raises(TypeError, match="mix torch tensors"):
        cca.cka(torch.as_tensor(a), b)
    with pytest.raises(TypeError, match="mix torch tensors"):
        rsm.inter_rsm([torch.as_tensor(layer[0]), layer[1]])
    model = srm.DetSRM(n_features=3, n_iter=2).fit([torch.as_tensor(x) for x in layer])
    with pytest.raises(TypeError, match="mix torch tensors"):
        model.transform(layer)


def test_tensors_on_different_devices_are_refused():
    x = torch.zeros((5, 10))
    with pytest.raises(ValueError, match="different devices"):
        cca.cca(x, torch.zeros((5, 10), device="meta"))


def test_bad_dtypes_are_refused():
    a, b, layer = _data()
    with pytest.raises(TypeError, match="dtype torch.int64"):
        rsm.rsm(torch.ones((5, 4), dtype=torch.int64))
    with pytest.raises(TypeError, match="float16"):
        cca.cca(torch.as_tensor(a, dtype=torch.float16), torch.as_tensor(b, dtype=torch.float16))
    with pytest.raises(TypeError, match="different dtypes"):
        srm.SRM(n_features=3).fit([torch.as_tensor(layer[0]), torch.as_tensor(layer[1], dtype=torch.float32)])
    with pytest.raises(TypeError, match="needs numpy arrays"):
        r = torch.as_tensor(rsm.rsm(layer[0]))
        rsm.compare_rsms(r, r, method="spearman")


def test_nan_in_a_tensor_is_refused():
    a, b, _ = _data()
    a[3, 7] = np.nan
    for call in (rsm.rsm, lambda t: cca.cca(t, torch.as_tensor(b)), lambda t: srm.procrustes(t.T)):
        with pytest.raises(ValueError, match="NaN"):
            call(torch.as_tensor(a))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_a_cuda_request_without_cuda_is_refused():
    with pytest.raises(ValueError, match="CUDA is not available"):
        check_device("cuda")
    assert check_device("cpu") == torch.device("cpu")


def test_transform_refuses_tensors_of_another_dtype_than_the_fit():
    layer = [torch.as_tensor(x) for x in _data()[2]]
    model = srm.SRM(n_features=3, n_iter=2).fit(layer)
    with pytest.raises(TypeError, match="fitted on torch.float64"):
        model.transform([x.float() for x in layer])


def test_numpy_only_measures_take_cpu_tensors_as_arrays():
    """Shape metrics, matches and calibrated scores are numpy's: a CPU tensor is converted, as
    any array is, and gives the numpy result."""
    from nnsrm_utils import comparison, matching, shape, stats

    a, b, _ = _data()
    t, u = torch.as_tensor(a), torch.as_tensor(b)
    assert shape.shape_distance(t, u) == shape.shape_distance(a, b)
    assert shape.soft_matching_distance(t, u) == shape.soft_matching_distance(a, b)
    assert matching.match_similarity(t, u, 0.5) == matching.match_similarity(a, b, 0.5)
    assert comparison.pairwise([t, u], ["linear CKA"])["linear CKA"].tolist() == \
        comparison.pairwise([a, b], ["linear CKA"])["linear CKA"].tolist()
    assert stats.calibrated("linear CKA", t, u, n_perm=5) == stats.calibrated("linear CKA", a, b, n_perm=5)


@pytest.mark.parametrize("n", [1, 2, 7, 10])
def test_the_median_by_sort_cuda_takes_is_numpys(n):
    from nnsrm_utils._backend import TORCH

    x = np.random.default_rng(n).standard_normal(n)
    assert TORCH.median_by_sort(torch.from_numpy(x)).item() == np.median(x)
    assert TORCH.median(torch.from_numpy(x)).item() == np.median(x)


def test_svd_falls_back_to_gesvd_where_gesdd_fails(monkeypatch):
    """numpy's only SVD driver, gesdd, can fail to converge on harmless input (it did with
    OpenBLAS 0.3.31 on a matrix within 1e-14 of the identity); the package's SVD then uses
    LAPACK's gesvd, for one matrix or a stack, and still refuses input that is not finite."""
    from nnsrm_utils import _backend

    rng = np.random.default_rng(0)
    single, stack = rng.standard_normal((6, 4)), rng.standard_normal((3, 5, 5))
    values = {id(a): np.linalg.svd(a, compute_uv=False) for a in (single, stack)}

    def gesdd_fails(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(np.linalg, "svd", gesdd_fails)
    for a in (single, stack):
        np.testing.assert_allclose(_backend.svd(a, compute_uv=False), values[id(a)], rtol=1e-12)
        for full in (False, True):
            u, s, vt = _backend.NUMPY.linalg.svd(a, full_matrices=full)   # as the geometry calls it
            np.testing.assert_allclose(s, values[id(a)], rtol=1e-12)
            k = s.shape[-1]
            np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vt[..., :k, :], a, atol=1e-12)
            assert u.shape[-1] == (a.shape[-2] if full else k)
    with pytest.raises(np.linalg.LinAlgError):
        _backend.svd(np.full((3, 3), np.nan))
