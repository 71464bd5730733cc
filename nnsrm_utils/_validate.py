"""Input checks shared by the public functions.

Every activation matrix in this package is laid out as in the paper,
``(n_units, n_examples)``, and a layer across networks is a list of such
matrices.  Public functions validate once at their boundary and raise a
``ValueError`` that names the problem; internal helpers trust their input.

A transposed array, ``(n_examples, n_units)``, is caught where it can be: two layers or
networks must agree on the number of examples, and labels on it (errors); and each measure
warns in the regime where it is degenerate, which is where a transposed array usually lands
(CCA with ``p1 + p2 >= n - 1``, biased linear CKA with more units than examples, matching with
at least as many neurons as data points), without a warning for wide layers used where they
are sound.  Same-width networks passed transposed to SRM or to RSMs look like valid data:
nothing can tell them apart.
"""
import warnings

import numpy as np

# Said wherever a layer's shape is the likeliest sign of a transposed array.
LAYOUT_HINT = "layout is (n_units, n_examples): if you passed (n_examples, n_units), pass the transpose"


def as_float(x):
    """Return ``x`` as a float array, keeping float32 (activations are often float32)."""
    x = np.asarray(x)
    if x.dtype in (np.float32, np.float64):
        return x
    return x.astype(np.float64)


def rounding_level(scale, dtype=np.float64):
    """What centring values of magnitude ``scale`` leaves behind when they are all equal: a mean
    is off by a few units in the last place, and every centred value with it.  Variation at or
    below this level is no variation."""
    return 16 * np.finfo(dtype).eps * scale


def warn_few_examples(message):
    """A measure used where it is degenerate: fewer examples than it needs for its units, the
    regime a transposed layer lands in.  A warning, not an error: wide layers are legitimate."""
    warnings.warn(f"{message} ({LAYOUT_HINT})", RuntimeWarning, stacklevel=4)


def check_activations(X, name="X", min_examples=2, check_finite=True):
    """Validate one ``(n_units, n_examples)`` activation matrix and return it as floats.

    ``check_finite=False`` leaves the NaN/inf check to a caller that gets it for free.
    """
    X = as_float(X)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_units, n_examples); got {X.ndim} dimension(s)"
        )
    if X.shape[0] < 1:
        raise ValueError(f"{name} has no units")
    if X.shape[1] < min_examples:
        raise ValueError(
            f"{name} has {X.shape[1]} example(s); at least {min_examples} are needed ({LAYOUT_HINT})"
        )
    if check_finite and not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def check_layer(Xs, name="Xs", min_networks=1, min_examples=2, same_units=False):
    """Validate a layer across networks: a list of activation matrices over the same examples."""
    if isinstance(Xs, np.ndarray) and Xs.ndim == 2:
        raise ValueError(f"{name} must be a list of (n_units, n_examples) arrays, one per network; got one array")
    Xs = [check_activations(X, f"{name}[{i}]", min_examples) for i, X in enumerate(Xs)]
    if len(Xs) < min_networks:
        raise ValueError(f"{name} needs at least {min_networks} network(s); got {len(Xs)}")
    n_examples = {X.shape[1] for X in Xs}
    if len(n_examples) > 1:
        raise ValueError(
            f"networks in {name} disagree on the number of examples {sorted(n_examples)}; "
            "every network must respond to the same examples, in the same order"
        )
    if same_units and len({X.shape[0] for X in Xs}) > 1:
        raise ValueError(
            f"networks in {name} have different numbers of units {[X.shape[0] for X in Xs]}; "
            "this computation averages networks unit by unit (align them first, e.g. with SRM)"
        )
    return Xs
