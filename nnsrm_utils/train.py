"""Seeded training of one network, with checkpoints at the logged epochs and resume.

Everything a network's training depends on derives from its seed: the initial weights
(``torch.manual_seed(seed)`` before the model is built), the order of the examples and the
augmentation of each epoch (generators seeded by ``(seed, epoch)``), and dropout (torch's
global generator, whose state is saved with every checkpoint).  So a run that is
interrupted and resumed ends with the same weights as one that is not (on the same machine).

Files, in ``net_dir``: ``epoch_000.pt`` ... (weights at each logged epoch; epoch 0 is the
initialisation), ``state.pt`` (everything needed to resume, rewritten after every epoch),
``history.json`` (loss and accuracy per epoch).  All loads use ``weights_only=True``.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from .models import build_model


@dataclass(frozen=True)
class TrainConfig:
    """How one network is trained (the profiles in :mod:`nnsrm_utils.profiles` fill it in).

    ``model_kwargs`` go to :func:`~nnsrm_utils.models.build_model`; weights are saved at the
    ``logged_epochs`` (0: the initialisation); the learning rate drops by ``plateau_factor``
    after ``plateau_patience`` epochs without a lower training loss, down to ``min_lr``.

    Examples
    --------
    A ConvNet of an eighth of the width, trained for 2 epochs:

    >>> config = TrainConfig(model_kwargs={"width": 0.125}, epochs=2, logged_epochs=(0, 2))
    >>> config.optimizer, config.lr, config.batch_size
    ('rmsprop', 0.0001, 32)
    """

    architecture: str = "convnet"
    n_classes: int = 10
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 50
    logged_epochs: tuple = (0, 1, 2, 4, 6, 9, 14, 21, 32, 50)
    batch_size: int = 32
    optimizer: str = "rmsprop"      # "rmsprop" (ConvNet) or "adam" (ResNet18)
    lr: float = 1e-4
    l2: float = 0.0                 # Keras-style L2 penalty l2 * sum(w^2) on conv/dense weights
    augment: bool = False           # random shifts of up to 10% and horizontal flips
    plateau_factor: float = math.sqrt(0.1)
    plateau_patience: int = 5
    min_lr: float = 1e-5


def _optimizer(config, model):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]   # kernels, not biases or BN
    rest = [p for n, p in model.named_parameters() if p.ndim <= 1]
    # Keras adds l2 * ||w||^2 to the loss: its gradient is 2 * l2 * w.
    groups = [{"params": decay, "weight_decay": 2 * config.l2}, {"params": rest, "weight_decay": 0.0}]
    if config.optimizer == "rmsprop":  # Keras' RMSprop: rho 0.9, epsilon 1e-7
        return torch.optim.RMSprop(groups, lr=config.lr, alpha=0.9, eps=1e-7)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, eps=1e-7)
    raise ValueError(f"optimizer must be 'rmsprop' or 'adam'; got {config.optimizer!r}")


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 3 pixels (10% of 32) with zero padding, and horizontal flips.

    Parameters
    ----------
    x : torch.Tensor
        ``(n, C, H, W)`` images on the CPU.
    generator : torch.Generator
        The CPU generator the shifts and flips are drawn from (shifts first, then flips).

    Returns
    -------
    torch.Tensor
        ``(n, C, H, W)``: each image shifted by up to 3 pixels each way and flipped with
        probability 1/2.

    Examples
    --------
    >>> import torch
    >>> augment(torch.arange(4.0).reshape(1, 1, 2, 2), torch.Generator().manual_seed(0))
    tensor([[[[3., 2.],
              [0., 0.]]]])
    """
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (3, 3, 3, 3))
    dy, dx = (torch.randint(0, 7, (2, n), generator=generator))
    rows = (torch.arange(h)[None, :] + dy[:, None])[:, None, :, None]
    cols = (torch.arange(w)[None, :] + dx[:, None])[:, None, None, :]
    out = padded[torch.arange(n)[:, None, None, None], torch.arange(x.shape[1])[None, :, None, None], rows, cols]
    flip = torch.rand(n, generator=generator) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def _checkpoint_path(net_dir, epoch):
    """Where a network's weights after ``epoch`` are kept (epoch 0: its initialisation)."""
    return Path(net_dir) / f"epoch_{epoch:03d}.pt"


def _check_logged(net_dir, config, epoch):
    """Refuse to resume a network whose ``state.pt`` says it reached ``epoch`` while a logged
    checkpoint up to it is missing (a folder copied or synced to Google Drive only in part, or an
    epoch added to the logged ones after training passed it): it would count as trained and fail
    later, at recording."""
    missing = [e for e in config.logged_epochs if e <= epoch and not _checkpoint_path(net_dir, e).exists()]
    if missing:
        raise ValueError(f"{net_dir} was trained to epoch {epoch} but lacks the checkpoints of epochs {missing} "
                         "(a copy or a Drive sync cut short, or epochs logged only now): delete the folder to "
                         "train this network again")


def _save(obj, path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint


def train_network(config: TrainConfig, x_train: ArrayLike | torch.Tensor, y_train: ArrayLike | torch.Tensor,
                  seed: int, net_dir: str | os.PathLike, device: str | torch.device | None = None,
                  progress: Callable[[int, dict], None] | None = None) -> nn.Module:
    """Train (or resume, or just load) one network; returns the model in eval mode.

    Epochs whose state ``net_dir`` already holds are not trained again: a finished network
    is only loaded, an interrupted one resumes after its last epoch.

    Parameters
    ----------
    config : TrainConfig
        Architecture and training.
    x_train : array_like or torch.Tensor
        float32 ``(n, 3, 32, 32)`` training images.
    y_train : array_like or torch.Tensor
        int64 ``(n,)`` labels.
    seed : int
        Fixes the initial weights, the example order, the augmentation and dropout.
    net_dir : str or os.PathLike
        The network's folder (created when missing).
    device : str or torch.device, optional
        Default: CUDA when available, else the CPU.
    progress : callable, optional
        ``progress(epoch, history_row)`` after every epoch trained.

    Returns
    -------
    torch.nn.Module
        The model after ``config.epochs`` epochs, in eval mode, on ``device``.

    Raises
    ------
    ValueError
        For an unknown optimizer or architecture.

    Examples
    --------
    An eighth-width ConvNet trained for one epoch of two steps on 8 random images:

    >>> import tempfile, torch
    >>> config = TrainConfig(model_kwargs={"width": 0.125}, epochs=1, logged_epochs=(0, 1), batch_size=4)
    >>> x, y = torch.randn(8, 3, 32, 32), torch.arange(8)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     model = train_network(config, x, y, seed=0, net_dir=tmp, device="cpu")
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['epoch_000.pt', 'epoch_001.pt', 'history.json', 'state.pt']
    """
    net_dir = Path(net_dir)
    net_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    x_train, y_train = torch.as_tensor(x_train), torch.as_tensor(y_train)
    if device.type == "cuda":  # cuDNN's fastest convolutions are not reproducible from run to run
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    torch.manual_seed(seed)
    model = build_model(config.architecture, config.n_classes, **config.model_kwargs).to(device)
    opt = _optimizer(config, model)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=config.plateau_factor, patience=config.plateau_patience, min_lr=config.min_lr)
    history, start = [], 1
    state_path = net_dir / "state.pt"
    if state_path.exists():
        # on the CPU: the RNG state must stay there; the model and optimizer copy theirs to the device
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        _check_logged(net_dir, config, state["epoch"])
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        plateau.load_state_dict(state["plateau"])
        torch.set_rng_state(state["rng"])
        if device.type == "cuda" and "cuda_rng" in state:  # dropout draws from the device's generator
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        history, start = json.loads(state["history"]), state["epoch"] + 1
    elif 0 in config.logged_epochs:
        _save(model.state_dict(), _checkpoint_path(net_dir, 0))
    for epoch in range(start, config.epochs + 1):
        row = _train_epoch(config, model, opt, x_train, y_train, seed, epoch, device)
        plateau.step(row["loss"])  # on the training loss: the test images stay unseen
        row["lr"] = opt.param_groups[0]["lr"]
        history.append(row)
        if epoch in config.logged_epochs:
            _save(model.state_dict(), _checkpoint_path(net_dir, epoch))
        _save({"model": model.state_dict(), "optimizer": opt.state_dict(), "plateau": plateau.state_dict(),
               "rng": torch.get_rng_state(), "epoch": epoch, "history": json.dumps(history),
               "config": json.dumps(asdict(config)),
               **({"cuda_rng": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {})}, state_path)
        (net_dir / "history.json").write_text(json.dumps(history))  # a readable copy of the state's
        if progress:
            progress(epoch, row)
    return model.eval()


def _epoch_generator(seed, epoch):
    """The generator of a network's example order and augmentation in one epoch (also the batched path's)."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))


def _train_epoch(config, model, opt, x, y, seed, epoch, device):
    model.train()
    generator = _epoch_generator(seed, epoch)
    order = torch.randperm(len(x), generator=generator)
    total, correct, n = 0.0, 0, 0
    for start in range(0, len(x), config.batch_size):
        idx = order[start:start + config.batch_size]
        xb, yb = x[idx], y[idx]
        if config.augment:
            xb = augment(xb, generator)
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = nn.functional.cross_entropy(out, yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
        correct += (out.argmax(1) == yb).sum().item()
        n += len(idx)
    return {"epoch": epoch, "loss": total / n, "accuracy": correct / n}


def load_weights(config: TrainConfig, net_dir: str | os.PathLike, epoch: int,
                 device: str | torch.device = "cpu") -> nn.Module:
    """The network as it was at a logged epoch.

    Parameters
    ----------
    config : TrainConfig
        The configuration it was trained with (its architecture).
    net_dir : str or os.PathLike
        The network's folder (:func:`train_network`).
    epoch : int
        A logged epoch (0: the initialisation).
    device : str or torch.device
        Where the weights are loaded.

    Returns
    -------
    torch.nn.Module
        The model, in eval mode.

    Raises
    ------
    FileNotFoundError
        If ``net_dir`` holds no checkpoint of ``epoch``.

    Examples
    --------
    A checkpoint of an initialisation written by hand, as :func:`train_network` writes it:

    >>> import tempfile, torch
    >>> from nnsrm_utils.models import build_model
    >>> config = TrainConfig(model_kwargs={"width": 0.125})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     torch.save(build_model("convnet", width=0.125).state_dict(), Path(tmp) / "epoch_000.pt")
    ...     model = load_weights(config, tmp, 0)
    ...     load_weights(config, tmp, 1)
    Traceback (most recent call last):
    ...
    FileNotFoundError: no checkpoint for epoch 1 in ... (logged: (0, 1, 2, 4, 6, 9, 14, 21, 32, 50)); if ...
    >>> model.training
    False
    """
    path = _checkpoint_path(net_dir, epoch)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint for epoch {epoch} in {net_dir} (logged: {config.logged_epochs}); "
                                "if training reached it, the folder is incomplete (a copy or a Drive sync cut "
                                "short): delete the folder to train this network again")
    model = build_model(config.architecture, config.n_classes, **config.model_kwargs)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: ArrayLike | torch.Tensor, y: ArrayLike | torch.Tensor, batch_size: int = 500,
             device: str | torch.device = "cpu") -> float:
    """The share of the images ``x`` whose labels ``y`` the model predicts, in eval mode.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of ``x`` to ``(batch, n_classes)`` logits; left in eval mode on ``device``.
    x : array_like or torch.Tensor
        ``(n, ...)`` inputs, e.g. float32 ``(n, 3, 32, 32)`` images.
    y : array_like or torch.Tensor
        ``(n,)`` integer labels.
    batch_size : int
        Inputs per forward pass.
    device : str or torch.device
        Where the model runs.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    A "model" whose logits are its one-hot inputs, right on three of four:

    >>> import torch
    >>> accuracy(torch.nn.Identity(), torch.eye(3)[[0, 1, 2, 0]], torch.tensor([0, 1, 2, 1]))
    0.75
    """
    model.eval().to(device)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    hits = sum((model(x[i:i + batch_size].to(device)).argmax(1).cpu() == y[i:i + batch_size]).sum().item()
               for i in range(0, len(x), batch_size))
    return hits / len(x)
