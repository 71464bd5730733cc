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

Torch tensors are accepted wherever arrays are (see ``nnsrm_utils._backend``): the inputs of
one call must then all be float32 or float64 tensors on one device (a ``TypeError`` for numpy
mixed with torch or for another dtype, a ``ValueError`` for different devices), and the same
checks of shape and finiteness apply.
"""
import sys
import warnings

import numpy as np

from ._backend import NUMPY, array_namespace, eps, is_tensor

# Said wherever a layer's shape is the likeliest sign of a transposed array.
LAYOUT_HINT = "layout is (n_units, n_examples): if you passed (n_examples, n_units), pass the transpose"


def namespace(*arrays, name="the inputs"):
    """The array namespace of ``arrays`` (numpy's, or torch's for tensors), refusing numpy and
    torch mixed and tensors on different devices."""
    xp = array_namespace(*arrays)
    if xp is NUMPY:
        return xp
    kinds = ["tensor" if is_tensor(a) else type(a).__name__ for a in arrays]
    if "tensor" in kinds and len(set(kinds)) > 1:
        raise TypeError(f"{name} mix torch tensors with other arrays ({', '.join(kinds)}): pass all of them as "
                        "tensors on one device, or all as numpy arrays")
    devices = sorted({str(a.device) for a in arrays})
    if len(devices) > 1:
        raise ValueError(f"{name} are tensors on different devices {devices}: move them to one device")
    return xp


def check_float_tensor(x, name="X"):
    """Refuse a tensor that is not float32 or float64 (numpy input is converted instead)."""
    torch = sys.modules["torch"]  # x is a tensor: torch is imported
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"{name} is a tensor of dtype {x.dtype}; pass float32 or float64 tensors (e.g. x.double())")
    return x


def as_float(x, name="X", tensors=False):
    """Return ``x`` as a float array, keeping float32 (activations are often float32).  With
    ``tensors`` a tensor stays one and must already be float32 or float64; without, it is
    converted as any array is (numpy-only measures: a CUDA tensor is torch's error)."""
    if tensors and is_tensor(x):
        return check_float_tensor(x, name)
    x = np.asarray(x)
    if x.dtype in (np.float32, np.float64):
        return x
    if np.iscomplexobj(x):
        raise TypeError(f"{name} is complex; activations must be real numbers")
    return x.astype(np.float64)


def as_float64(x, name="A"):
    """``x`` as a float64 array; a tensor keeps its float dtype and device."""
    return check_float_tensor(x, name) if is_tensor(x) else np.asarray(x, dtype=np.float64)


def rounding_level(scale, dtype=np.float64):
    """What centring values of magnitude ``scale`` leaves behind when they are all equal: a mean
    is off by a few units in the last place, and every centred value with it.  Variation at or
    below this level is no variation."""
    return 16 * eps(dtype) * scale


def warn_few_examples(message):
    """A measure used where it is degenerate: fewer examples than it needs for its units, the
    regime a transposed layer lands in.  A warning, not an error: wide layers are legitimate."""
    warnings.warn(f"{message} ({LAYOUT_HINT})", RuntimeWarning, stacklevel=4)


def check_activations(X, name="X", min_examples=2, check_finite=True, tensors=False):
    """Validate one ``(n_units, n_examples)`` activation matrix and return it as floats.

    ``check_finite=False`` leaves the NaN/inf check to a caller that gets it for free;
    ``tensors=True`` keeps torch tensors (for the measures written against ``_backend``).
    """
    X = as_float(X, name, tensors)
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
    xp = array_namespace(X)
    if check_finite and not xp.all(xp.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def check_layer(Xs, name="Xs", min_networks=1, min_examples=2, same_units=False):
    """Validate a layer across networks: a list of activation matrices over the same examples."""
    if (isinstance(Xs, np.ndarray) or is_tensor(Xs)) and Xs.ndim == 2:
        raise ValueError(f"{name} must be a list of (n_units, n_examples) arrays, one per network; got one array")
    Xs = list(Xs)
    if namespace(*Xs, name=f"the networks in {name}") is not NUMPY and len({X.dtype for X in Xs}) > 1:
        raise TypeError(f"the tensors in {name} have different dtypes {[str(X.dtype) for X in Xs]}: cast them to one")
    Xs = [check_activations(X, f"{name}[{i}]", min_examples, tensors=True) for i, X in enumerate(Xs)]
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


def is_real(x):
    """Whether ``x`` is a real number, a Python or numpy scalar (a bool is not one)."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def check_tol(tol, name="tol"):
    """Refuse a relative threshold outside ``[0, 1)`` (NaN included): at 1 or above every
    direction or value counts as nothing, and the result would be silently empty."""
    if not (is_real(tol) and 0 <= tol < 1):
        raise ValueError(f"{name} must be a number in [0, 1); got {tol!r}")
    return tol


def check_count(n, name, minimum=1):
    """Refuse a count that is not an integer of at least ``minimum`` (a bool is not a count)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {wanted}; got {n!r}")
    return n


def check_device(device):
    """Refuse a torch device this machine does not have (a CUDA request without CUDA)."""
    import torch
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} requested but CUDA is not available here (torch.cuda.is_available() "
                         "is False): use 'cpu'")
    return device
