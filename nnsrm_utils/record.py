"""Record layer activations through forward hooks, streamed to disk with a manifest.

Format (one folder per recording):

- ``<layer>.npy``: float32 ``(n_units, n_examples)``, the paper's layout, written batch by
  batch into a memory-mapped file, so nothing larger than one batch is held in memory;
- ``manifest.json``: for each layer its file, shape, SHA-256 and, if units were subsampled,
  the kept unit indices; plus whatever ``metadata`` the caller passes (seeds, profile,
  dataset label, package versions).

Loading needs only numpy: the analyses never import torch.

:func:`load_activations` reads with ``allow_pickle=False`` and checks the shape and the
checksum against the manifest, so a corrupted or mismatched file is an error, not a result.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # torch for the type hints only: loading a recording needs numpy alone
    import torch
    from torch import nn

MANIFEST = "manifest.json"


def versions() -> dict[str, str]:
    """Package versions that travel with every result.

    Returns
    -------
    dict
        ``{package: version}`` for Python, numpy, scipy, torch, torchvision and this package.

    Examples
    --------
    >>> sorted(versions())
    ['nnsrm_utils', 'numpy', 'python', 'scipy', 'torch', 'torchvision']
    """
    import scipy
    import torch
    import torchvision

    from . import __version__

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "torch": torch.__version__, "torchvision": torchvision.__version__, "nnsrm_utils": __version__}


def sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """The SHA-256 of a file, read in chunks of ``chunk`` bytes, as 64 hexadecimal digits.

    Returns
    -------
    str
        The digest in lower-case hexadecimal, as ``sha256sum`` prints it.

    Raises
    ------
    OSError
        If ``path`` cannot be read (``FileNotFoundError`` if it does not exist).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "hello.txt"
    ...     _ = path.write_text("hello")
    ...     print(sha256(path)[:16])
    2cf24dba5fb0a30e
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def subsample_units(n_units: int, max_units: int | None, seed: int | Sequence[int]) -> NDArray[np.intp] | None:
    """Seeded choice of at most ``max_units`` unit indices (sorted), or None to keep all.

    The authors cut layers above 1,000 units to 1,000 random units, unseeded and different
    per network; here the choice is seeded (pass a different seed per network to match them).

    Parameters
    ----------
    n_units : int
        The layer's number of units.
    max_units : int or None
        How many to keep at most (None: all).
    seed : int or sequence of int
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray or None
        ``(max_units,)`` sorted, distinct indices in ``range(n_units)``; None when
        ``max_units`` is None or at least ``n_units``.

    Examples
    --------
    >>> subsample_units(10, 4, seed=0)
    array([2, 4, 5, 7])
    >>> subsample_units(3, 4, seed=0) is None
    True
    """
    if max_units is None or n_units <= max_units:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_units, max_units, replace=False))


def record_activations(model: nn.Module, layers: Mapping[str, nn.Module], x: ArrayLike | torch.Tensor,
                       out_dir: str | os.PathLike, batch_size: int = 500, max_units: int | None = None,
                       unit_seed: int = 0, metadata: dict | None = None, device: str = "cpu") -> dict:
    """Run ``x`` through ``model`` and write the outputs of ``layers`` (name -> module).

    Each layer's output is flattened per example (a conv layer's channels x positions are its
    units).  ``max_units`` keeps a seeded random subset of units per layer (seed derived from
    ``unit_seed`` and the layer's position).  The files are written to ``out_dir`` as the module
    describes; the model is left in eval mode on ``device``.

    Returns
    -------
    dict
        The manifest: ``metadata`` (``metadata`` and :func:`versions`) and ``layers``
        (``{name: {"file", "shape", "sha256", "units_kept"}}``).

    Raises
    ------
    ValueError
        If one of ``layers`` runs more than once in a forward pass (which output to record
        would be ambiguous).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 5))
    >>> x = torch.randn(8, 3, 8, 8)   # 8 images, 3 channels, 8 x 8 pixels
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = record_activations(model, {"conv": model[1], "dense": model[3]}, x, folder, batch_size=3,
    ...                                   max_units=10, metadata={"seed": 0})
    ...     dense = load_activations(folder, "dense")
    >>> manifest["layers"]["conv"]["shape"], manifest["layers"]["dense"]["shape"], dense.shape
    ([10, 8], [5, 8], (5, 8))
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, keep = {}, {}
    for start, name, out, kept in _kept_units(model, layers, x, batch_size, device, max_units, unit_seed):
        if name not in files:
            keep[name] = kept
            files[name] = np.lib.format.open_memmap(out_dir / f"{name}.npy.partial", mode="w+",
                                                    dtype=np.float32, shape=(len(out), len(x)))
        files[name][:, start:start + out.shape[1]] = out
    manifest = {"metadata": {**(metadata or {}), "versions": versions()}, "layers": {}}
    for name, arr in files.items():
        arr.flush()
        shape = list(arr.shape)
        del arr
        final = out_dir / f"{name}.npy"
        os.replace(out_dir / f"{name}.npy.partial", final)
        manifest["layers"][name] = {"file": final.name, "shape": shape, "sha256": sha256(final),
                                    "units_kept": None if keep[name] is None else keep[name].tolist()}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def layer_outputs(model: nn.Module, layers: Mapping[str, nn.Module], x: ArrayLike | torch.Tensor, batch_size: int = 500,
                  max_units: int | None = None, unit_seed: int = 0, device: str = "cpu") -> dict[str, NDArray[np.float32]]:
    """The outputs of ``layers`` (name -> module) on ``x``, in memory: name -> ``(n_units, n_examples)``
    float32, flattened and with the same units kept as :func:`record_activations` would write.

    Returns
    -------
    dict of str to numpy.ndarray
        Per layer, float32 ``(n_units, n_examples)``, ``n_units`` at most ``max_units``.

    Raises
    ------
    ValueError
        If one of ``layers`` runs more than once in a forward pass.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 5))
    >>> x = torch.randn(8, 3, 8, 8)   # 8 images, 3 channels, 8 x 8 pixels
    >>> acts = layer_outputs(model, {"conv": model[1], "dense": model[3]}, x)
    >>> {name: a.shape for name, a in acts.items()}   # the conv layer: 2 channels x 6 x 6 positions
    {'conv': (72, 8), 'dense': (5, 8)}
    >>> layer_outputs(model, {"conv": model[1]}, x, max_units=10)["conv"].shape
    (10, 8)
    """
    parts = {name: [] for name in layers}
    for _, name, out, _ in _kept_units(model, layers, x, batch_size, device, max_units, unit_seed):
        parts[name].append(out)
    return {name: np.concatenate(p, axis=1) for name, p in parts.items()}


def _kept_units(model, layers, x, batch_size, device, max_units, unit_seed):
    """``(start, name, output, kept)`` per batch and layer: each example's output flattened (a conv
    layer's channels x positions are its units) and cut to a seeded subset of at most
    ``max_units`` units (seed derived from ``unit_seed`` and the layer's position; ``kept`` the
    indices, or None for all)."""
    keep = {}
    for start, outputs in _layer_outputs(model, layers, x, batch_size, device):
        for li, (name, out) in enumerate(outputs.items()):
            out = out.reshape(len(out), -1).T  # (units, batch)
            if name not in keep:
                keep[name] = subsample_units(out.shape[0], max_units, [unit_seed, li])
            yield start, name, (out if keep[name] is None else out[keep[name]]), keep[name]


def neuron_activity(model: nn.Module, layers: Mapping[str, nn.Module], x: ArrayLike | torch.Tensor,
                    max_positions: int = 10_000, random_state: int = 0, batch_size: int = 500,
                    device: str = "cpu") -> dict[str, NDArray[np.float32]]:
    """Wang et al.'s neurons of ``layers`` (name -> module), in memory: name -> ``(n_neurons, n_points)``.

    A conv output's channel is one neuron whose data points are (example, position) pairs, of
    which ``max_positions`` are kept, drawn with ``random_state`` (so every network whose layer
    has the same shape gets the same points); a flat output's unit is a neuron over examples.
    The points are gathered batch by batch: the full feature maps are never held.

    Returns
    -------
    dict of str to numpy.ndarray
        Per layer, float32 ``(n_neurons, n_points)``: ``n_neurons`` channels and
        ``min(max_positions, n_examples * positions)`` points (in example order) for a conv
        output, and ``(n_units, n_examples)`` for a flat one.

    Raises
    ------
    ValueError
        If one of ``layers`` runs more than once in a forward pass.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 5))
    >>> x = torch.randn(8, 3, 8, 8)   # 8 images, 3 channels, 8 x 8 pixels
    >>> acts = neuron_activity(model, {"conv": model[1], "dense": model[3]}, x, max_positions=100)
    >>> {name: a.shape for name, a in acts.items()}   # of the 8 x 36 (image, position) points, 100 kept
    {'conv': (2, 100), 'dense': (5, 8)}
    """
    parts, keep = {name: [] for name in layers}, {}
    for start, outputs in _layer_outputs(model, layers, x, batch_size, device):
        for name, out in outputs.items():
            parts[name].append(_points(out, start, len(x), keep, name, max_positions, random_state))
    return {name: np.concatenate(p, axis=1) for name, p in parts.items()}


def _layer_outputs(model, layers, x, batch_size, device):
    """``(start, {name: output})`` for each batch of ``x`` run through ``model`` (eval mode, no
    gradients): the outputs of ``layers`` (name -> module) as float32 arrays, copied by forward
    hooks as each module returns, and the hooks removed afterwards."""
    import torch

    model.eval().to(device)
    x = torch.as_tensor(x)
    captured = {}

    def hook(name):
        def keep(module, inputs, output):
            if name in captured:
                raise ValueError(f"layer {name!r} ran more than once in one forward pass (a module the model reuses): "
                                 "which output to record is ambiguous; hook a module that runs once")
            # a copy, now: a later in-place operation (e.g. ReLU(inplace=True)) must not change it
            captured[name] = output.detach().to("cpu", torch.float32, copy=True).numpy()
        return keep

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    try:
        for start in range(0, len(x), batch_size):
            captured.clear()
            # cuDNN convolutions in float32 default to TF32 (10-bit mantissa, 1e-3 relative on CUDA):
            # the recorded geometry gets full float32, and the same values from run to run
            with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
                model(x[start:start + batch_size].to(device))
            yield start, {name: captured[name] for name in layers}
    finally:
        for h in handles:
            h.remove()


def _points(out, start, n_examples, keep, name, max_positions, random_state):
    """One batch's data points of one layer, ``(n_neurons, points)``; ``keep`` caches the sampled conv points."""
    if out.ndim == 2:
        return out.T
    per_example = out.shape[2] * out.shape[3]
    if name not in keep:
        total = n_examples * per_example
        keep[name] = np.sort(np.random.default_rng(random_state).choice(total, min(max_positions, total), replace=False))
    lo, hi = start * per_example, (start + len(out)) * per_example
    mine = keep[name][(keep[name] >= lo) & (keep[name] < hi)] - lo
    return out.transpose(1, 0, 2, 3).reshape(out.shape[1], -1)[:, mine]


def read_manifest(folder: str | os.PathLike) -> dict:
    """The manifest of a finished recording (see :func:`record_activations`).

    Returns
    -------
    dict
        ``manifest.json`` as written: ``metadata`` and ``layers``.

    Raises
    ------
    FileNotFoundError
        If ``folder`` has no manifest: the recording is not finished.
    ValueError
        If the manifest is not valid JSON (a damaged copy).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     read_manifest(folder)
    Traceback (most recent call last):
        ...
    FileNotFoundError: no manifest.json in ...: not a finished recording
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"no {MANIFEST} in {folder}: not a finished recording")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is damaged ({err}); delete the folder to record it again") from err


def load_activations(folder: str | os.PathLike, layer: str, verify: bool = True,
                     mmap: bool = False) -> NDArray[np.float32]:
    """One recorded layer, ``(n_units, n_examples)`` float32, checked against the manifest.

    ``verify=False`` skips the checksum (the shape is still checked); ``mmap=True`` maps the
    file read-only instead of reading it.

    Returns
    -------
    numpy.ndarray, float32, shape ``(n_units, n_examples)``
        The layer's activations (a read-only :class:`numpy.memmap` with ``mmap=True``).

    Raises
    ------
    FileNotFoundError
        If ``folder`` has no manifest.
    KeyError
        If ``layer`` was not recorded.
    ValueError
        If the file does not match its checksum or its shape in the manifest.

    Examples
    --------
    >>> import tempfile, torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
    >>> x = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = record_activations(model, {"relu": model[1]}, x, folder)
    ...     relu = load_activations(folder, "relu")
    ...     load_activations(folder, "linear")
    Traceback (most recent call last):
        ...
    KeyError: "layer 'linear' was not recorded in ..."
    >>> relu.shape, relu.dtype
    ((4, 10), dtype('float32'))
    """
    folder = Path(folder)
    entry = read_manifest(folder)["layers"].get(layer)
    if entry is None:
        raise KeyError(f"layer {layer!r} was not recorded in {folder}")
    path = folder / entry["file"]
    if verify and sha256(path) != entry["sha256"]:
        raise ValueError(f"{path} does not match its checksum in the manifest: the file is corrupted or replaced")
    arr = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    if list(arr.shape) != entry["shape"]:
        raise ValueError(f"{path} has shape {arr.shape}, the manifest says {entry['shape']}")
    return arr
