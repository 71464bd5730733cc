r"""Model stitching (Bansal, Nakkiran & Barak 2021): does network A's layer work in network B?

Network A runs up to a layer, its activity is mapped into network B's units at the same layer,
and B finishes the computation.  If the stitched network classifies as well as B, the two
layers carry the same usable information up to the map; the family of maps allowed says how
alike they must be.  Each map is affine, ``x_B = M (x_A - mu_A) + mu_B``, fitted on activity
of both networks over the same images, and applied to a conv layer's channels at every
position (a 1x1 convolution, as Bansal et al. stitch conv layers) or to a dense layer's units:

* ``"srm"``: SRM's maps (:class:`~nnsrm_utils.srm.SRM`, as the book fits it), ``M = W_B W_A^T``;
  with ``k`` = the number of units an orthogonal map, with fewer a projection through the
  ``k``-dimensional shared space;
* ``"procrustes"``: the orthogonal ``M`` closest to mapping A onto B (the Procrustes distance's map);
* ``"scaled procrustes"``: that orthogonal map ``Q`` times the ratio of the layers' sizes, ``M = (|B| / |A|) Q``
  with ``|.|`` the Frobenius norm of the centred activity, so that A's activity arrives at B's
  overall size (the Procrustes distance compares the two at equal size; a rotation alone keeps
  A's size);
* ``"least squares"``: any linear ``M``, by least squares on B's activity.

:func:`train_map` instead trains a linear stitching layer on the task (cross-entropy through
B's frozen upper layers), as Bansal et al. do.  Activity here is ``(n_units, n_points)``, the
book's layout: a conv channel is one unit whose points are (image, position) pairs.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from .models import ConvNet, PreActBlock, PreActResNet18
from .record import _layer_outputs
from .srm import SRM, procrustes

#: The maps :func:`fit_map` fits.
METHODS = ("srm", "procrustes", "scaled procrustes", "least squares")
#: An affine map ``(M, mu_a, mu_b)`` of one network's units onto another's, ``x_B = M (x_A - mu_a) + mu_b``.
Stitch = tuple[NDArray, NDArray, NDArray]


def split(model: ConvNet | PreActResNet18, layer: str) -> tuple[nn.Sequential, nn.Sequential]:
    """``(bottom, top)`` of a network at one of its analysed layers: ``top(bottom(x))`` is
    ``model(x)`` and ``bottom(x)`` the layer's output.  Both share the model's modules (nothing
    is copied), so putting them in eval mode puts the model's own layers in eval mode too (its
    ``training`` flag aside): call ``model.train()`` before training it further.

    A :class:`~nnsrm_utils.models.ConvNet` is a chain of its layers.  In a
    :class:`~nnsrm_utils.models.PreActResNet18` the analysed layers ``bn3`` ... ``bn15`` are the
    first BatchNorm of a block, which the block applies to its input itself (and an identity
    shortcut passes that input on unnormalised): ``top`` first undoes the BatchNorm (an affine
    map per channel, in eval mode), then runs the rest of the network from that block, so a
    stitch acts on the activity every chapter analyses.

    Returns
    -------
    bottom, top : torch.nn.Sequential
        The network up to and including ``layer``, and the rest; both in eval mode.

    Raises
    ------
    ValueError
        If ``model`` is neither network, ``layer`` is not one of its analysed layers, or the
        BatchNorm to undo has a channel scaled by 0 (which no map can undo).

    Examples
    --------
    >>> import torch
    >>> from nnsrm_utils.models import ConvNet, PreActResNet18
    >>> _ = torch.manual_seed(0)
    >>> net = ConvNet(width=0.25).eval()      # untrained, narrow: 8, 16 and 128 units
    >>> x = torch.randn(20, 3, 32, 32)       # 20 images
    >>> bottom, top = split(net, "pool2")
    >>> bottom(x).shape, torch.allclose(top(bottom(x)), net(x))
    (torch.Size([20, 16, 6, 6]), True)
    >>> resnet = PreActResNet18(width=4).eval()
    >>> bottom, top = split(resnet, "bn9")
    >>> bottom(x).shape, torch.allclose(top(bottom(x)), resnet(x), atol=1e-5)
    (torch.Size([20, 8, 4, 4]), True)
    """
    if not isinstance(model, (ConvNet, PreActResNet18)):
        raise ValueError(f"stitching needs a ConvNet or a PreActResNet18; got {type(model).__name__}")
    if layer not in model.analysed_layers:
        raise ValueError(f"layer must be one of {list(model.analysed_layers)}; got {layer!r}")
    if isinstance(model, ConvNet):
        chain = list(model.children())
        cut = [name for name, _ in model.named_children()].index(layer) + 1
        return nn.Sequential(*chain[:cut]).eval(), nn.Sequential(*chain[cut:]).eval()
    bn = model.analysed_layers[layer]
    chain = [model.stem, model.stem_bn, nn.ReLU(), model.pool, *model.blocks, model.final_bn, nn.ReLU(),
             _SpatialMean(), model.head]
    if bn is model.stem_bn or bn is model.final_bn:  # on the chain itself
        cut = next(i for i, m in enumerate(chain) if m is bn) + 1
        return nn.Sequential(*chain[:cut]).eval(), nn.Sequential(*chain[cut:]).eval()
    block = next(i for i, m in enumerate(chain) if isinstance(m, PreActBlock) and m.bn1 is bn)
    return nn.Sequential(*chain[:block], bn).eval(), nn.Sequential(_Unnormalise(bn), *chain[block:]).eval()


class _SpatialMean(nn.Module):
    """A ResNet's global average pooling, ``(n, C, H, W) -> (n, C)``."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class _Unnormalise(nn.Module):
    """The inverse of an eval-mode BatchNorm: its input from its output, channel by channel."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        if bool((bn.weight.abs() < 1e-12).any()):
            raise ValueError("this BatchNorm scales a channel by 0, so its input cannot be recovered from its output")
        self.bn = bn

    def forward(self, y):
        bn, shape = self.bn, (1, -1, 1, 1)
        return ((y - bn.bias.view(shape)) / bn.weight.view(shape) * (bn.running_var.view(shape) + bn.eps).sqrt()
                + bn.running_mean.view(shape))


def layer_outputs(model: ConvNet | PreActResNet18, x: ArrayLike | torch.Tensor,
                  batch_size: int = 500) -> dict[str, torch.Tensor]:
    """``{layer: output}`` of every analysed layer of a network on the images ``x`` (float32
    ``(n, 3, 32, 32)``), in eval mode, from one pass through it on the CPU: the model is moved
    there and left there, in eval mode.

    Returns
    -------
    dict of str to torch.Tensor
        Per analysed layer, in the model's order, its float32 output over all ``n`` images,
        torch's layout: ``(n, C, H, W)`` for a conv layer, ``(n, D)`` for a dense one (see
        :func:`as_units` for the book's).

    Raises
    ------
    ValueError
        If ``model`` is neither a ConvNet nor a PreActResNet18.

    Examples
    --------
    >>> import torch
    >>> from nnsrm_utils.models import ConvNet
    >>> _ = torch.manual_seed(0)
    >>> net = ConvNet(width=0.25).eval()      # untrained, narrow: 8, 16 and 128 units
    >>> x = torch.randn(20, 3, 32, 32)       # 20 images
    >>> {name: tuple(out.shape) for name, out in layer_outputs(net, x).items()}
    {'pool1': (20, 8, 15, 15), 'pool2': (20, 16, 6, 6), 'dense': (20, 128), 'logits': (20, 10)}
    """
    split(model, next(iter(model.analysed_layers)))  # refuses other networks
    parts = {name: [] for name in model.analysed_layers}
    for _, outputs in _layer_outputs(model, model.analysed_layers, x, batch_size, "cpu"):
        for name, out in outputs.items():
            parts[name].append(out)
    return {name: torch.from_numpy(np.concatenate(p)) for name, p in parts.items()}


def as_units(a: ArrayLike | torch.Tensor) -> NDArray[np.float64]:
    """A layer's output ``(n, C, H, W)`` or ``(n, D)`` as ``(n_units, n_points)``: a conv channel is
    one unit over every (image, position) pair.

    Returns
    -------
    numpy.ndarray, float64, shape ``(n_units, n_points)``
        ``(C, n * H * W)``, image by image, or ``(D, n)``.

    Raises
    ------
    ValueError
        If ``a`` is neither 4-D nor 2-D.

    Examples
    --------
    >>> import torch
    >>> as_units(torch.zeros(2, 8, 3, 3)).shape, as_units(torch.zeros(5, 4)).shape
    ((8, 18), (4, 5))
    """
    a = torch.as_tensor(a)
    if a.ndim not in (2, 4):
        raise ValueError(f"a layer's output must be (n, C, H, W) or (n, D); got shape {tuple(a.shape)}")
    return (a.transpose(0, 1).reshape(a.shape[1], -1) if a.ndim == 4 else a.T).double().numpy()


def fit_map(a: ArrayLike | torch.Tensor, b: ArrayLike | torch.Tensor,
            method: Literal["srm", "procrustes", "scaled procrustes", "least squares"] = "procrustes",
            k: int | None = None, max_points: int = 20_000, random_state: int = 0) -> Stitch:
    """The affine map ``(M, mu_a, mu_b)`` from layer outputs ``a`` of network A to ``b`` of
    network B (same images, same layer shape; ``(n, C, H, W)`` or ``(n, D)``).

    ``method`` is one of :data:`METHODS`; ``k`` the shared dimension of ``"srm"`` (default: all
    units).  At most ``max_points`` (image, position) points, drawn with ``random_state``, are
    used for the fit.

    Returns
    -------
    Stitch
        ``(M, mu_a, mu_b)``: ``M`` ``(n_units_B, n_units_A)`` (channels for a conv layer) and the
        two layers' unit means.

    Raises
    ------
    ValueError
        For an unknown ``method``, layers of different shapes, or NaN or infinite values.

    Examples
    --------
    A planted map: B's layer is A's rotated (and shifted), and both fits find the rotation:

    >>> import numpy as np, torch
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> a = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))   # a dense layer: 200 images, 4 units
    >>> Q = random_orthogonal(4, 0)
    >>> b = apply_map((Q, np.zeros(4), np.ones(4)), a)   # network B's layer: A's rotated and shifted
    >>> M, mu_a, mu_b = fit_map(a, b, "procrustes")
    >>> bool(np.allclose(M, Q, atol=1e-5)), bool(np.allclose(fit_map(a, b, "least squares")[0], Q, atol=1e-5))
    (True, True)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"the two layers must have the same shape over the same images; got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    xa, xb = as_units(a), as_units(b)
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(xb))):
        raise ValueError("the layers' outputs contain NaN or infinite values")
    if xa.shape[1] > max_points:
        keep = np.sort(np.random.default_rng(random_state).choice(xa.shape[1], max_points, replace=False))
        xa, xb = xa[:, keep], xb[:, keep]
    mu_a, mu_b = xa.mean(axis=1), xb.mean(axis=1)
    ca, cb = xa - mu_a[:, None], xb - mu_b[:, None]
    if method in ("procrustes", "scaled procrustes"):
        M = procrustes(cb @ ca.T)  # argmax over orthogonal M of <M ca, cb>
        if method == "scaled procrustes":  # A's activity at B's size, as the distance compares them
            M = M * np.sqrt(np.sum(cb * cb) / np.sum(ca * ca))
    elif method == "least squares":
        M = np.linalg.lstsq(ca.T, cb.T, rcond=None)[0].T
    else:
        model = SRM(n_features=k or len(xa), n_iter=10, random_state=random_state).fit([xa, xb])
        M = model.w_[1] @ model.w_[0].T
    return M, mu_a, mu_b


def apply_map(stitch: Stitch, a: ArrayLike | torch.Tensor) -> torch.Tensor:
    """Layer outputs ``a`` of network A mapped into network B's units by ``stitch`` = ``(M, mu_a, mu_b)``.

    ``a`` is ``(n, C, H, W)`` (``M`` then maps the channels at every position) or ``(n, D)``.

    Parameters
    ----------
    stitch : Stitch
        ``(M, mu_a, mu_b)`` as :func:`fit_map` returns it (arrays or tensors).
    a : torch.Tensor or array_like
        Network A's layer outputs, in torch's layout (computed in float32, as networks run).

    Returns
    -------
    torch.Tensor, float32
        ``(n, C_B, H, W)`` or ``(n, D_B)``: ``M (x_A - mu_a) + mu_b`` for each image (and
        position).

    Raises
    ------
    RuntimeError
        From torch, if ``a``'s units do not match ``M``'s columns.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from nnsrm_utils.transforms import random_orthogonal
    >>> a = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))   # a dense layer: 200 images, 4 units
    >>> Q = random_orthogonal(4, 0)
    >>> b = apply_map((Q, np.zeros(4), np.ones(4)), a)   # network B's layer: A's rotated and shifted
    >>> stitched = apply_map(fit_map(a, b), a)
    >>> stitched.shape, round(float((stitched - b).abs().max()), 4)
    (torch.Size([200, 4]), 0.0)
    """
    M, mu_a, mu_b = (torch.as_tensor(v, dtype=torch.float32) for v in stitch)
    a = torch.as_tensor(a, dtype=torch.float32)
    if a.ndim == 4:
        return torch.einsum("ij,njhw->nihw", M, a - mu_a[:, None, None]) + mu_b[:, None, None]
    return (a - mu_a) @ M.T + mu_b


@torch.no_grad()
def accuracy(top: nn.Module, a: ArrayLike | torch.Tensor, labels: ArrayLike, batch_size: int = 500) -> float:
    """The share of ``labels`` that network B's upper layers ``top`` predict from layer outputs ``a``.

    Returns
    -------
    float
        In ``[0, 1]``: the fraction of the ``n`` images whose highest-scoring class is their label.

    Examples
    --------
    >>> import torch
    >>> from nnsrm_utils.models import ConvNet
    >>> _ = torch.manual_seed(0)
    >>> net = ConvNet(width=0.25).eval()      # untrained, narrow: 8, 16 and 128 units
    >>> x = torch.randn(20, 3, 32, 32)       # 20 images
    >>> bottom, top = split(net, "dense")
    >>> accuracy(top, bottom(x), net(x).argmax(1))   # the network's own predictions
    1.0
    """
    a = torch.as_tensor(a)
    predicted = torch.cat([top.eval()(a[i:i + batch_size]).argmax(1) for i in range(0, len(a), batch_size)]).numpy()
    return float(np.mean(predicted == np.asarray(labels)))


class _Stitch(nn.Module):
    """A trainable affine map of a layer's channels (a 1x1 convolution) or units."""

    def __init__(self, M, mu_a, mu_b):
        super().__init__()
        self.M = nn.Parameter(torch.as_tensor(M, dtype=torch.float32).clone())
        self.mu_a = torch.as_tensor(mu_a, dtype=torch.float32)
        self.mu_b = nn.Parameter(torch.as_tensor(mu_b, dtype=torch.float32).clone())

    def forward(self, a):
        return apply_map((self.M, self.mu_a, self.mu_b), a)


def train_map(top: nn.Module, a: ArrayLike | torch.Tensor, labels: ArrayLike, init: Stitch, epochs: int = 3, lr: float = 1e-3,
              batch_size: int = 64, seed: int = 0) -> Stitch:
    """Bansal et al.'s stitching layer: the affine map of :func:`apply_map`, started from ``init``
    = ``(M, mu_a, mu_b)`` and trained by Adam on cross-entropy through ``top`` (network B's upper
    layers, frozen and in eval mode) on the layer outputs ``a`` with ``labels``.  ``mu_a`` stays
    fixed.  Afterwards ``top``'s parameters require gradients as they did before, ``top`` stays
    in eval mode, and torch's global generator has been seeded with ``seed``.

    Returns
    -------
    Stitch
        The trained ``(M, mu_a, mu_b)``, as float64 arrays.

    Examples
    --------
    A 4-unit layer read out by a linear head, stitched in through a wrong (reversed) map:

    >>> import numpy as np, torch
    >>> _ = torch.manual_seed(0)
    >>> head = torch.nn.Linear(4, 3)
    >>> a = torch.randn(60, 4)
    >>> labels = head(a).argmax(1)
    >>> init = (np.eye(4)[::-1].copy(), np.zeros(4), np.zeros(4))
    >>> round(accuracy(head, apply_map(init, a), labels), 2)
    0.28
    >>> M, mu_a, mu_b = train_map(head, a, labels, init, epochs=20, lr=0.05, batch_size=20)
    >>> M.shape, accuracy(head, apply_map((M, mu_a, mu_b), a), labels) > 0.8
    ((4, 4), True)
    """
    torch.manual_seed(seed)
    stitch = _Stitch(*init)
    trainable = [p.requires_grad for p in top.parameters()]
    top.eval().requires_grad_(False)
    opt = torch.optim.Adam(stitch.parameters(), lr=lr)
    a, labels = torch.as_tensor(a), torch.as_tensor(np.asarray(labels))
    order = torch.Generator().manual_seed(seed)
    try:
        for _ in range(epochs):
            for idx in torch.randperm(len(a), generator=order).split(batch_size):
                opt.zero_grad()
                nn.functional.cross_entropy(top(stitch(a[idx])), labels[idx]).backward()
                opt.step()
    finally:
        for p, was in zip(top.parameters(), trainable):
            p.requires_grad_(was)
    return stitch.M.detach().double().numpy(), stitch.mu_a.double().numpy(), stitch.mu_b.detach().double().numpy()
