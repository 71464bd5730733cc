"""Image data for the deep-network chapters: CIFAR-10, CIFAR-100 and an offline CIFAR-10 copy.

Where data live: ``root`` arguments, else the ``NNSRM_DATA`` environment variable, else
``~/.cache/nnsrm/data`` (``$XDG_CACHE_HOME`` respected).  Inside it:

- ``cifar-10-batches-py/``, ``cifar-100-python/``: torchvision's layout, downloaded
  (checksum-verified by torchvision) when missing and ``download=True``;
- ``cifar10-jpeg/{train,test}/<class>/*.jpg``: the CIFAR-10 images re-encoded as JPEG, in
  ``torchvision.datasets.ImageFolder`` layout, for machines without internet access.  Its
  results are labelled "CIFAR-10 (JPEG copy)": the pixels differ slightly from the originals.

Images are returned as uint8 arrays ``(n, 32, 32, 3)`` with int64 labels; :func:`preprocess`
applies the authors' normalisation.
"""
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_ENV = "NNSRM_DATA"
DATASETS = {
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "cifar10-jpeg": "CIFAR-10 (JPEG copy)",
}


def cache_home():
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnsrm"


def data_root(root=None):
    """The folder holding the datasets (see the module docstring)."""
    return Path(root or os.environ.get(DATA_ENV) or cache_home() / "data").expanduser()


@dataclass(frozen=True)
class Images:
    """A labelled image dataset with its train and test splits."""

    name: str          # key in DATASETS
    label: str         # how every result computed on it is labelled
    classes: tuple
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_images(name, root=None, download=True, retries=3):
    """Load ``name`` (a key of ``DATASETS``) from :func:`data_root`, downloading CIFAR if allowed."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {tuple(DATASETS)}")
    root = data_root(root)
    if name == "cifar10-jpeg":
        return _load_jpeg_copy(root)
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
        "Without internet access CIFAR-10 is also available as the 'cifar10-jpeg' dataset."
    )


def _load_jpeg_copy(root):
    folder = root / "cifar10-jpeg"
    if not (folder / "train").is_dir() or not (folder / "test").is_dir():
        raise FileNotFoundError(
            f"the CIFAR-10 JPEG copy is not in {folder} (expected train/<class>/*.jpg and test/<class>/*.jpg); "
            f"point {DATA_ENV} at the folder that contains 'cifar10-jpeg'"
        )
    classes = tuple(sorted(p.name for p in (folder / "train").iterdir() if p.is_dir()))
    cached = _decoded_cache(folder)
    if cached.exists():
        with np.load(cached, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    else:
        arrays = {}
        for split in ("train", "test"):
            arrays[f"x_{split}"], arrays[f"y_{split}"] = _decode_folder(folder / split, classes)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial.npz")
        np.savez(partial, **arrays)
        os.replace(partial, cached)
    return Images("cifar10-jpeg", DATASETS["cifar10-jpeg"], classes, **arrays)


def _decoded_cache(folder):
    """Decoding 60,000 JPEGs takes a while: keep the arrays, keyed by the folder's file list."""
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.jpg"))
    key = hashlib.sha256("\n".join(files).encode()).hexdigest()[:16]
    return cache_home() / "decoded" / f"cifar10-jpeg-{key}.npz"


def _decode_folder(split_dir, classes):
    from PIL import Image

    images, labels = [], []
    for label, cls in enumerate(classes):
        for path in sorted((split_dir / cls).glob("*.jpg")):
            with Image.open(path) as im:
                images.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def preprocess(images, x):
    """The authors' normalisation: subtract the per-pixel mean training image, divide by 128.

    ``x`` is uint8 ``(n, 32, 32, 3)``; returns float32 ``(n, 3, 32, 32)`` (torch's layout).
    """
    mean = images.x_train.mean(axis=0, dtype=np.float64)
    return ((x - mean) / 128.0).astype(np.float32).transpose(0, 3, 1, 2)


def stratified_subset(labels, n, random_state=0):
    """Indices of ``n`` images with the classes in their dataset proportions (sorted).

    The JPEG copy is stored class by class, so "the first n images" would be one class.
    """
    labels = np.asarray(labels)
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(labels)), train_size=n, stratify=labels, random_state=random_state)
    return np.sort(keep)


def analysis_split(labels, n_fit=8000, n_test=2000, random_state=0):
    """Stratified split of held-out images into an SRM-fit set and a test set.

    As the authors: scikit-learn's stratified ``train_test_split`` with ``random_state=0``;
    the test indices are ordered by label (stable) so RSM pictures show class blocks.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if n_fit + n_test > len(labels):
        raise ValueError(f"n_fit + n_test = {n_fit + n_test} exceeds the {len(labels)} images available")
    fit, test = train_test_split(np.arange(len(labels)), train_size=n_fit, test_size=n_test,
                                 stratify=labels, random_state=random_state)
    return np.sort(fit), test[np.argsort(labels[test], kind="stable")]
