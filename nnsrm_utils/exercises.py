"""Autograder checks for the book's coding exercises.

Each ``check_*`` takes a student's function, runs it on a few fixed inputs and either prints
how many cases passed or raises :class:`CheckFailed` saying which input, what was expected and
what came back.  Expected values come from the package's own implementations; the messages
describe them (shapes, values, properties) and never show how they are computed.

A check grades the student's own work: while the student's function runs, any call into this
package (which holds every answer) or into a function the exercise rules out (``np.corrcoef``
for the Pearson RSM, NumPy's and SciPy's ``lstsq`` for the maximum match, SciPy's ready-made
versions) fails the check, however the function was reached (imported, aliased or wrapped in
a notebook helper), with a message naming the call.

=======  ===========================================  ====================================
chapter  exercise                                     check
=======  ===========================================  ====================================
1        the Pearson RSM of a layer                   :func:`check_pearson_rsm`
2        a Haar-distributed random orthogonal matrix  :func:`check_random_orthogonal`
3        the Procrustes step of SRM                   :func:`check_procrustes`
4        second-order comparison of two RSMs          :func:`check_compare_rsms`
5        leave-one-network-out variance explained     :func:`check_loo_variance_explained`
6        the inter-network RSM (iRSM)                 :func:`check_inter_rsm`
7        linear CKA                                   :func:`check_linear_cka`
8        the maximum-match loop                       :func:`check_max_match`
9        the Procrustes distance                      :func:`check_procrustes_distance`
=======  ===========================================  ====================================
"""
from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import cca, matching, rsm, shape, srm
from .transforms import random_orthogonal


class CheckFailed(AssertionError):
    """A student's function gave a wrong answer on one of the check's inputs.

    An ``AssertionError``, so a failed check reads like a failed test.  A stub that still raises
    ``NotImplementedError`` is not a failure: that error passes through every check unchanged.

    Examples
    --------
    >>> def unfinished(X):
    ...     raise NotImplementedError("Exercise: write this function")
    >>> check_pearson_rsm(unfinished)
    Traceback (most recent call last):
        ...
    NotImplementedError: Exercise: write this function
    >>> issubclass(CheckFailed, AssertionError)
    True
    """


def _fail(name, case, expected, got):
    raise CheckFailed(f"{name}: on {case}, expected {expected}; got {got}")


PACKAGE = str(Path(__file__).parent) + os.sep  # as code objects name their files


def _forbid(**reasons):
    """``{code object: (name, why)}`` for the functions ``reasons`` maps (name -> (function, why))."""
    codes = {}
    for name, (fn, why) in reasons.items():
        fn = inspect.unwrap(fn)  # numpy's array-function dispatchers wrap the Python function
        codes[getattr(fn, "__func__", fn).__code__] = (name, why)
    return codes


def _profiler(hits, forbidden):
    """A profile hook noting, in ``hits``, the first call into this package or into ``forbidden``.

    It sees every Python-level call, so a forbidden function is caught however the student's
    code reached it."""
    def profile(frame, event, arg):
        if event != "call" or hits:
            return
        code = frame.f_code
        if code in forbidden:
            hits.append(forbidden[code])
        elif code.co_filename.startswith(PACKAGE):
            hits.append((f"{frame.f_globals.get('__name__')}.{getattr(code, 'co_qualname', code.co_name)}",  # 3.11+
                         "this package's own implementation"))
    return profile


def _call(name, fn, case, *args, forbidden=None):
    """``fn(*args)``, failing the case if it crashes or calls what the exercise rules out."""
    hits, crash = [], None
    previous = sys.getprofile()
    sys.setprofile(_profiler(hits, forbidden or {}))
    try:
        result = fn(*args)
    except NotImplementedError:
        raise
    except Exception as error:  # a crash is a failed case, reported like one
        crash = error
    finally:
        sys.setprofile(previous)
    if hits:
        _fail(name, case, "your own code", f"a call to {hits[0][0]} ({hits[0][1]}); write this step yourself")
    if crash is not None:
        _fail(name, case, "a result", f"{type(crash).__name__}: {crash}")
    return result


def _array(name, case, got, shape):
    got = np.asarray(got, dtype=float) if got is not None else None
    if got is None or got.shape != shape:
        _fail(name, case, f"an array of shape {shape}", "None" if got is None else f"shape {got.shape}")
    if not np.all(np.isfinite(got)):
        _fail(name, case, "finite values", "NaN or inf")
    return got


def _close(name, case, got, expected, what, atol=1e-6):
    err = np.max(np.abs(got - expected))
    if err > atol:
        _fail(name, case, f"{what} within {atol:g} of the reference", f"a largest difference of {err:.3g}")


def _passed(name, n):
    print(f"{name}: all {n} cases passed")


def _layers(seed=0):
    """(description, X) pairs of activation matrices (n_units, n_examples) the checks share."""
    rng = np.random.default_rng(seed)
    return [("a 5 x 8 Gaussian layer", rng.standard_normal((5, 8))),
            ("a 12 x 30 ReLU layer with a constant offset", np.maximum(rng.standard_normal((12, 30)), 0) + 3),
            ("a 40 x 6 layer (more units than examples)", rng.standard_normal((40, 6)) * np.arange(1, 41)[:, None])]


def check_pearson_rsm(fn: Callable[..., Any]) -> None:
    """Chapter 1: ``fn(X)`` returns the ``(n_examples, n_examples)`` Pearson RSM of ``X`` ``(n_units, n_examples)``.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    ``np.corrcoef`` is ruled out:

    >>> import numpy as np
    >>> check_pearson_rsm(lambda X: np.corrcoef(X.T))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_pearson_rsm: on a 5 x 8 Gaussian layer, expected your own code; got a call to numpy.corrcoef ...
    """
    name = "check_pearson_rsm"
    cases = _layers()
    forbidden = _forbid(**{"numpy.corrcoef": (np.corrcoef, "the exercise asks for the RSM without it")})
    for case, X in cases:
        got = _array(name, case, _call(name, fn, case, X.copy(), forbidden=forbidden), (X.shape[1], X.shape[1]))
        _close(name, case, got, rsm.rsm(X, "pearson"), "correlations between examples")
    _passed(name, len(cases))


def check_random_orthogonal(fn: Callable[..., Any], draws: int = 2000) -> None:
    """Chapter 2: ``fn(n, rng)`` returns an ``(n, n)`` orthogonal matrix drawn from the Haar
    distribution with the numpy Generator ``rng``.

    Checked over ``draws`` draws: orthogonality; both determinants occur (a plain QR
    decomposition gives one only); every entry has mean 0 (QR without the signs of R's diagonal
    moved into Q favours one sign, also when one column's sign is randomised) and variance
    ``1/n``; and the entries' fourth moment is the Haar law's ``3 / (n (n + 2))`` (each column
    is uniform on the sphere; signed permutation matrices, with entries 0 and +-1, give ``1/n``).

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    >>> check_random_orthogonal(lambda n, rng: rng.standard_normal((n, n)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_random_orthogonal: on draw 1 of fn(3, rng), expected Q^T Q = I ...
    """
    from scipy.stats import ortho_group, special_ortho_group

    name = "check_random_orthogonal"
    ready_made = "SciPy's ready-made sampler"
    forbidden = _forbid(**{"scipy.stats.ortho_group": (type(ortho_group).rvs, ready_made),
                           "scipy.stats.special_ortho_group": (type(special_ortho_group).rvs, ready_made)})
    n = 3
    rng = np.random.default_rng(0)
    qs = np.empty((draws, n, n))
    for i in range(draws):
        case = f"draw {i + 1} of fn({n}, rng)"
        qs[i] = _array(name, case, _call(name, fn, case, n, rng, forbidden=forbidden), (n, n))
        _close(name, case, qs[i].T @ qs[i], np.eye(n), "Q^T Q = I", atol=1e-8)
    all_draws = f"{draws} draws of fn({n}, rng)"
    dets = {round(float(d)) for d in np.linalg.det(qs)}
    if dets != {-1, 1}:
        _fail(name, all_draws, "determinants +1 and -1 (reflections are orthogonal too)", f"only {sorted(dets)}")
    means, se = qs.mean(axis=0), np.sqrt(1 / n / draws)
    i, j = np.unravel_index(np.argmax(np.abs(means)), means.shape)
    if abs(means[i, j]) > 4.5 * se:
        _fail(name, all_draws, f"every entry with mean 0 (within {4.5 * se:.3f})",
              f"Q[{i}, {j}] has mean {means[i, j]:.3f}: the draws favour one sign, so they are not uniform over "
              "rotations (a QR decomposition needs the signs of R's diagonal moved into Q)")
    variances = qs.var(axis=0)
    if np.max(np.abs(variances - 1 / n)) > 0.05:
        _fail(name, all_draws, f"every entry with variance 1/n = {1 / n:.3f}",
              f"variances from {variances.min():.3f} to {variances.max():.3f}")
    fourth, haar = np.mean(qs**4), 3 / (n * (n + 2))
    if abs(fourth - haar) > 0.02:
        _fail(name, all_draws, f"entries with the Haar law's fourth moment 3 / (n (n + 2)) = {haar:.3f}",
              f"{fourth:.3f}: the entries are not spread like the coordinates of a uniform point on the sphere "
              "(signed permutations, for one, have only 0 and +-1)")
    _passed(name, draws)


def check_procrustes(fn: Callable[..., Any]) -> None:
    """Chapter 3: ``fn(X, S)`` returns ``W`` ``(n_units, k)`` with orthonormal columns minimising
    ``||X - W S||_F`` for a network's data ``X`` ``(n_units, n_examples)`` and shared response
    ``S`` ``(k, n_examples)``: SRM's update of one network's map.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    Orthonormal columns are not enough; they must fit ``X``:

    >>> import numpy as np
    >>> check_procrustes(lambda X, S: np.eye(X.shape[0], S.shape[0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_procrustes: on a noise-free X = W S (6 units, k = 3, 40 examples), expected ||X - W S|| = 0.000000 ...
    """
    from scipy.linalg import orthogonal_procrustes

    name = "check_procrustes"
    forbidden = _forbid(**{"scipy.linalg.orthogonal_procrustes": (orthogonal_procrustes, "SciPy's ready-made solver")})
    rng = np.random.default_rng(1)
    cases = []
    w_true = random_orthogonal(6, rng)[:, :3]
    s = rng.standard_normal((3, 40))
    cases.append(("a noise-free X = W S (6 units, k = 3, 40 examples)", w_true @ s, s))
    s = rng.standard_normal((4, 25))
    cases.append(("a noisy 10-unit network, k = 4, 25 examples", rng.standard_normal((10, 4)) @ s
                  + 0.5 * rng.standard_normal((10, 25)), s))
    for case, X, S in cases:
        W = _array(name, case, _call(name, fn, case, X.copy(), S.copy(), forbidden=forbidden), (X.shape[0], S.shape[0]))
        _close(name, case, W.T @ W, np.eye(S.shape[0]), "W^T W = I", atol=1e-8)
        best = np.linalg.norm(X - srm.procrustes(X @ S.T) @ S)
        loss = np.linalg.norm(X - W @ S)
        if loss > best * (1 + 1e-8) + 1e-10:
            _fail(name, case, f"||X - W S|| = {best:.6f} (the minimum over orthonormal W)", f"{loss:.6f}")
    _passed(name, len(cases))


def check_compare_rsms(fn: Callable[..., Any]) -> None:
    """Chapter 4: ``fn(A, B)`` returns the Pearson correlation of two RSMs over their strict
    lower triangles (the diagonal and the mirrored half left out).

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    Correlating the full matrices counts the diagonal and every pair twice:

    >>> import numpy as np
    >>> check_compare_rsms(lambda A, B: np.corrcoef(A.ravel(), B.ravel())[0, 1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_compare_rsms: on the RSMs of a 5 x 8 Gaussian layer and of a noisy copy of it, expected the correlation within 1e-08 ...
    """
    name = "check_compare_rsms"
    layers = _layers(2)
    noise = np.random.default_rng(3)
    cases = [(f"the RSMs of {a} and of a noisy copy of it", rsm.rsm(x, "pearson"),
              rsm.rsm(x + noise.standard_normal(x.shape), "pearson")) for a, x in layers]
    # an iRSM is not symmetric and its diagonal is not 1: the upper triangle and the diagonal count
    copies = [layers[1][1] + noise.standard_normal(layers[1][1].shape) for _ in range(3)]
    cases.append(("the iRSM of three noisy copies of a 12 x 30 layer (not symmetric) and their wRSM",
                  rsm.inter_rsm(copies), rsm.within_rsm(copies)))
    for case, A, B in cases:
        got = _call(name, fn, case, A.copy(), B.copy())
        if not np.isscalar(got) and np.ndim(got) != 0:
            _fail(name, case, "one number", f"shape {np.shape(got)}")
        _close(name, case, float(got), rsm.compare_rsms(A, B), "the correlation", atol=1e-8)
    _passed(name, len(cases))


def _networks(widths, k, n, rng, offset=0.0):
    """Networks ``X_i = W_i S + noise (+ unit offsets)`` of the given widths sharing a ``k``-dim response."""
    shared = rng.standard_normal((k, n))
    return [random_orthogonal(p, rng)[:, :k] @ shared + 0.3 * rng.standard_normal((p, n))
            + offset * rng.standard_normal((p, 1)) for p in widths]


def check_loo_variance_explained(fn: Callable[..., Any]) -> None:
    """Chapter 5: ``fn(ws, mus, xs)`` returns, for each network ``i``, the fraction of the
    variance of its held-out responses ``xs[i]`` ``(n_units_i, n_examples)`` that the other
    networks predict through a fitted SRM: maps ``ws[i]`` ``(n_units_i, k)`` and unit means
    ``mus[i]`` ``(n_units_i,)``.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> check_loo_variance_explained(lambda ws, mus, xs: np.ones(len(xs)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_loo_variance_explained: on 3 networks of 6, 8 and 10 units sharing k = 3, expected each network's variance explained ...
    """
    name = "check_loo_variance_explained"
    rng = np.random.default_rng(7)
    cases = []
    for case, widths, k, offset in [("3 networks of 6, 8 and 10 units sharing k = 3", (6, 8, 10), 3, 0.0),
                                    ("2 networks of 5 units sharing k = 2 (each predicted by the other alone)",
                                     (5, 5), 2, 0.0),
                                    ("4 networks of 7 units, k = 4, whose units have large means", (7,) * 4, 4, 5.0)]:
        xs = _networks(widths, k, 60, rng, offset)
        model = srm.DetSRM(n_features=k, n_iter=20, random_state=0).fit([x[:, :40] for x in xs])
        cases.append((case, model, [x[:, 40:] for x in xs]))
    for case, model, test in cases:
        got = _call(name, fn, case, [w.copy() for w in model.w_], [m.copy() for m in model.mu_],
                    [x.copy() for x in test])
        got = _array(name, case, got, (len(test),))
        _close(name, case, got, srm.variance_explained(model, test, leave_one_out=True),
                "each network's variance explained", atol=1e-8)
    _passed(name, len(cases))


def check_inter_rsm(fn: Callable[..., Any]) -> None:
    """Chapter 6: ``fn(xs)`` returns the ``(n_examples, n_examples)`` Pearson iRSM of networks
    ``xs`` in one space (each ``(k, n_examples)``): for every network, the correlations of its
    examples (rows) with the examples (columns) of the mean of the other networks, averaged
    over networks.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    >>> check_inter_rsm(lambda xs: xs[0])
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_inter_rsm: on 3 noisy copies of one 4 x 12 shared response, expected an array of shape (12, 12); got shape (4, 12)
    """
    name = "check_inter_rsm"
    rng = np.random.default_rng(8)

    def copies(n_networks, k, n, offset=0.0):  # noisy copies of one shared response, in one space
        shared = rng.standard_normal((k, n))
        return [shared + 0.5 * rng.standard_normal((k, n)) + offset * rng.standard_normal((k, 1))
                for _ in range(n_networks)]

    cases = [("3 noisy copies of one 4 x 12 shared response", copies(3, 4, 12)),
             ("2 networks, 5 x 9 (each compared with the other alone)", copies(2, 5, 9)),
             ("5 networks, 6 x 15, with unit offsets", copies(5, 6, 15, offset=3.0))]
    for case, xs in cases:
        n = xs[0].shape[1]
        got = _array(name, case, _call(name, fn, case, [x.copy() for x in xs]), (n, n))
        _close(name, case, got, rsm.inter_rsm(xs, "pearson"), "correlations between examples", atol=1e-8)
    _passed(name, len(cases))


def check_linear_cka(fn: Callable[..., Any]) -> None:
    """Chapter 7: ``fn(X, Y)`` returns linear CKA between ``X`` ``(p1, n)`` and ``Y`` ``(p2, n)``.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    A constant 1 is right for the first case only:

    >>> check_linear_cka(lambda X, Y: 1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_linear_cka: on X (8 x 50) and an unrelated Y (5 x 50), expected CKA within 1e-08 ...
    """
    name = "check_linear_cka"
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 50)) + 2
    cases = [("X and a rotated, scaled, shifted copy of X", x, 3 * random_orthogonal(8, rng) @ x + 1),
             ("X (8 x 50) and an unrelated Y (5 x 50)", x, rng.standard_normal((5, 50))),
             ("X and a unit-wise rescaling of X", x, np.geomspace(0.1, 10, 8)[:, None] * x)]
    for case, X, Y in cases:
        got = _call(name, fn, case, X.copy(), Y.copy())
        _close(name, case, float(np.asarray(got)), cca.cka(X, Y), "CKA", atol=1e-8)
    _passed(name, len(cases))


def _cascade(n=60, seed=5):
    """Layers where one round of removals is not enough: y3 keeps x2 in the first pass, then goes."""
    a, b, c, r1, r2 = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, 5)))[0].T
    return np.stack([a, b, r1]), np.stack([a, b + c, c, r2])


def check_max_match(fn: Callable[..., Any]) -> None:
    """Chapter 8: ``fn(X, Y, eps)`` returns ``(ix, iy)``, the indices of the neurons (rows) of ``X``
    and ``Y`` in their maximum ``eps``-approximate match.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    >>> check_max_match(lambda X, Y, eps: ([], []))
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_max_match: on two layers sharing a 3-dimensional latent, eps = 0.1, expected X neurons [0, 1, 2, 3] and Y neurons [5, 6, 7]; got [[], []]
    """
    from scipy.linalg import lstsq

    name = "check_max_match"
    rng = np.random.default_rng(6)
    latent = rng.standard_normal((3, 80))
    planted = (np.concatenate([rng.standard_normal((4, 3)) @ latent, rng.standard_normal((5, 80))]),
               np.concatenate([rng.standard_normal((5, 80)), rng.standard_normal((3, 3)) @ latent]))
    x, y = _cascade()
    per_neuron = "the exercise asks for orthonormal bases, not a least-squares solve per neuron"
    forbidden = _forbid(**{"numpy.linalg.lstsq": (np.linalg.lstsq, per_neuron),
                           "scipy.linalg.lstsq": (lstsq, per_neuron)})
    cases = [("two layers sharing a 3-dimensional latent, eps = 0.1", *planted, 0.1),
             ("layers where a removal makes another neuron unmatched, eps = 0.3", x, y, 0.3),
             ("two unrelated layers of 4 neurons over 80 examples, eps = 0.5",
              rng.standard_normal((4, 80)), rng.standard_normal((4, 80)), 0.5),
             ("the shared-latent layers with X's neuron 1 dead (all zeros), eps = 0.1",
              np.where(np.arange(9)[:, None] == 1, 0.0, planted[0]), planted[1], 0.1)]
    for case, X, Y, eps in cases:
        got = _call(name, fn, case, X.copy(), Y.copy(), eps, forbidden=forbidden)
        expected = [sorted(v.tolist()) for v in matching.max_match(X, Y, eps)]
        try:
            got = [sorted(int(i) for i in v) for v in got]
        except (TypeError, ValueError):
            _fail(name, case, "a pair (ix, iy) of index lists", repr(got))
        if len(got) != 2 or got != expected:
            _fail(name, case, f"X neurons {expected[0]} and Y neurons {expected[1]}", f"{got}")
    _passed(name, len(cases))


def check_procrustes_distance(fn: Callable[..., Any]) -> None:
    """Chapter 9: ``fn(X, Y)`` returns the angular Procrustes distance (radians) between ``X``
    ``(p1, n)`` and ``Y`` ``(p2, n)``: both centred over examples and scaled to unit norm, the
    narrower one padded with zero units, then the angle left after the best orthogonal map.

    Raises
    ------
    CheckFailed
        On the first case the function gets wrong, or in which it crashes or calls what the
        exercise rules out.
    NotImplementedError
        The student edition's stub, passed through unchanged.

    Examples
    --------
    >>> check_procrustes_distance(lambda X, Y: 0.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    nnsrm_utils.exercises.CheckFailed: check_procrustes_distance: on X (6 x 40) and an unrelated Y (6 x 40), expected the angle ...
    """
    from scipy.linalg import orthogonal_procrustes

    name = "check_procrustes_distance"
    forbidden = _forbid(**{"scipy.linalg.orthogonal_procrustes": (orthogonal_procrustes, "SciPy's ready-made solver")})
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 40)) + 2
    cases = [("X and a rotated, scaled, shifted copy of X", x, 3 * random_orthogonal(6, rng) @ x + 1),
             ("X (6 x 40) and an unrelated Y (6 x 40)", x, rng.standard_normal((6, 40))),
             ("X (6 x 40) and a narrower related Y (3 x 40)", x, rng.standard_normal((3, 6)) @ x),
             ("X and a unit-wise rescaling of X", x, np.geomspace(0.1, 10, 6)[:, None] * x)]
    for case, X, Y in cases:
        got = _call(name, fn, case, X.copy(), Y.copy(), forbidden=forbidden)
        try:
            got = float(np.asarray(got))
        except (TypeError, ValueError):
            _fail(name, case, "one number (an angle in radians)", repr(got))
        _close(name, case, got, shape.shape_distance(X, Y), "the angle", atol=1e-6)
    _passed(name, len(cases))
