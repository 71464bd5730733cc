"""Random orthogonal and permutation transforms of a unit space.

Proposition 1 is about representations that differ by an orthogonal map, and
the simulation of chapter 4 makes network copies with such maps.  Each function
returns an ``(n, n)`` matrix ``Q``; a transformed representation is ``Q @ X``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._validate import check_count

#: A seed, a generator, or None for fresh entropy.
RandomState = int | np.random.Generator | None


def _rng(random_state):
    return np.random.default_rng(random_state)


def random_orthogonal(n: int, random_state: RandomState = None) -> NDArray[np.float64]:
    """Orthogonal matrix drawn uniformly (Haar measure) from O(n).

    QR of a Gaussian matrix, with the signs of R's diagonal moved into Q
    (Mezzadri 2007): without that correction, or with uniform instead of
    Gaussian entries, the result is not uniformly distributed.

    Returns
    -------
    numpy.ndarray
        ``(n, n)``, with ``Q.T @ Q = I``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> Q = random_orthogonal(5, random_state=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(5)))
    True
    """
    check_count(n, "n")
    q, r = np.linalg.qr(_rng(random_state).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def qr_uniform_orthogonal(n: int, random_state: RandomState = None) -> NDArray[np.float64]:
    """The authors' construction: Q from a QR of a matrix of uniform [0, 1) entries.

    Orthogonal, but *not* Haar distributed: all entries of the first column
    share one sign, for instance.  Provided only to reproduce the paper's
    simulation; use :func:`random_orthogonal` otherwise.

    Returns
    -------
    numpy.ndarray
        ``(n, n)``, with ``Q.T @ Q = I``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.

    Examples
    --------
    The bias is easy to see: the first column never mixes signs.

    >>> import numpy as np
    >>> Q = qr_uniform_orthogonal(4, random_state=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(4))), len(set(np.sign(Q[:, 0])))
    (True, 1)
    """
    check_count(n, "n")
    return np.linalg.qr(_rng(random_state).random((n, n)))[0]


def random_permutation(n: int, random_state: RandomState = None) -> NDArray[np.float64]:
    """A uniformly drawn ``(n, n)`` permutation matrix (an orthogonal map that keeps units whole).

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` of zeros and ones, one 1 in each row and column.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.

    Examples
    --------
    >>> random_permutation(3, random_state=0)
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    check_count(n, "n")
    return np.eye(n)[_rng(random_state).permutation(n)]
