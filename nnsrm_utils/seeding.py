"""One call to fix every random number generator a notebook touches."""
import os
import random

import numpy as np


def seed_everything(seed):
    """Seed Python's ``random``, NumPy's global generator and, if installed, torch.

    Also asks torch for deterministic algorithms (warning, not failing, where an
    operation has none).  Returns a fresh ``numpy.random.Generator`` seeded with
    ``seed`` for code that prefers explicit generators.
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
