"""Datasets on data the tests write themselves, in torchvision's and ImageFolder's layouts."""
import hashlib
import http.server
import pickle
import tarfile
import threading
from functools import partial

import numpy as np
import pytest
from torchvision.datasets import CIFAR100

from conftest import pin_jpeg_copy
from nnsrm_utils import data


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_cifar100(tmp_path, monkeypatch):
    """A 30-image CIFAR-100 in torchvision's on-disk format; torchvision's checksums patched to match."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "source" / CIFAR100.base_folder
    folder.mkdir(parents=True)
    for split, n in (("train", 20), ("test", 10)):
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "fine_labels": list(rng.integers(0, 100, n))}
        (folder / split).write_bytes(pickle.dumps(entry))
    (folder / "meta").write_bytes(pickle.dumps({"fine_label_names": [f"class{i}" for i in range(100)]}))
    monkeypatch.setattr(CIFAR100, "train_list", [["train", _md5(folder / "train")]])
    monkeypatch.setattr(CIFAR100, "test_list", [["test", _md5(folder / "test")]])
    monkeypatch.setattr(CIFAR100, "meta", {**CIFAR100.meta, "md5": _md5(folder / "meta")})
    archive = tmp_path / "source" / CIFAR100.filename
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=CIFAR100.base_folder)
    monkeypatch.setattr(CIFAR100, "tgz_md5", _md5(archive))
    return tmp_path / "source"


@pytest.fixture
def local_server(fake_cifar100):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(fake_cifar100))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{CIFAR100.filename}"
    server.shutdown()


def test_cifar100_from_torchvision_layout(fake_cifar100):
    images = data.load_images("cifar100", root=fake_cifar100, download=False)
    assert images.label == "CIFAR-100" and len(images.classes) == 100
    assert images.x_train.shape == (20, 32, 32, 3) and images.x_train.dtype == np.uint8
    assert images.y_test.shape == (10,) and images.y_test.dtype == np.int64


def test_download_is_verified_and_moved_into_place(tmp_path, local_server, monkeypatch):
    monkeypatch.setattr(CIFAR100, "url", local_server)
    root = tmp_path / "cache"
    images = data.load_images("cifar100", root=root)
    assert images.x_train.shape == (20, 32, 32, 3)
    assert sorted(p.name for p in root.iterdir()) == [CIFAR100.base_folder]  # no archive, no partial folder


def test_failed_download_leaves_nothing_and_says_what_to_do(tmp_path, monkeypatch, fake_cifar100):
    monkeypatch.setattr(CIFAR100, "url", "http://127.0.0.1:9/cifar-100-python.tar.gz")  # nothing listens there
    root = tmp_path / "cache"
    with pytest.raises(FileNotFoundError, match="download failed 2 times.*NNSRM_DATA"):
        data.load_images("cifar100", root=root, retries=2)
    assert list(root.iterdir()) == []


def test_missing_dataset_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False"):
        data.load_images("cifar10", root=tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match="JPEG copy.*download=False.*NNSRM_CIFAR10_JPEG_URL"):
        data.load_images("cifar10-jpeg", root=tmp_path, download=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_images("mnist", root=tmp_path)


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.data_root() == tmp_path
    assert data.data_root(tmp_path / "x") == tmp_path / "x"


def test_jpeg_copy_is_read_and_cached(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("test", 2)):
        for cls in ("cat", "airplane"):
            (tmp_path / "cifar10-jpeg" / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
                    tmp_path / "cifar10-jpeg" / split / cls / f"{i:04d}.jpg", quality=95)
    pin_jpeg_copy(monkeypatch, tmp_path)
    images = data.load_images("cifar10-jpeg", root=tmp_path, download=False)
    assert images.label == "CIFAR-10 (JPEG copy)" and images.classes == ("airplane", "cat")
    assert images.x_train.shape == (6, 32, 32, 3) and list(images.y_train) == [0, 0, 0, 1, 1, 1]
    assert len(list((tmp_path / "xdg").rglob("*.npz"))) == 1
    again = data.load_images("cifar10-jpeg", root=tmp_path, download=False)
    np.testing.assert_array_equal(again.x_test, images.x_test)


def test_preprocess_is_the_authors_normalisation():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    images = data.Images("cifar10", "CIFAR-10", tuple("abcdefghij"), x, np.zeros(50, np.int64), x[:5], np.zeros(5, np.int64))
    out = data.preprocess(images, images.x_train)
    assert out.shape == (50, 3, 32, 32) and out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out[0, 1, 2, 3], (x[0, 2, 3, 1] - x[:, 2, 3, 1].mean()) / 128, rtol=1e-5)


def test_stratified_subset_keeps_class_proportions():
    labels = np.repeat(np.arange(10), 50)  # stored class by class, like the JPEG copy
    keep = data.stratified_subset(labels, 100)
    assert np.all(np.bincount(labels[keep]) == 10) and np.all(np.diff(keep) > 0)
    assert len(data.stratified_subset(labels, None)) == 500


def test_analysis_split_is_stratified_sorted_and_seeded():
    labels = np.repeat(np.arange(10), 100)
    fit, test = data.analysis_split(labels, n_fit=800, n_test=200)
    assert len(fit) == 800 and len(test) == 200 and not set(fit) & set(test)
    assert np.all(np.bincount(labels[test]) == 20)
    assert np.all(np.diff(labels[test]) >= 0)
    np.testing.assert_array_equal(test, data.analysis_split(labels, n_fit=800, n_test=200)[1])
    with pytest.raises(ValueError, match="exceeds"):
        data.analysis_split(labels, n_fit=900, n_test=200)
