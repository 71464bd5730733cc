"""The autograder: the book's reference solutions pass every check, typical wrong answers fail
with a message that names the input, the expectation and the result, and never the solution."""
import sys

import nbformat
import numpy as np
import pytest
from scipy.linalg import lstsq, orthogonal_procrustes
from scipy.stats import ortho_group

from nnsrm_utils import cca, editions, exercises, matching, rsm, shape, srm, transforms


def _solutions():
    """Every solution cell of the chapters, executed: name -> function."""
    namespace = {}
    for path in editions.chapters():
        for cell in nbformat.read(path, as_version=4).cells:
            if editions.SOLUTION_TAG in cell.metadata.get("tags", []):
                exec(cell.source, namespace)
    return namespace


SOLUTIONS = _solutions()
CHECKS = {  # check -> the name of the function the chapter's solution defines
    "check_pearson_rsm": "pearson_rsm",
    "check_random_orthogonal": "haar_orthogonal",
    "check_procrustes": "procrustes_step",
    "check_compare_rsms": "compare_lower",
    "check_loo_variance_explained": "loo_variance_explained",
    "check_inter_rsm": "inter_rsm",
    "check_linear_cka": "linear_cka",
    "check_max_match": "max_match",
    "check_procrustes_distance": "procrustes_distance",
}


def test_every_check_has_a_solution_in_the_book():
    assert set(CHECKS) == {n for n in dir(exercises) if n.startswith("check_")}
    assert set(CHECKS.values()) <= set(SOLUTIONS)


@pytest.mark.parametrize("check", CHECKS)
def test_reference_solution_passes(check, capsys):
    getattr(exercises, check)(SOLUTIONS[CHECKS[check]])
    assert "passed" in capsys.readouterr().out


def _cosine_rsm(X):
    Z = X / np.linalg.norm(X, axis=0)
    return Z.T @ Z


def _single_pass_match(X, Y, eps):
    """One round of removals, not repeated until nothing changes."""
    def kept(rows, group):
        residual = rows - rows @ np.linalg.pinv(group) @ group
        return [i for i, (r, v) in enumerate(zip(residual, rows))
                if np.linalg.norm(v) > 0 and np.linalg.norm(r) <= eps * np.linalg.norm(v)]

    ix = kept(X, Y)
    return ix, kept(Y, X[ix])


def _ve(ws, mus, xs, leave_one_out=True, centre=True):
    """Variance explained computed with one of two typical slips."""
    rs = [x - mu[:, None] * centre for x, mu in zip(xs, mus)]
    shared = [w.T @ r for w, r in zip(ws, rs)]
    n = len(rs)
    means = [(sum(shared) - z) / (n - 1) if leave_one_out else sum(shared) / n for z in shared]
    return np.array([1 - np.sum((r - w @ m) ** 2) / np.sum(r ** 2) for w, r, m in zip(ws, rs, means)])


def _columns(x):
    z = x - x.mean(axis=0)
    return z / np.linalg.norm(z, axis=0)


def _angle(X, Y, centre=True, rotate=True):
    """Procrustes angle, or its typical mistakes."""
    if centre:
        X, Y = X - X.mean(axis=1, keepdims=True), Y - Y.mean(axis=1, keepdims=True)
    X, Y = X / np.linalg.norm(X), Y / np.linalg.norm(Y)
    if rotate:
        cosine = np.linalg.svd(X @ Y.T, compute_uv=False).sum()
    else:
        cosine = np.sum(X[:min(len(X), len(Y))] * Y[:min(len(X), len(Y))])
    return float(np.arccos(np.clip(cosine, -1, 1)))


WRONG = [
    ("check_pearson_rsm", lambda X: _cosine_rsm(X.T - X.T.mean(axis=0)), "shape"),  # units, not examples
    ("check_pearson_rsm", _cosine_rsm, "correlations"),                  # cosine: not centred
    ("check_pearson_rsm", lambda X: np.cov(X, rowvar=False), "correlations"),     # covariance
    ("check_random_orthogonal", lambda n, rng: np.linalg.qr(rng.standard_normal((n, n)))[0], "determinants"),
    ("check_random_orthogonal", lambda n, rng: rng.standard_normal((n, n)) / np.sqrt(n), "Q^T Q = I"),
    ("check_random_orthogonal",  # QR with only the first column's sign randomised: other columns keep a sign
     lambda n, rng: np.linalg.qr(rng.standard_normal((n, n)))[0] * np.r_[rng.choice([-1, 1]), np.ones(n - 1)],
     "has mean"),
    ("check_random_orthogonal",  # signed permutations: orthogonal, both determinants, mean 0, variance 1/n
     lambda n, rng: np.eye(n)[rng.permutation(n)] * rng.choice([-1, 1], n), "fourth moment"),
    ("check_random_orthogonal",  # signs fixed, determinant then forced to +1: rotations only
     lambda n, rng: (lambda q: q * np.where(np.linalg.det(q) < 0, np.r_[-1, np.ones(n - 1)], 1))(
         SOLUTIONS["haar_orthogonal"](n, rng)), "determinants"),
    ("check_procrustes", lambda X, S: np.linalg.lstsq(S.T, X.T, rcond=None)[0].T, "W^T W = I"),
    ("check_procrustes", lambda X, S: np.linalg.svd(X @ S.T, full_matrices=False)[0], "||X - W S||"),  # U without V^T
    ("check_compare_rsms", lambda A, B: np.corrcoef(A.ravel(), B.ravel())[0, 1], "correlation"),  # diagonal included
    ("check_compare_rsms", lambda A, B: np.corrcoef(A[np.tril_indices(len(A), -1)], B[np.tril_indices(len(A), -1)]),
     "one number"),
    ("check_compare_rsms", lambda A, B: np.corrcoef(A[np.triu_indices(len(A), 1)], B[np.triu_indices(len(A), 1)])[0, 1],
     "not symmetric"),                                                              # the upper triangle
    ("check_compare_rsms", lambda A, B: np.corrcoef(A[~np.eye(len(A), dtype=bool)], B[~np.eye(len(A), dtype=bool)])[0, 1],
     "not symmetric"),                                                              # both halves off the diagonal
    ("check_loo_variance_explained", lambda ws, mus, xs: _ve(ws, mus, xs, leave_one_out=False), "variance"),
    ("check_loo_variance_explained", lambda ws, mus, xs: _ve(ws, mus, xs, centre=False), "variance"),
    ("check_loo_variance_explained", lambda ws, mus, xs: _ve(ws, mus, xs).mean(), "shape"),
    ("check_inter_rsm", lambda xs: np.mean([_columns(x).T @ _columns(np.mean(xs, axis=0)) for x in xs], axis=0),
     "correlations"),                                                               # the network itself included
    ("check_inter_rsm", lambda xs: (lambda r: (r + r.T) / 2)(SOLUTIONS["inter_rsm"](xs)), "correlations"),
    ("check_inter_rsm", lambda xs: np.mean([_columns(x).T @ _columns(x) for x in xs], axis=0), "correlations"),
    ("check_linear_cka", lambda X, Y: np.linalg.norm(Y @ X.T) ** 2 / (np.linalg.norm(X @ X.T) * np.linalg.norm(Y @ Y.T)),
     "CKA"),                                                                         # not centred
    ("check_linear_cka", lambda X, Y: np.linalg.norm(Y @ X.T) / np.sqrt(np.linalg.norm(X @ X.T) * np.linalg.norm(Y @ Y.T)),
     "CKA"),
    ("check_max_match", _single_pass_match, "X neurons"),
    ("check_max_match", lambda X, Y, eps: (list(range(len(X))), list(range(len(Y)))), "X neurons"),
    ("check_procrustes_distance", lambda X, Y: _angle(X, Y, centre=False), "angle"),
    ("check_procrustes_distance", lambda X, Y: _angle(X, Y, rotate=False), "angle"),   # no orthogonal map
    ("check_procrustes_distance", lambda X, Y: np.cos(_angle(X, Y)), "angle"),         # the cosine, not the angle
    ("check_procrustes_distance", lambda X, Y: 2 * np.sin(_angle(X, Y) / 2), "angle"),  # the Euclidean form
]


@pytest.mark.parametrize("check, wrong, expected_in_message", WRONG, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(WRONG)])
def test_wrong_answer_fails_informatively(check, wrong, expected_in_message):
    with pytest.raises(exercises.CheckFailed) as failure:
        getattr(exercises, check)(wrong)
    message = str(failure.value)
    assert message.startswith(f"{check}: on ") and "expected" in message and "; got" in message
    assert expected_in_message in message
    for leak in ("svd", "tril", "lstsq", "np.", "def "):
        assert leak not in message


def test_a_crash_is_reported_as_a_failed_case():
    with pytest.raises(exercises.CheckFailed, match="ZeroDivisionError"):
        exercises.check_linear_cka(lambda X, Y: 1 / 0)


def test_a_stub_is_not_graded():
    def stub(X):
        raise NotImplementedError("Exercise: write this function")

    with pytest.raises(NotImplementedError):
        exercises.check_pearson_rsm(stub)


def _chapter_helper(notebook, name):
    """A function the chapter's lesson defines, as a student's notebook would hold it."""
    namespace = {"np": np}
    for cell in nbformat.read(editions.ROOT / "notebooks" / notebook, as_version=4).cells:
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            exec(cell.source, namespace)
            return namespace[name]
    raise LookupError(name)


def _aliased(fn):
    """The package's function reached through an alias and a wrapper, as a student might hide it."""
    alias = fn
    return lambda *args: alias(*args)


def _scipy_angle(X, Y):
    X, Y = X - X.mean(axis=1, keepdims=True), Y - Y.mean(axis=1, keepdims=True)
    X, Y = X / np.linalg.norm(X), Y / np.linalg.norm(Y)
    if len(Y) < len(X):
        Y = np.vstack([Y, np.zeros((len(X) - len(Y), Y.shape[1]))])
    R, _ = orthogonal_procrustes(Y.T, X.T)
    return float(np.arccos(np.clip(np.sum(X * (R.T @ Y)), -1, 1)))


CHEATS = [  # (check, the student's function, the call the message must name)
    ("check_pearson_rsm", lambda X: np.corrcoef(X.T), "numpy.corrcoef"),
    ("check_pearson_rsm", lambda X: _aliased(rsm.rsm)(X, "pearson"), "nnsrm_utils.rsm.rsm"),
    ("check_random_orthogonal", lambda n, rng: transforms.random_orthogonal(n, rng),
     "nnsrm_utils.transforms.random_orthogonal"),
    ("check_random_orthogonal", lambda n, rng: ortho_group.rvs(n, random_state=rng), "scipy.stats.ortho_group"),
    ("check_procrustes", lambda X, S: srm.procrustes(X @ S.T), "nnsrm_utils.srm.procrustes"),
    ("check_procrustes", lambda X, S: orthogonal_procrustes(S.T, X.T)[0].T, "scipy.linalg.orthogonal_procrustes"),
    ("check_compare_rsms", lambda A, B: rsm.compare_rsms(A, B), "nnsrm_utils.rsm.compare_rsms"),
    ("check_inter_rsm", lambda xs: rsm.inter_rsm(xs), "nnsrm_utils.rsm.inter_rsm"),
    ("check_linear_cka", lambda X, Y: cca.cka(X, Y), "nnsrm_utils.cca.cka"),
    ("check_max_match", lambda X, Y, eps: matching.max_match(X, Y, eps), "nnsrm_utils.matching.max_match"),
    ("check_max_match", _chapter_helper("08_matching.ipynb", "max_match_by_hand"), "numpy.linalg.lstsq"),
    ("check_max_match", lambda X, Y, eps: [lstsq(Y.T, x) for x in X] and matching.max_match(X, Y, eps),
     "scipy.linalg.lstsq"),
    ("check_procrustes_distance", lambda X, Y: shape.shape_distance(X, Y), "nnsrm_utils.shape.shape_distance"),
    ("check_procrustes_distance", lambda X, Y: _scipy_angle(X, Y), "scipy.linalg.orthogonal_procrustes"),
]


@pytest.mark.parametrize("check, cheat, call", CHEATS, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(CHEATS)])
def test_the_answer_key_is_out_of_reach(check, cheat, call):
    """Calling the package (or what the exercise rules out) fails, however the call is reached,
    even though the cheat's answers are right; and the checks leave no profile hook behind."""
    with pytest.raises(exercises.CheckFailed, match=f"a call to {call} ") as failure:
        getattr(exercises, check)(cheat)
    assert "write this step yourself" in str(failure.value)
    assert sys.getprofile() is None


def test_a_profiler_already_running_is_restored():
    def outer(frame, event, arg):
        pass

    sys.setprofile(outer)
    try:
        exercises.check_linear_cka(SOLUTIONS["linear_cka"])
        assert sys.getprofile() is outer
    finally:
        sys.setprofile(None)
