import dataclasses

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=30, deadline=None)
settings.load_profile("ci")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def planted_layer(rng, units=(12, 10, 15), k=4, n_examples=200, noise=0.0, offset=2.0, maps=None):
    """Networks that are orthonormal maps of one shared response, plus unit offsets and noise.

    Returns ``(xs, maps)``; pass ``maps`` back to draw held-out examples of the same networks.
    """
    if maps is None:
        maps = [(np.linalg.qr(rng.standard_normal((v, k)))[0], offset * rng.standard_normal((v, 1))) for v in units]
    s = rng.standard_normal((maps[0][0].shape[1], n_examples))
    xs = [w @ s + mu + noise * rng.standard_normal((w.shape[0], n_examples)) for w, mu in maps]
    return xs, maps


def pytest_collection_modifyitems(items):
    """The browser test builds the whole book, which uses the runs the other tests train: last."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_browser.py"))


def pin_jpeg_copy(monkeypatch, root):
    """Make the small JPEG copy a test wrote under ``root`` the pinned one (its own content digest)."""
    from nnsrm_utils import data, fetch

    folder = root / data.JPEG_COPY.name
    files = fetch.files(folder, data.JPEG_COPY.parts)
    monkeypatch.setattr(data, "JPEG_COPY", dataclasses.replace(
        data.JPEG_COPY, digest=fetch.content_digest(folder, files), n_files=len(files)))
