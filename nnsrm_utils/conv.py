"""Conv layers as ``(n_units, n_examples)`` matrices: the choice of what a unit is, made explicit.

A conv layer's activations come as ``(n_examples, channels, height, width)`` (torch's layout).
The literature treats them in three ways:

* ``"flatten"``: every (channel, position) is a unit, one column per example (what the SRM
  chapters record: 7,200 units for the ConvNet's ``pool1``);
* ``"positions"``: a channel is a unit and every (example, position) is a data point
  (Raghu et al. 2017 for CCA; Wang et al. 2018's neuron = channel);
* ``"mean"``: a channel is a unit, averaged over positions (one column per example).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray


def conv_units(acts: ArrayLike, how: Literal["flatten", "mean", "positions"], max_positions: int | None = None,
               random_state: int = 0) -> NDArray[np.float64]:
    """``(n_units, n_data_points)`` from ``acts`` ``(n_examples, channels, height, width)``.

    With ``how="positions"``, ``max_positions`` keeps that many (example, position) data
    points, drawn without replacement with ``random_state`` (Wang et al. sample 10,000).

    Returns
    -------
    numpy.ndarray
        ``(channels * height * width, n_examples)`` for ``"flatten"``, ``(channels,
        n_examples)`` for ``"mean"``, and ``(channels, n_examples * height * width)`` (or
        ``max_positions`` columns) for ``"positions"``.

    Raises
    ------
    ValueError
        If ``acts`` is not 4-D or ``how`` is none of the three.

    Examples
    --------
    >>> import numpy as np
    >>> acts = np.random.default_rng(0).standard_normal((10, 8, 4, 4))   # 10 images, 8 channels, 4 x 4
    >>> conv_units(acts, "mean").shape, conv_units(acts, "flatten").shape, conv_units(acts, "positions").shape
    ((8, 10), (128, 10), (8, 160))
    """
    acts = np.asarray(acts)
    if acts.ndim != 4:
        raise ValueError(f"conv activations must be (n_examples, channels, height, width); got shape {acts.shape}")
    n, c = acts.shape[:2]
    if how == "flatten":
        return acts.reshape(n, -1).T
    if how == "mean":
        return acts.mean(axis=(2, 3)).T
    if how != "positions":
        raise ValueError(f"how must be 'flatten', 'positions' or 'mean'; got {how!r}")
    units = acts.transpose(1, 0, 2, 3).reshape(c, -1)
    if max_positions is not None and max_positions < units.shape[1]:
        keep = np.sort(np.random.default_rng(random_state).choice(units.shape[1], max_positions, replace=False))
        units = units[:, keep]
    return units
