"""The one array layer under the geometry: numpy arrays or torch tensors, one algorithm.

The analyses (:mod:`~nnsrm_utils.rsm`, :mod:`~nnsrm_utils.cca`, :mod:`~nnsrm_utils.srm`) are
written once against a namespace ``xp`` with numpy's names.  For numpy input ``xp`` forwards
every name to numpy itself, so the numpy path makes exactly the calls it made before this
layer existed (bit-identical results).  For torch tensors ``xp`` maps the same names onto
torch, so the work runs on the tensors' device (CPU or CUDA) in their dtype, and the results
are tensors there too.  Torch is never imported here: a tensor can only exist once its caller
has imported torch, so it is looked up in ``sys.modules``.

Neuron matching (:mod:`~nnsrm_utils.matching`) stays numpy on purpose: its pivoted-QR and
scipy steps are many small sequential factorisations, which a GPU is not expected to speed up.
"""
import sys

import numpy as np


def is_tensor(x):
    """Whether ``x`` is a torch tensor (False whenever torch has not been imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def array_namespace(*arrays):
    """The namespace for ``arrays``: torch's if any of them is a tensor, numpy's otherwise.

    Unchecked: public functions call :func:`nnsrm_utils._validate.namespace`, which refuses
    mixed kinds and devices first."""
    return TORCH if any(is_tensor(a) for a in arrays) else NUMPY


def eps(dtype):
    """Machine epsilon of a numpy or torch floating dtype."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(dtype, torch.dtype):
        return torch.finfo(dtype).eps
    return np.finfo(dtype).eps


def svd(a, full_matrices=True, compute_uv=True):
    """numpy's SVD (stacks of matrices too), retried with LAPACK's ``gesvd`` where it fails.

    numpy has only the ``gesdd`` driver, which can fail to converge on harmless input: with
    OpenBLAS 0.3.31 it did on a 300 x 300 matrix within 1e-14 of the identity (a whitened
    layer's cross-covariance with itself).  ``gesvd`` is slower and computes the same
    decomposition; input that is not finite still raises."""
    try:
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    except np.linalg.LinAlgError:
        if not np.isfinite(a).all():
            raise
        from scipy.linalg import svd as scipy_svd
        a = np.asarray(a)
        parts = [scipy_svd(m, full_matrices=full_matrices, compute_uv=compute_uv, lapack_driver="gesvd")
                 for m in a.reshape(-1, *a.shape[-2:])]
        if not compute_uv:
            return np.stack(parts).reshape(*a.shape[:-2], -1)
        return tuple(np.stack(p).reshape(*a.shape[:-2], *p[0].shape) for p in zip(*parts))


class _NumpyLinalg:
    """numpy.linalg, with :func:`svd` in place of its SVD."""

    svd = staticmethod(svd)

    def __getattr__(self, name):
        return getattr(np.linalg, name)


class _Numpy:
    """numpy itself (any other name is numpy's), plus the few helpers spelled alike for torch."""

    linalg = _NumpyLinalg()

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def astype(x, dtype):
        return x.astype(dtype, copy=False)

    @staticmethod
    def device(x):
        return None

    @staticmethod
    def asarray(x, dtype=None, device=None):
        return np.asarray(x, dtype=dtype)

    @staticmethod
    def empty(shape, dtype, device=None):
        return np.empty(shape, dtype)

    @staticmethod
    def eye(k, dtype=np.float64, device=None):
        return np.eye(k, dtype=dtype)

    @staticmethod
    def zeros(n, dtype, device=None):
        return np.zeros(n, dtype)

    @staticmethod
    def tril_indices(n, k=0, device=None):
        return np.tril_indices(n, k)

    @staticmethod
    def pearsonr(a, b):
        from scipy import stats
        return float(stats.pearsonr(a, b)[0])


class _Torch:
    """numpy's names for torch functions; the ones whose meaning differs are wrapped below."""

    def __getattr__(self, name):  # abs, sqrt, exp, where, outer, diag, trace, isfinite, ...
        if name.startswith("__") or "torch" not in sys.modules:  # introspection (doctest, copy)
            raise AttributeError(name)
        return getattr(sys.modules["torch"], name)

    @property
    def linalg(self):  # eigh, eigvalsh, svd, qr, solve and slogdet take numpy's arguments
        return sys.modules["torch"].linalg

    @staticmethod
    def astype(x, dtype):
        return x.to(dtype)

    @staticmethod
    def device(x):
        return x.device

    @staticmethod
    def asarray(x, dtype=None, device=None):
        return sys.modules["torch"].as_tensor(x, dtype=dtype, device=device)

    @staticmethod
    def empty(shape, dtype, device=None):
        return sys.modules["torch"].empty(shape, dtype=dtype, device=device)

    @staticmethod
    def eye(k, dtype=None, device=None):
        torch = sys.modules["torch"]
        return torch.eye(k, dtype=dtype or torch.float64, device=device)

    @staticmethod
    def zeros(n, dtype, device=None):
        return sys.modules["torch"].zeros(n, dtype=dtype, device=device)

    @staticmethod
    def max(x, axis=None):
        return x.max() if axis is None else x.amax(dim=axis)

    @staticmethod
    def sum(x, axis=None):
        return x.sum() if axis is None else x.sum(dim=axis)

    @staticmethod
    def mean(x, axis=None, dtype=None):
        return x.mean(dtype=dtype) if axis is None else x.mean(dim=axis, dtype=dtype)

    @staticmethod
    def all(x):
        return bool(x.all())

    @staticmethod
    def cumsum(x):
        return x.cumsum(dim=0)

    @staticmethod
    def flip(x, axis):
        return x.flip(axis)

    @staticmethod
    def maximum(x, floor):
        return x.clamp(min=floor)

    @staticmethod
    def pad(x, widths):
        return sys.modules["torch"].nn.functional.pad(x, widths)

    @staticmethod
    def searchsorted(a, v):
        return sys.modules["torch"].searchsorted(a, sys.modules["torch"].tensor([v], dtype=a.dtype, device=a.device))[0]

    @staticmethod
    def flatnonzero(x):
        return x.ravel().nonzero().ravel()

    @staticmethod
    def tril_indices(n, k=0, device=None):
        return tuple(sys.modules["torch"].tril_indices(n, n, k, device=device))

    @staticmethod
    def fill_diagonal(x, value):
        x.fill_diagonal_(value)

    @staticmethod
    def median(x):
        """numpy's median: the mean of the two middle values of an even count."""
        flat, n = x.ravel(), x.numel()
        if flat.is_cuda:  # CUDA's kthvalue: one thread block per slice, 20x a sort on 1e8 values (pytorch#75599)
            return _Torch.median_by_sort(flat)
        low = flat.kthvalue((n + 1) // 2).values
        return low if n % 2 else (low + flat.kthvalue(n // 2 + 1).values) / 2

    @staticmethod
    def median_by_sort(flat):
        """The median of a non-empty floating 1-D tensor: the mean of its one or two middle sorted values."""
        n = flat.numel()
        return flat.sort().values[(n - 1) // 2 : n // 2 + 1].mean()

    @staticmethod
    def einsum(subscripts, *operands, dtype=None):
        return sys.modules["torch"].einsum(subscripts, *(o.to(dtype) for o in operands))

    @staticmethod
    def subtract(a, b, out):
        return sys.modules["torch"].sub(a, b, out=out)

    @staticmethod
    def multiply(a, b, out):
        return sys.modules["torch"].mul(a, b, out=out)

    @staticmethod
    def inverse_cholesky(c, rcond_min):
        """``L^-T`` for ``C = L L^T`` if ``1 / (||C||_1 ||C^-1||_1) > rcond_min``, else None
        (numpy's route, in :mod:`nnsrm_utils.cca`, estimates that with LAPACK)."""
        torch = sys.modules["torch"]
        low, info = torch.linalg.cholesky_ex(c)
        if int(info) != 0:
            return None
        inv = torch.linalg.solve_triangular(low, torch.eye(len(c), dtype=c.dtype, device=c.device), upper=False)
        norm1 = c.abs().sum(dim=0).max() * (inv.T @ inv).abs().sum(dim=0).max()
        return inv.T if float(1 / norm1) > rcond_min else None

    @staticmethod
    def pearsonr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return float((a @ b) / (a.norm() * b.norm()))


NUMPY, TORCH = _Numpy(), _Torch()
