"""The two architectures of the paper, with the layers the authors analysed named explicitly.

Each model has ``analysed_layers``: an ordered dict from the paper's layer names to the
modules whose *outputs* are recorded (see :mod:`nnsrm_utils.record`).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Literal

import torch
from torch import nn


class ConvNet(nn.Module):
    """The Keras ``cifar10_cnn`` example network the authors trained.

    conv32(same)-ReLU-conv32(valid)-ReLU-maxpool-dropout .25, conv64(same)-ReLU-conv64(valid)-
    ReLU-maxpool-dropout .25, dense512-ReLU-dropout .5, dense(C).  Keras' default
    initialisation (Glorot uniform weights, zero biases).  Analysed, as in the paper:
    ``pool1`` (15x15x32 = 7,200 units), ``pool2`` (6x6x64 = 2,304), ``dense`` (the 512 units
    before their ReLU) and ``logits`` (before the softmax).  ``width`` scales every layer's
    channels and units (Morcos et al. 2018 compare networks of different widths).

    Takes images ``(n, 3, 32, 32)`` and returns logits ``(n, n_classes)``.

    Examples
    --------
    >>> import torch
    >>> net = ConvNet(n_classes=10, width=0.5).eval()
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> list(net.analysed_layers), net.dense[-1].out_features
    (['pool1', 'pool2', 'dense', 'logits'], 256)
    """

    def __init__(self, n_classes: int = 10, width: float = 1.0) -> None:
        super().__init__()
        c1, c2, d = (max(1, round(width * c)) for c in (32, 64, 512))
        self.block1 = nn.Sequential(nn.Conv2d(3, c1, 3, padding=1), nn.ReLU(), nn.Conv2d(c1, c1, 3), nn.ReLU())
        self.pool1 = nn.MaxPool2d(2)
        self.block2 = nn.Sequential(nn.Dropout(0.25), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(c2, c2, 3), nn.ReLU())
        self.pool2 = nn.MaxPool2d(2)
        self.dense = nn.Sequential(nn.Dropout(0.25), nn.Flatten(), nn.Linear(6 * 6 * c2, d))
        self.logits = nn.Sequential(nn.ReLU(), nn.Dropout(0.5), nn.Linear(d, n_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.analysed_layers = OrderedDict(
            [("pool1", self.pool1), ("pool2", self.pool2), ("dense", self.dense), ("logits", self.logits)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of images ``x`` ``(n, 3, 32, 32)``."""
        return self.logits(self.dense(self.pool2(self.block2(self.pool1(self.block1(x))))))


class PreActBlock(nn.Module):
    """Pre-activation basic block: (BN-ReLU-conv3x3) twice, identity or 1x1-conv shortcut.

    ``stride`` applies to the first convolution (and the shortcut); ``preact=False`` leaves out
    the first BN-ReLU (for the block right after the stem, which already ends in one).

    Examples
    --------
    >>> import torch
    >>> block = PreActBlock(8, 16, stride=2).eval()
    >>> block(torch.zeros(1, 8, 32, 32)).shape
    torch.Size([1, 16, 16, 16])
    """

    def __init__(self, c_in: int, c_out: int, stride: int, preact: bool = True) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in) if preact else None
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride, bias=False) if stride != 1 or c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output ``(n, c_out, H / stride, W / stride)`` for ``x`` ``(n, c_in, H, W)``."""
        out = torch.relu(self.bn1(x)) if self.bn1 is not None else x
        skip = self.shortcut(out if self.bn1 is not None else x) if self.shortcut is not None else x
        out = self.conv2(torch.relu(self.bn2(self.conv1(out))))
        return out + skip


class PreActResNet18(nn.Module):
    """Pre-activation ResNet18, basic blocks [2, 2, 2, 2], as the authors trained it.

    ``stem="imagenet"`` (the authors' variant): 7x7 stride-2 convolution, BN-ReLU, 3x3
    stride-2 max-pool, even on 32x32 inputs.  ``stem="cifar"``: one 3x3 stride-1
    convolution, BN-ReLU, no pooling, the usual choice for CIFAR.  ``width`` is the number
    of channels of the first stage (64 in ResNet18; narrower for quick runs).  He-normal
    initialisation.  The network has 17 BatchNorm layers; the paper analysed the outputs of
    every other one, ``bn1, bn3, ..., bn17`` (its layers 1, 3, ..., 17).

    Raises
    ------
    ValueError
        If ``stem`` is neither ``"imagenet"`` nor ``"cifar"``.

    Examples
    --------
    >>> import torch
    >>> net = PreActResNet18(n_classes=10, width=4).eval()
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> list(net.analysed_layers)
    ['bn1', 'bn3', 'bn5', 'bn7', 'bn9', 'bn11', 'bn13', 'bn15', 'bn17']
    """

    def __init__(self, n_classes: int = 10, width: int = 64, stem: Literal["imagenet", "cifar"] = "imagenet") -> None:
        super().__init__()
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False))
            self.pool = nn.MaxPool2d(3, 2, 1)
        elif stem == "cifar":
            self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False))
            self.pool = nn.Identity()
        else:
            raise ValueError(f"stem must be 'imagenet' or 'cifar'; got {stem!r}")
        self.stem_bn = nn.BatchNorm2d(width)
        blocks, c_in = [], width
        for stage, c_out in enumerate([width, 2 * width, 4 * width, 8 * width]):
            for i in range(2):
                stride = 2 if stage > 0 and i == 0 else 1
                # the stem already ends in BN-ReLU, so the very first block skips its own
                blocks.append(PreActBlock(c_in, c_out, stride, preact=bool(blocks)))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.final_bn = nn.BatchNorm2d(c_in)
        self.head = nn.Linear(c_in, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        bns = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        assert len(bns) == 17
        self.analysed_layers = OrderedDict((f"bn{i}", bns[i - 1]) for i in range(1, 18, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of images ``x`` ``(n, 3, H, W)``."""
        x = self.pool(torch.relu(self.stem_bn(self.stem(x))))
        x = torch.relu(self.final_bn(self.blocks(x)))
        return self.head(x.mean(dim=(2, 3)))


def build_model(architecture: Literal["convnet", "resnet18"], n_classes: int = 10,
                **kwargs: Any) -> ConvNet | PreActResNet18:
    """``"convnet"`` or ``"resnet18"`` (keyword arguments go to the class).

    Returns
    -------
    ConvNet or PreActResNet18
        A new network, in training mode, with its initial weights from torch's global generator.

    Raises
    ------
    ValueError
        For another architecture (and, from the class, a bad ``stem``).

    Examples
    --------
    >>> type(build_model("resnet18", 100, width=4, stem="cifar")).__name__
    'PreActResNet18'
    >>> build_model("convnet", 100).logits[-1].out_features
    100
    """
    if architecture == "convnet":
        return ConvNet(n_classes, **kwargs)
    if architecture == "resnet18":
        return PreActResNet18(n_classes, **kwargs)
    raise ValueError(f"architecture must be 'convnet' or 'resnet18'; got {architecture!r}")
