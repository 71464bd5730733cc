"""Utilities for the book *Shared representational geometry across neural networks*.

Geometry and comparison modules are pure numpy/scipy; torch is imported only by
the modules that train networks.  Activation matrices are ``(n_units, n_examples)``.
"""
from . import cca, conv, invariance, matching, rsm, seeding, shape, srm, stats, transforms

__version__ = "0.1.0"
__all__ = ["rsm", "srm", "cca", "conv", "matching", "shape", "invariance", "stats", "transforms", "seeding"]
