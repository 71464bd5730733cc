"""The networks of one run (same architecture and configuration, different seeds) trained as one model.

On a GPU the networks of a run are small next to the device, so training them one after another
is expected to leave it mostly idle, waiting on kernel launches (not yet measured here).  Here the ``N`` networks are one model: a convolution of all of
them is one ``conv2d(..., groups=N)`` on inputs whose channels hold the ``N`` networks' batches
side by side, ``(B, N*C, H, W)``; a dense layer is one batched matrix product; a batch norm runs
over the ``N*C`` channels.  Each network still has its own parameters (views into the stacked
tensors), its own optimizer and learning-rate schedule, and its own loss, so its gradients and
updates are its own.

Everything :func:`nnsrm_utils.train.train_network` guarantees still holds, network by network:
the seed fixes the initial weights (``torch.manual_seed(seed)``, then the model is built exactly
as there), the example order and the augmentation (the same per-(seed, epoch) generator and the
same draws) and the dropout masks (a generator per network, started from the state the global
generator has after the model is built, so on the CPU the masks are the single path's own); the
checkpoints are the same files (``epoch_XXX.pt``: the single model's ``state_dict``;
``state.pt``; ``history.json``), so :func:`~nnsrm_utils.train.load_weights`, recording and the
analyses read them unchanged.  A network's result depends on its own seed only, not on which
networks train beside it.  A run interrupted between two networks' checkpoints resumes each
network from its own last epoch (the networks behind first, as a group of their own).

On CUDA the training images stay on the device, augmentation happens there, the convolutions
and products run in bfloat16 on GPUs that support it natively (``mixed_precision``; batch-norm statistics, the loss and the
softmax stay in float32) in channels-last memory, and the dropout masks come from per-network
CUDA generators: the single path's fused dropout kernel draws differently, so there a network
can match its one-at-a-time twin only in statistics, not weight by weight.  The CUDA path has
not been run on a GPU yet (its pieces are tested on the CPU, bfloat16 autocast included); if
it fails, ``run_experiment(..., batched=False)`` (``--no-batched``) trains one at a time.  On the CPU batching does
not pay: :func:`~nnsrm_utils.experiment.run_experiment` trains one network at a time there.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn import functional as F

from ._validate import check_device
from .models import ConvNet, PreActResNet18, build_model
from .train import TrainConfig, _check_logged, _checkpoint_path, _epoch_generator, _optimizer, _save

#: Fields a network's folder may differ in and still be resumed: training it for longer.
_RESUMABLE = ("epochs", "logged_epochs")


class BatchedNetworks:
    """``N`` models of one architecture run as one: stacked parameters, one forward pass for all.

    Built from single models (:func:`~nnsrm_utils.models.build_model`); their parameters and
    batch-norm buffers become views into stacked tensors (convolutions and batch norms
    concatenated along the channels, dense layers stacked), so an optimizer of each model
    updates the stacked model in place.  :meth:`forward` takes ``(N, B, 3, H, W)`` images, network
    ``i``'s batch at ``[i]``, and returns ``(N, B, n_classes)`` logits.  After a backward pass,
    :meth:`attach_grads` hands each model its share of the stacked gradients;
    :meth:`unstack` gives the models storage of their own again.  ``generators`` (one per model,
    on the models' device) draw the dropout masks, filled in the memory order ``mask_format`` (the
    single path's activations follow its images' layout, and a mask is drawn in that order);
    ``channels_last`` keeps convolutions in channels-last memory (for CUDA).  ``training``
    switches dropout and batch statistics on.

    Raises
    ------
    ValueError
        If there is not one generator per model, no model, or the models differ in
        architecture (layers or their shapes).

    Examples
    --------
    >>> import torch
    >>> from nnsrm_utils.models import build_model
    >>> models = [build_model("convnet", width=0.125) for _ in range(3)]
    >>> net = BatchedNetworks(models, [torch.Generator() for _ in models], training=False)
    >>> x = torch.randn(3, 2, 3, 32, 32)
    >>> out = net.forward(x)
    >>> out.shape
    torch.Size([3, 2, 10])
    >>> bool(torch.allclose(out[1], models[1].eval()(x[1]), atol=1e-5))
    True
    """

    def __init__(self, models: Sequence[nn.Module], generators: Sequence[torch.Generator], channels_last: bool = False,
                 training: bool = True, mask_format: torch.memory_format = torch.contiguous_format) -> None:
        if len(models) != len(generators) or not models:
            raise ValueError(f"need one generator per model and at least one model; got {len(models)} models "
                             f"and {len(generators)} generators")
        shapes = [[(k, v.shape) for k, v in m.state_dict().items()] for m in models]
        if any(type(m) is not type(models[0]) or s != shapes[0] for m, s in zip(models, shapes)):
            raise ValueError("the models must share one architecture: the same layers with the same shapes")
        self.models, self.generators, self.n = list(models), list(generators), len(models)
        self.channels_last, self.training, self.mask_format = channels_last, training, mask_format
        self._params, self._buffers, self._dense = {}, {}, set()
        for name, module in models[0].named_modules():
            peers = [m.get_submodule(name) for m in models]
            stack = isinstance(module, nn.Linear)  # dense layers: (N, out, in) for a batched product
            if stack:
                self._dense.add(name)
            for attr, _ in module.named_parameters(recurse=False):
                self._params[name, attr] = self._stacked(peers, attr, stack, leaf=True)
            for attr, _ in module.named_buffers(recurse=False):
                self._buffers[name, attr] = self._stacked(peers, attr, stack, leaf=False)
        assert len(self._params) * self.n == sum(1 for m in models for _ in m.parameters())

    def _stacked(self, peers, attr, stack, leaf):
        parts = [getattr(m, attr).detach() for m in peers]
        big = torch.stack(parts) if stack or parts[0].ndim == 0 else torch.cat(parts)
        if self.channels_last and big.ndim == 4:
            big = big.contiguous(memory_format=torch.channels_last)
        views = big.unbind(0) if stack or parts[0].ndim == 0 else big.split(len(parts[0]))
        for m, view in zip(peers, views):
            if leaf:
                getattr(m, attr).data = view  # still the model's own leaf, now stored inside ``big``
            else:
                setattr(m, attr, view)
        return big.requires_grad_(leaf)

    def attach_grads(self) -> None:
        """Give every model's parameter its share of the stacked gradient (views, no copies)."""
        for (name, attr), big in self._params.items():
            grads = big.grad.unbind(0) if name in self._dense else big.grad.split(len(big) // self.n)
            for m, g in zip(self.models, grads):
                getattr(m.get_submodule(name), attr).grad = g
            big.grad = None

    def unstack(self) -> list[nn.Module]:
        """The models, each with parameters and buffers of its own again (copies of the stacked values)."""
        for (name, attr) in self._params:
            for m in self.models:
                p = getattr(m.get_submodule(name), attr)
                p.data = p.data.clone(memory_format=torch.contiguous_format)
        for (name, attr) in self._buffers:
            for m in self.models:
                module = m.get_submodule(name)
                setattr(module, attr, getattr(module, attr).clone(memory_format=torch.contiguous_format))
        return self.models

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, B, C, H, W)`` images -> ``(N, B, n_classes)`` logits, network ``i`` seeing ``x[i]`` only."""
        n, b = x.shape[:2]
        h = x.transpose(0, 1).reshape(b, n * x.shape[2], *x.shape[3:])  # channels: network by network
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        if isinstance(self.models[0], PreActResNet18):
            return self._resnet(self.models[0], h)
        return self._layer("", self.models[0], h)  # the ConvNet: its children in order

    def _layer(self, name, module, h):
        prefix = f"{name}." if name else ""
        if isinstance(module, (nn.Sequential, ConvNet)):
            for child, sub in module.named_children():
                h = self._layer(prefix + child, sub, h)
            return h
        if isinstance(module, nn.Conv2d):
            return F.conv2d(h, self._params[name, "weight"], self._params.get((name, "bias")), module.stride,
                            module.padding, module.dilation, module.groups * self.n)
        if isinstance(module, nn.BatchNorm2d):
            if self.training:
                self._buffers[name, "num_batches_tracked"].add_(1)
            return F.batch_norm(h, self._buffers[name, "running_mean"], self._buffers[name, "running_var"],
                                self._params[name, "weight"], self._params[name, "bias"], self.training,
                                module.momentum, module.eps)
        if isinstance(module, nn.Linear):  # h: (N, B, in)
            return torch.baddbmm(self._params[name, "bias"].unsqueeze(1), h,
                                 self._params[name, "weight"].transpose(1, 2))
        if isinstance(module, nn.Flatten):  # (B, N*C, H, W) -> (N, B, C*H*W), each network's in C order
            return h.reshape(h.shape[0], self.n, -1).transpose(0, 1)
        if isinstance(module, nn.Dropout):
            return self._dropout(h, module.p)
        if isinstance(module, nn.ReLU):
            return torch.relu(h)
        if isinstance(module, nn.MaxPool2d):
            return F.max_pool2d(h, module.kernel_size, module.stride, module.padding, module.dilation,
                                module.ceil_mode)
        if isinstance(module, nn.Identity):
            return h
        raise TypeError(f"no batched version of {type(module).__name__} ({name})")

    def _dropout(self, h, p):
        """Each network's mask from its own generator, drawn as ``torch.nn.functional.dropout`` draws on the CPU."""
        if not self.training or p == 0:
            return h
        conv = h.ndim == 4
        shape = (h.shape[0], h.shape[1] // self.n, *h.shape[2:]) if conv else h.shape[1:]
        layout = self.mask_format if conv else torch.contiguous_format
        keep = [torch.empty(shape, device=h.device, memory_format=layout).bernoulli_(1 - p, generator=g)
                for g in self.generators]
        noise = (torch.cat(keep, 1) if conv else torch.stack(keep)).div_(1 - p)
        return (h.float() * noise).to(h.dtype)  # scaled in float32: 1 / (1 - p) is not a bfloat16

    def _resnet(self, model, h):
        """:meth:`PreActResNet18.forward <nnsrm_utils.models.PreActResNet18.forward>`, batched."""
        h = self._layer("pool", model.pool, torch.relu(self._layer("stem_bn", model.stem_bn,
                                                                   self._layer("stem", model.stem, h))))
        for i, block in enumerate(model.blocks):
            name = f"blocks.{i}"
            out = torch.relu(self._layer(f"{name}.bn1", block.bn1, h)) if block.bn1 is not None else h
            skip = self._layer(f"{name}.shortcut", block.shortcut, out if block.bn1 is not None else h) \
                if block.shortcut is not None else h
            out = self._layer(f"{name}.conv1", block.conv1, out)
            out = self._layer(f"{name}.conv2", block.conv2, torch.relu(self._layer(f"{name}.bn2", block.bn2, out)))
            h = out + skip
        h = torch.relu(self._layer("final_bn", model.final_bn, h)).mean(dim=(2, 3))
        return self._layer("head", model.head, h.reshape(h.shape[0], self.n, -1).transpose(0, 1))


def shift_and_flip(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """:func:`nnsrm_utils.train.augment` for many networks' batches at once, from its draws, on ``x``'s device.

    Parameters
    ----------
    x : torch.Tensor
        ``(N, B, C, H, W)`` images.
    dy, dx : torch.Tensor
        ``(N, B)`` integer shifts in ``[0, 6]`` (3: none), the rows and columns of the
        zero-padded image where the shifted one starts.
    flip : torch.Tensor
        ``(N, B)`` booleans: flip horizontally (after shifting).

    Returns
    -------
    torch.Tensor
        ``(N, B, C, H, W)``: exactly what :func:`~nnsrm_utils.train.augment` returns for the same draws.

    Examples
    --------
    >>> import torch
    >>> x = torch.arange(4.).reshape(1, 1, 1, 2, 2)
    >>> shift_and_flip(x, torch.tensor([[3]]), torch.tensor([[4]]), torch.tensor([[True]]))[0, 0, 0]
    tensor([[0., 1.],
            [0., 3.]])
    """
    c, h, w = x.shape[2:]
    padded = F.pad(x, (3, 3, 3, 3))
    rows = torch.arange(h, device=x.device) + dy[..., None]
    cols = torch.arange(w, device=x.device) + dx[..., None]
    cols = torch.where(flip[..., None], cols.flip(-1), cols)  # a flip is a reversed column index
    n_idx = torch.arange(x.shape[0], device=x.device)[:, None, None, None, None]
    b_idx = torch.arange(x.shape[1], device=x.device)[None, :, None, None, None]
    c_idx = torch.arange(c, device=x.device)[None, None, :, None, None]
    return padded[n_idx, b_idx, c_idx, rows[:, :, None, :, None], cols[:, :, None, None, :]]


def epoch_draws(seed: int, epoch: int, n_examples: int, batch_size: int,
                augment: bool) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None]:
    """A network's example order and augmentation draws for one epoch, as the single path draws them.

    One generator per ``(seed, epoch)``: the permutation first, then for each batch in turn its
    shifts and flips (:func:`nnsrm_utils.train.augment`'s draws), all made up front.

    Parameters
    ----------
    seed, epoch : int
    n_examples, batch_size : int
    augment : bool
        Whether to draw shifts and flips.

    Returns
    -------
    order : torch.Tensor
        ``(n_examples,)`` int64, the order the examples are seen in.
    draws : tuple of torch.Tensor or None
        ``(dy, dx, flip)``, each ``(n_examples,)``, aligned with ``order`` (for
        :func:`shift_and_flip`); None without augmentation.

    Examples
    --------
    >>> order, (dy, dx, flip) = epoch_draws(0, 1, 10, 4, augment=True)
    >>> sorted(order.tolist()) == list(range(10)), dy.shape, bool(dx.max() <= 6), flip.dtype
    (True, torch.Size([10]), True, torch.bool)
    """
    generator = _epoch_generator(seed, epoch)
    order = torch.randperm(n_examples, generator=generator)
    if not augment:
        return order, None
    dy, dx, flip = [], [], []
    for start in range(0, n_examples, batch_size):
        b = min(batch_size, n_examples - start)
        shift = torch.randint(0, 7, (2, b), generator=generator)
        dy.append(shift[0])
        dx.append(shift[1])
        flip.append(torch.rand(b, generator=generator) < 0.5)
    return order, (torch.cat(dy), torch.cat(dx), torch.cat(flip))


@dataclass
class _Network:
    """One network's training state inside a batched run."""

    seed: int
    net_dir: Path
    model: nn.Module
    optimizer: torch.optim.Optimizer
    plateau: torch.optim.lr_scheduler.ReduceLROnPlateau
    dropout: torch.Generator  # draws this network's dropout masks
    rng: torch.Tensor         # what train.py's checkpoints call "rng": the CPU generator's state
    history: list
    start: int


def _bfloat16_native(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: CUDA GPUs of compute capability 8.0
    (Ampere) and newer.  Older ones (a T4, a V100) emulate it slowly or refuse it."""
    return device.type == "cuda" and torch.cuda.get_device_capability(device)[0] >= 8


def train_networks(config: TrainConfig, x_train: ArrayLike, y_train: ArrayLike, seeds: Sequence[int],
                   net_dirs: Sequence[str | os.PathLike], device: str | torch.device | None = None,
                   progress: Callable[[int, list[dict]], None] | None = None,
                   mixed_precision: bool | None = None) -> list[nn.Module]:
    """Train (or resume, or just load) one network per seed, all at once; returns the models in eval mode.

    Network ``i`` is trained with ``seeds[i]`` into ``net_dirs[i]``, as
    :func:`~nnsrm_utils.train.train_network` would train it (same files; see the module's
    docstring for what is and is not identical).

    Parameters
    ----------
    config : TrainConfig
        Architecture and training, shared by all networks.
    x_train : array_like
        float32 ``(n, 3, 32, 32)`` training images.
    y_train : array_like
        int64 ``(n,)`` labels.
    seeds : sequence of int
    net_dirs : sequence of path
        One folder per seed (created when missing).
    device : str or torch.device, optional
        Default: CUDA when available, else the CPU.
    progress : callable, optional
        ``progress(epoch, rows)`` after every epoch, ``rows`` the history rows of the networks
        trained in it.
    mixed_precision : bool, optional
        bfloat16 convolutions and products (None: on CUDA GPUs that compute in bfloat16
        natively, compute capability 8.0 and newer; float32 on older ones such as Colab's T4).

    Returns
    -------
    list of torch.nn.Module
        The trained models, in the order of ``seeds``, on ``device``.

    Raises
    ------
    ValueError
        If ``seeds`` and ``net_dirs`` differ in length, are empty or repeat a folder; for an
        unknown architecture, images and labels that do not match, a CUDA device without CUDA,
        or a folder holding a network of another configuration or seed (then nothing is written).

    Examples
    --------
    >>> import tempfile, torch
    >>> from nnsrm_utils.train import TrainConfig
    >>> config = TrainConfig(model_kwargs={"width": 0.125}, epochs=1, logged_epochs=(0, 1), batch_size=4)
    >>> x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 10
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     models = train_networks(config, x, y, [0, 1], [f"{tmp}/net00", f"{tmp}/net01"], device="cpu")
    ...     sorted(p.name for p in Path(tmp, "net01").iterdir())
    ['epoch_000.pt', 'epoch_001.pt', 'history.json', 'state.pt']
    """
    seeds, net_dirs, device = _check_arguments(config, seeds, net_dirs, device)
    x_train, y_train = torch.as_tensor(x_train), torch.as_tensor(y_train)
    if x_train.ndim != 4 or y_train.ndim != 1 or len(x_train) != len(y_train) or not len(x_train):
        raise ValueError(f"need images (n, 3, H, W) and labels (n,) with the same n > 0; got shapes "
                         f"{tuple(x_train.shape)} and {tuple(y_train.shape)}")
    if device.type == "cuda":  # as train.py: cuDNN's fastest convolutions are not reproducible
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    networks = [_network(config, seed, d, device) for seed, d in zip(seeds, net_dirs)]  # checked: now write
    for net in networks:
        net.net_dir.mkdir(parents=True, exist_ok=True)
        if net.start == 1 and 0 in config.logged_epochs:
            _save(_own(net.model.state_dict()), _checkpoint_path(net.net_dir, 0))
    x_train, y_train = x_train.to(device), y_train.to(device)  # resident on the device for the whole run
    mixed = _bfloat16_native(device) if mixed_precision is None else mixed_precision
    for start in sorted({net.start for net in networks}):  # one group unless a run stopped between checkpoints
        group = [net for net in networks if net.start == start]
        if start <= config.epochs:
            _train_group(config, group, x_train, y_train, device, mixed, progress, _memory_format(x_train))
    return [net.model.eval() for net in networks]


def _check_arguments(config, seeds, net_dirs, device):
    seeds, net_dirs = list(seeds), [Path(d) for d in net_dirs]
    if not seeds or len(seeds) != len(net_dirs):
        raise ValueError(f"need one net_dir per seed, at least one; got {len(seeds)} seeds and {len(net_dirs)} dirs")
    if len({d.resolve() for d in net_dirs}) != len(net_dirs):
        raise ValueError(f"each network needs a folder of its own; got {[str(d) for d in net_dirs]}")
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be integers; got {seeds!r}")
    if config.architecture not in ("convnet", "resnet18"):
        raise ValueError(f"architecture must be 'convnet' or 'resnet18'; got {config.architecture!r}")
    device = check_device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return [int(s) for s in seeds], net_dirs, device


def _network(config, seed, net_dir, device):
    """A network as train.py builds it, resumed from ``net_dir`` if that holds its checkpoint."""
    torch.manual_seed(seed)
    model = build_model(config.architecture, config.n_classes, **config.model_kwargs)
    rng = torch.get_rng_state()  # after the initialisation: where the single path's dropout draws start
    state = _checked_state(net_dir, config, seed, model)
    model = model.to(device)
    optimizer = _optimizer(config, model)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=config.plateau_factor, patience=config.plateau_patience, min_lr=config.min_lr)
    dropout = torch.Generator(device)
    if device.type == "cuda":
        dropout.manual_seed(seed)  # as torch.manual_seed(seed) leaves the device's generator
    else:
        dropout.set_state(rng)
    net = _Network(seed, net_dir, model, optimizer, plateau, dropout, rng, [], 1)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        plateau.load_state_dict(state["plateau"])
        net.rng = state["rng"]
        if device.type == "cpu":
            dropout.set_state(state["rng"])
        elif "cuda_rng" in state:
            dropout.set_state(state["cuda_rng"])
        net.history, net.start = json.loads(state["history"]), state["epoch"] + 1
    return net


def _checked_state(net_dir, config, seed, model):
    """The network's ``state.pt`` (None if there is none), after refusing a folder that holds another
    network: another configuration, or another initialisation."""
    state_path, init_path, state = net_dir / "state.pt", _checkpoint_path(net_dir, 0), None
    if state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        old, new = json.loads(state["config"]), json.loads(json.dumps(asdict(config)))
        changed = sorted(k for k in new if k not in _RESUMABLE and old.get(k) != new[k])
        if state.get("seed", seed) != seed:
            changed.append("seed")
        if changed:
            raise ValueError(f"{net_dir} holds a network trained with different {changed}; delete it or choose "
                             "another folder")
        _check_logged(net_dir, config, state["epoch"])
    if init_path.exists():  # the initial weights are the seed's and the configuration's fingerprint
        saved = torch.load(init_path, map_location="cpu", weights_only=True)
        mine = model.state_dict()
        if saved.keys() != mine.keys() or not all(
                saved[k].shape == mine[k].shape and torch.equal(saved[k], mine[k]) for k in mine):
            raise ValueError(f"{net_dir} holds a network with other initial weights (another seed or "
                             "architecture); delete it or choose another folder")
    return state


def _memory_format(x):
    """The layout torch keeps through a network fed batches of ``x`` (images decoded from
    height-width-channel arrays are often channels-last views)."""
    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    return torch.channels_last if channels_last else torch.contiguous_format


def _train_group(config, group, x, y, device, mixed, progress, mask_format):
    batched = BatchedNetworks([net.model for net in group], [net.dropout for net in group],
                              channels_last=device.type == "cuda", mask_format=mask_format)
    try:
        for epoch in range(group[0].start, config.epochs + 1):
            rows = _train_epoch(config, batched, group, x, y, epoch, device, mixed)
            for net, row in zip(group, rows):
                net.plateau.step(row["loss"])  # on the training loss, as train.py
                row["lr"] = net.optimizer.param_groups[0]["lr"]
                net.history.append(row)
                _checkpoint(config, net, epoch, device, len(group), mixed)
            if progress:
                progress(epoch, rows)
    finally:
        batched.unstack()  # interrupted or not, the models own their weights again


def _train_epoch(config, batched, group, x, y, epoch, device, mixed):
    batched.training = True
    n, size = len(group), len(x)
    draws = [epoch_draws(net.seed, epoch, size, config.batch_size, config.augment) for net in group]
    order = torch.stack([d[0] for d in draws]).to(device)
    shifts = [torch.stack(parts).to(device) for parts in zip(*(d[1] for d in draws))] if config.augment else None
    total = torch.zeros(n, dtype=torch.float64, device=device)  # train.py sums in Python floats: doubles
    correct = torch.zeros(n, dtype=torch.int64, device=device)
    for start in range(0, size, config.batch_size):
        idx = order[:, start:start + config.batch_size]
        xb, yb = x[idx], y[idx]
        if shifts:
            xb = shift_and_flip(xb, *(s[:, start:start + config.batch_size] for s in shifts))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mixed):
            out = batched.forward(xb)
        out = out.float()  # the softmax and the loss in float32
        losses = F.cross_entropy(out.flatten(0, 1), yb.flatten(), reduction="none").view(n, -1).mean(1)
        losses.sum().backward()  # each network's parameters see only its own loss
        batched.attach_grads()
        for net in group:
            net.optimizer.step()
            net.optimizer.zero_grad(set_to_none=True)
        total += losses.detach().double() * idx.shape[1]
        correct += (out.argmax(2) == yb).sum(1)
    return [{"epoch": epoch, "loss": t / size, "accuracy": c / size}
            for t, c in zip(total.tolist(), correct.tolist())]


def _checkpoint(config, net, epoch, device, n_batched, mixed):
    """train.py's files, in its format, plus the seed and how the network was trained."""
    weights = _own(net.model.state_dict())
    if epoch in config.logged_epochs:
        _save(weights, _checkpoint_path(net.net_dir, epoch))
    rng = {"rng": net.dropout.get_state()} if device.type == "cpu" else \
        {"rng": net.rng, "cuda_rng": net.dropout.get_state()}
    _save({"model": weights, "optimizer": net.optimizer.state_dict(), "plateau": net.plateau.state_dict(),
           **rng, "epoch": epoch, "history": json.dumps(net.history), "config": json.dumps(asdict(config)),
           "seed": net.seed, "trainer": json.dumps({"batched": n_batched, "device": device.type,
                                                    "mixed_precision": mixed})}, net.net_dir / "state.pt")
    (net.net_dir / "history.json").write_text(json.dumps(net.history))


def _own(state_dict):
    """Tensors with storage of their own: a view would save the whole stacked tensor."""
    return {k: v.detach().clone(memory_format=torch.contiguous_format) for k, v in state_dict.items()}
