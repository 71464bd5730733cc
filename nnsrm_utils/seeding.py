"""One call to fix every random number generator a notebook touches."""
from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global generator and, if installed, torch.

    Also asks torch for deterministic algorithms (warning, not failing, where an
    operation has none) and sets ``PYTHONHASHSEED`` for subprocesses and workers.

    Parameters
    ----------
    seed : int
        An integer in ``[0, 2**32)``.

    Returns
    -------
    numpy.random.Generator
        A fresh generator seeded with ``seed``, for code that prefers explicit generators.

    Raises
    ------
    ValueError
        If ``seed`` is not an integer in ``[0, 2**32)``.

    Examples
    --------
    >>> import os, random
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ):   # the environment as it was, afterwards
    ...     rng = seed_everything(0)
    ...     first = (random.random(), rng.random())
    ...     rng = seed_everything(0)
    ...     print((random.random(), rng.random()) == first, os.environ["PYTHONHASHSEED"])
    True 0
    >>> import torch  # and torch's default for the rest of this session
    >>> torch.use_deterministic_algorithms(False)
    """
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**32):
        raise ValueError(f"seed must be an integer in [0, 2**32); got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # inherited by subprocesses and workers
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)
