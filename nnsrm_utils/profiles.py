"""Three scales for the deep-network chapters, one switch: ``quick``, ``colab``, ``paper``.

Chosen by a notebook's parameters cell or the ``NNSRM_PROFILE`` environment variable.

- ``quick`` (default): any CPU, CI and the executed book.  The CIFAR-10 JPEG copy
  (downloaded once, about 20 MB; :mod:`nnsrm_utils.data`), 4 networks, 3 epochs on a
  5,000-image training subset, 300 units per layer, a narrow ResNet.  Shows the phenomena, not the paper's numbers.
- ``colab``: one GPU.  CIFAR-10 or CIFAR-100 (downloaded), 10 networks, training long
  enough to reach most of the final accuracy, the authors' analysis sizes.
- ``paper``: the authors' settings (ConvNet: RMSprop 1e-4, batch 32, 50 epochs; ResNet18:
  Adam 1e-3, batch 32, 100 epochs with shifts and flips, L2 1e-4; their logged epochs).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Literal

from .train import TrainConfig

PROFILE_ENV = "NNSRM_PROFILE"
CONVNET_EPOCHS = (0, 1, 2, 4, 6, 9, 14, 21, 32, 50)
RESNET_EPOCHS = (0, 1, 2, 3, 5, 8, 13, 22, 36, 60, 100)


@dataclass(frozen=True)
class Variant:
    """Networks that depart from a profile's on purpose, for the comparisons of Morcos et al. (2018).

    ``width`` scales the ConvNet's layers; ``random_labels`` trains on one fixed random
    permutation of the training labels (networks that can only memorise); ``train_subset``,
    ``epochs``, ``lr`` and ``seed`` (the first network's) replace the profile's when set
    (memorising takes more epochs on fewer images; other seeds keep a variant's networks from
    sharing initial weights and example order with the profile's).  A variant's run logs only
    its first and last epoch unless it keeps the profile's schedule.

    Examples
    --------
    >>> get_profile("quick").variant("random-labels")
    Variant(width=1.0, random_labels=True, train_subset=1000, epochs=30, lr=0.001, seed=None)
    """

    width: float = 1.0
    random_labels: bool = False
    train_subset: int | None = None
    epochs: int | None = None
    lr: float | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Profile:
    """One scale of the deep-network chapters: data, number of networks, analysis sizes, training.

    ``convnet`` and ``resnet18`` are the architectures' :class:`~nnsrm_utils.train.TrainConfig`;
    ``n_fit`` held-out images fit SRM and ``n_test`` evaluate it; ``max_units`` units are kept
    per layer; network ``i`` is trained with seed ``seed + i``; ``variants`` maps names to the
    ConvNet's variants (:class:`Variant`).  Use :func:`get_profile` rather than building one.

    Examples
    --------
    >>> p = get_profile("quick")
    >>> p.dataset, p.n_networks, p.train_subset, p.n_fit, p.n_test, p.max_units
    ('cifar10-jpeg', 4, 5000, 1600, 400, 300)
    """

    name: str
    dataset: str              # default dataset (a key of nnsrm_utils.data.DATASETS)
    n_networks: int
    train_subset: int | None  # training images used (None: all)
    n_fit: int                # held-out images that fit SRM ...
    n_test: int               # ... and that evaluate it
    max_units: int | None     # units kept per layer (authors: 1,000)
    convnet: TrainConfig
    resnet18: TrainConfig
    seed: int = 0             # network i is trained with seed + i
    variants: dict = field(default_factory=dict)  # name -> Variant (ConvNet only)

    def train_config(self, architecture: Literal["convnet", "resnet18"], n_classes: int,
                     variant: str | None = None) -> TrainConfig:
        """How a network of ``architecture`` is trained in this profile, for ``n_classes`` classes.

        Parameters
        ----------
        architecture : {"convnet", "resnet18"}
        n_classes : int
        variant : str, optional
            The name of one of the profile's ``variants`` (ConvNet only): its width, epochs
            and learning rate replace the profile's.

        Returns
        -------
        TrainConfig

        Raises
        ------
        ValueError
            For another architecture, an unknown variant, or a variant of the ResNet.

        Examples
        --------
        >>> config = get_profile("quick").train_config("convnet", 10, variant="width-0.5")
        >>> config.epochs, config.lr, config.model_kwargs
        (3, 0.0005, {'width': 0.5})
        """
        config = getattr(self, architecture, None)
        if config is None:
            raise ValueError(f"architecture must be 'convnet' or 'resnet18'; got {architecture!r}")
        config = replace(config, n_classes=n_classes)
        if variant is None:
            return config
        v = self.variant(variant)
        if architecture != "convnet":
            raise ValueError("variants are defined for the ConvNet only")
        if v.epochs is not None:
            config = replace(config, epochs=v.epochs, logged_epochs=(0, v.epochs))
        return replace(config, lr=v.lr or config.lr, model_kwargs={**config.model_kwargs, "width": v.width})

    def variant(self, name: str) -> Variant:
        """The :class:`Variant` called ``name``; a ``ValueError`` lists the profile's variants if
        there is none (see the example of :class:`Variant`)."""
        if name not in self.variants:
            raise ValueError(f"profile {self.name!r} has no variant {name!r}; choose one of {tuple(self.variants)}")
        return self.variants[name]


_CONVNET = TrainConfig("convnet", epochs=50, logged_epochs=CONVNET_EPOCHS, batch_size=32, optimizer="rmsprop",
                       lr=1e-4, plateau_factor=math.sqrt(0.1), plateau_patience=5, min_lr=1e-5)
_RESNET = TrainConfig("resnet18", model_kwargs={"width": 64, "stem": "imagenet"}, epochs=100,
                      logged_epochs=RESNET_EPOCHS, batch_size=32, optimizer="adam", lr=1e-3, l2=1e-4,
                      augment=True, plateau_factor=math.sqrt(0.1), plateau_patience=5, min_lr=5e-7)

# Morcos et al.'s Fig. 5: the same ConvNet at other learning rates (the profile's own run is a
# third group), each group from seeds of its own
LEARNING_RATES = {"lr-1e-4": Variant(lr=1e-4, seed=100), "lr-2e-3": Variant(lr=2e-3, seed=200)}

PROFILES = {
    "quick": Profile(
        "quick", "cifar10-jpeg", n_networks=4, train_subset=5000, n_fit=1600, n_test=400, max_units=300,
        # a higher learning rate and larger batches get somewhere in 3 short epochs
        convnet=replace(_CONVNET, epochs=3, logged_epochs=(0, 1, 2, 3), batch_size=64, lr=5e-4),
        resnet18=replace(_RESNET, model_kwargs={"width": 16, "stem": "imagenet"}, epochs=3,
                         logged_epochs=(0, 1, 2, 3), batch_size=64, augment=False),
        # 1,000 images and 30 epochs: long enough for the ConvNet to memorise random labels
        variants={"width-0.25": Variant(width=0.25), "width-0.5": Variant(width=0.5),
                  "true-labels": Variant(train_subset=1000, epochs=30, lr=1e-3),
                  "random-labels": Variant(random_labels=True, train_subset=1000, epochs=30, lr=1e-3),
                  **LEARNING_RATES},
    ),
    "colab": Profile(
        "colab", "cifar10", n_networks=10, train_subset=None, n_fit=8000, n_test=2000, max_units=1000,
        convnet=replace(_CONVNET, epochs=15, logged_epochs=(0, 1, 2, 4, 6, 9, 12, 15), batch_size=64, lr=3e-4),
        resnet18=replace(_RESNET, model_kwargs={"width": 32, "stem": "imagenet"}, epochs=12,
                         logged_epochs=(0, 1, 2, 3, 5, 8, 12), batch_size=128),
        variants={"width-0.25": Variant(width=0.25), "width-0.5": Variant(width=0.5), "width-2": Variant(width=2.0),
                  "true-labels": Variant(train_subset=10000, epochs=60, lr=5e-4),
                  "random-labels": Variant(random_labels=True, train_subset=10000, epochs=60, lr=5e-4),
                  **LEARNING_RATES},
    ),
    "paper": Profile(
        "paper", "cifar10", n_networks=10, train_subset=None, n_fit=8000, n_test=2000, max_units=1000,
        convnet=_CONVNET, resnet18=_RESNET,
    ),
}


def get_profile(name: Literal["quick", "colab", "paper"] | Profile | None = None) -> Profile:
    """The profile named (or a :class:`Profile` itself), else ``$NNSRM_PROFILE``, else ``quick``.

    Returns
    -------
    Profile

    Raises
    ------
    ValueError
        If the name (given or from ``$NNSRM_PROFILE``) is not a key of ``PROFILES``.

    Examples
    --------
    >>> p = get_profile("paper")
    >>> p.n_networks, p.convnet.epochs, p.convnet.optimizer, p.resnet18.epochs
    (10, 50, 'rmsprop', 100)
    >>> get_profile(p) is p
    True
    """
    if isinstance(name, Profile):
        return name
    name = name or os.environ.get(PROFILE_ENV, "quick")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {tuple(PROFILES)}")
    return PROFILES[name]
