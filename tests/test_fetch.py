"""Downloading a pinned archive, offline: a small archive served on 127.0.0.1 by the test itself."""
import dataclasses
import http.server
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nnsrm_utils import data, fetch

TOP = "CIFAR-10-images-0123abc"  # GitHub's archives hold the commit's files under one folder
FILES = {f"{split}/{cls}/{i:04d}.jpg": bytes([s, c, i]) * 50
         for s, split in enumerate(("train", "test")) for c, cls in enumerate(("cat", "airplane")) for i in range(3)}
# Looked up before any test changes the environment.
MACHINES_COPIES = (data.data_root() / "cifar10-jpeg", Path(__file__).parents[2] / "shared/data/cifar10-jpeg")


def _tarball(files, extra=()):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, content in [*files.items(), *extra]:
            info = tarfile.TarInfo(name if name.startswith(("/", "..")) else f"{TOP}/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _digest(files):
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "digest-source"
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    digest = fetch.content_digest(folder, fetch.files(folder, ("train", "test")))
    shutil.rmtree(folder)
    return digest


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(fetch, "RETRY_WAIT", 0.0)


@pytest.fixture
def server():
    """Serves ``state.body``; each request follows the next step of ``state.plan`` (default "ok")."""
    state = SimpleNamespace(body=_tarball(FILES, [("README.md", b"not kept")]), plan=[], requests=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state.requests += 1
            step = state.plan.pop(0) if state.plan else "ok"
            if step == "fail":
                return self.send_error(503, "unavailable")
            self.send_response(200)
            if step != "cut":  # "cut": no length announced, half the body (gzip must notice)
                self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body if step == "ok" else state.body[: len(state.body) // 2])

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/archive.tar.gz"
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def archive(server):
    return fetch.Archive(name="copy", label="test copy", url=server.url, url_env="NNSRM_TEST_COPY_URL",
                         digest=_digest(FILES), n_files=len(FILES), parts=("train", "test"), size="1 kB")


def _left(root):
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_download_is_verified_moved_into_place_and_remembered(tmp_path, server, archive, monkeypatch):
    root = tmp_path / "data"
    assert fetch.ensure(archive, root) == sorted(FILES, key=str.encode)
    assert _left(root) == ["copy"] and _left(root / "copy") == ["test", "train"]  # no archive, scratch or README
    assert (root / "copy" / "train/cat/0001.jpg").read_bytes() == FILES["train/cat/0001.jpg"]
    monkeypatch.setattr(fetch, "content_digest", None)  # a verified, unchanged folder is not hashed again
    assert fetch.ensure(archive, root) == sorted(FILES, key=str.encode) and server.requests == 1


@pytest.mark.parametrize("change", ["add", "remove", "edit", "edit, mtime restored"])
def test_a_folder_changed_after_verification_is_refused(tmp_path, archive, change):
    root = tmp_path / "data"
    fetch.ensure(archive, root)
    target = root / "copy" / "test/cat/0002.jpg"
    before = target.stat()
    if change == "add":
        (target.parent / "0003.jpg").write_bytes(b"new")
    elif change == "remove":
        target.unlink()
    else:
        target.write_bytes(target.read_bytes()[::-1])  # same size, other bytes
        # mtime one second later (coarse file-system clocks may not tick in between), or set back
        mtime = before.st_mtime_ns + (0 if change.endswith("restored") else 10**9)
        os.utime(target, ns=(before.st_atime_ns, mtime))
    with pytest.raises(fetch.ContentMismatch, match="does not hold the test copy.*Delete it"):
        fetch.ensure(archive, root)


def test_corrupted_archive_is_refused_without_retrying_and_leaves_nothing(tmp_path, server, archive):
    server.body = _tarball({**FILES, "test/cat/0000.jpg": b"corrupted"})
    root = tmp_path / "data"
    with pytest.raises(fetch.ContentMismatch, match=f"downloaded from {server.url} does not hold the test copy: "
                                                    f"its 12 files .* not {archive.digest} .*Nothing was written"):
        fetch.ensure(archive, root)
    assert server.requests == 1 and _left(root) == []


def test_truncated_download_is_retried(tmp_path, server, archive):
    server.plan = ["truncate", "cut", "ok"]
    fetch.ensure(archive, tmp_path / "data")
    assert server.requests == 3 and _left(tmp_path / "data") == ["copy"]


def test_damaged_archive_is_retried_then_reported(tmp_path, server, archive):
    body = bytearray(server.body)
    body[len(body) // 2: len(body) // 2 + 64] = bytes(64)  # zeros inside the compressed stream
    server.body = bytes(body)
    root = tmp_path / "data"
    with pytest.raises(FileNotFoundError, match=r"failed 2 times \(last: (BadGzipFile|error|EOFError|ReadError): "):
        fetch.ensure(archive, root, retries=2)
    assert server.requests == 2 and _left(root) == []


def test_failing_server_ends_in_a_clear_error_and_leaves_nothing(tmp_path, server, archive):
    server.plan = ["fail", "truncate"]
    root = tmp_path / "data"
    with pytest.raises(FileNotFoundError, match=r"failed 2 times \(last: EOFError: the download ended after "
                                                r".*Retry later.*unpack its train and test.*NNSRM_DATA.*NNSRM_TEST_COPY_URL"):
        fetch.ensure(archive, root, retries=2)
    assert server.requests == 2 and _left(root) == []
    server.plan = ["fail"]
    with pytest.raises(FileNotFoundError, match="HTTP Error 503"):
        fetch.ensure(archive, root, retries=1)
    with pytest.raises(FileNotFoundError, match="Connection refused"):  # nothing listens on port 9
        fetch.ensure(archive, root, retries=1, url="http://127.0.0.1:9/archive.tar.gz")
    assert _left(root) == []


def test_a_retry_after_a_server_error_succeeds(tmp_path, server, archive):
    server.plan = ["fail", "fail"]
    fetch.ensure(archive, tmp_path / "data", retries=3)
    assert server.requests == 3
    with pytest.raises(ValueError, match="at least 1"):
        fetch.ensure(archive, tmp_path / "other", retries=0)


def test_an_unwritable_data_folder_is_reported_at_once(tmp_path, server, archive):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OSError, match="could not write the test copy into .*a-file/data.*NNSRM_DATA"):
        fetch.ensure(archive, tmp_path / "a-file" / "data")
    assert server.requests == 0


def test_an_unwritable_cache_only_costs_the_memo(tmp_path, server, archive, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    assert len(fetch.ensure(archive, tmp_path / "data")) == len(FILES)
    assert len(fetch.ensure(archive, tmp_path / "data")) == len(FILES) and server.requests == 1


def test_another_process_installing_first_is_fine(tmp_path, server, archive, monkeypatch):
    fetch.ensure(archive, tmp_path / "first")
    root, download = tmp_path / "data", fetch._download

    def racing(*args):
        download(*args)
        shutil.copytree(tmp_path / "first/copy", root / "copy")  # the other process, done first

    monkeypatch.setattr(fetch, "_download", racing)
    assert len(fetch.ensure(archive, root)) == len(FILES)
    assert _left(root) == ["copy"] and server.requests == 2


def test_symlinked_class_folders_are_followed(tmp_path, archive):
    fetch.ensure(archive, tmp_path / "data")
    moved = tmp_path / "elsewhere" / "cat"
    shutil.move(tmp_path / "data/copy/train/cat", moved)
    (tmp_path / "data/copy/train/cat").symlink_to(moved)
    assert len(fetch.verified(archive, tmp_path / "data/copy")) == len(FILES)


def test_interrupted_extraction_leaves_nothing(tmp_path, archive, monkeypatch):
    copy, copied = shutil.copyfileobj, []

    def interrupted(src, dst, *args):
        if len(copied) == 3:
            raise KeyboardInterrupt
        copied.append(copy(src, dst, *args))

    monkeypatch.setattr(shutil, "copyfileobj", interrupted)
    root = tmp_path / "data"
    with pytest.raises(KeyboardInterrupt):
        fetch.ensure(archive, root)
    assert len(copied) == 3 and _left(root) == []
    monkeypatch.setattr(shutil, "copyfileobj", copy)
    assert len(fetch.ensure(archive, root)) == len(FILES)


def test_scratch_of_a_killed_process_is_removed(tmp_path, archive):
    root = tmp_path / "data"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    kept = [f".partial-copy-{host}-{os.getpid()}-x1y2", f".partial-copy-other-host-{dead.stdout.strip()}-x1y2"]
    for name in [f".partial-copy-{host}-{dead.stdout.strip()}-x1y2", *kept]:
        (root / name / "copy").mkdir(parents=True)
    fetch.ensure(archive, root)
    assert _left(root) == sorted([*kept, "copy"])  # a live process's scratch, and another machine's, stay


def test_without_download_nothing_is_fetched(tmp_path, server, archive):
    with pytest.raises(FileNotFoundError, match=r"download=False\). Download http://127\.0\.0\.1"):
        fetch.ensure(archive, tmp_path / "data", download=False)
    assert server.requests == 0


def test_a_mirror_from_the_environment_or_an_argument(tmp_path, server, archive, monkeypatch):
    nowhere = dataclasses.replace(archive, url="http://127.0.0.1:9/nothing-here")
    monkeypatch.setenv(archive.url_env, server.url)
    fetch.ensure(nowhere, tmp_path / "env", retries=1)
    monkeypatch.delenv(archive.url_env)
    fetch.ensure(nowhere, tmp_path / "arg", retries=1, url=server.url)
    assert server.requests == 2


def test_paths_outside_the_archive_folder_are_never_written(tmp_path, server, archive):
    climbs = [f"train/{'../' * n}escaped.jpg" for n in range(1, 5)]  # up to tmp_path from the scratch folder
    server.body = _tarball(FILES, [("../../escaped.jpg", b"x"), (f"{tmp_path}/escaped.jpg", b"x"),
                                   *[(name, b"x") for name in climbs]])
    fetch.ensure(archive, tmp_path / "data")
    assert not list(tmp_path.rglob("escaped.jpg"))


def test_links_in_the_archive_are_not_followed(tmp_path, server, archive):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        link = tarfile.TarInfo(f"{TOP}/train/link")
        link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path / "outside")
        tar.addfile(link)
        through = tarfile.TarInfo(f"{TOP}/train/link/escaped.jpg")
        through.size = 1
        tar.addfile(through, io.BytesIO(b"x"))
    server.body = out.getvalue()
    with pytest.raises(fetch.ContentMismatch):  # the file lands inside, as an extra file
        fetch.ensure(archive, tmp_path / "data")
    assert not (tmp_path / "outside").exists()


def test_load_images_downloads_the_jpeg_copy(tmp_path, server, monkeypatch):
    from PIL import Image

    images = {}
    for name in FILES:
        out = io.BytesIO()
        Image.fromarray(np.full((32, 32, 3), len(images), np.uint8)).save(out, format="JPEG")
        images[name] = out.getvalue()
    server.body = _tarball(images)
    monkeypatch.setattr(data, "JPEG_COPY", dataclasses.replace(data.JPEG_COPY, digest=_digest(images),
                                                               n_files=len(images)))
    loaded = data.load_images("cifar10-jpeg", root=tmp_path / "data", url=server.url)
    assert loaded.label == "CIFAR-10 (JPEG copy)" and loaded.classes == ("airplane", "cat")
    assert loaded.x_train.shape == (6, 32, 32, 3) and list(loaded.y_train) == [0, 0, 0, 1, 1, 1]
    assert list(loaded.y_test) == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="JPEG copy only"):
        data.load_images("cifar100", root=tmp_path / "data", url=server.url)


def test_pinned_digest_is_the_offline_copys():
    """Where this machine has the copy (CI's offline folder, or a downloaded one), it is the pinned one."""
    here = [f for f in MACHINES_COPIES if f.is_dir()]
    if not here:
        pytest.skip("no CIFAR-10 JPEG copy on this machine")
    assert len(fetch.verified(data.JPEG_COPY, here[0])) == 60_000  # own_cache: hashed, not remembered


def test_the_command_line_downloads_or_says_why_not(tmp_path, server, archive, monkeypatch, capsys):
    from nnsrm_utils.__main__ import main

    monkeypatch.setattr(data, "JPEG_COPY", dataclasses.replace(archive, name="cifar10-jpeg"))
    with pytest.raises(SystemExit) as exit_:
        main(["data", "--data", str(tmp_path / "data"), "--url", "http://127.0.0.1:9/nothing-here"])
    assert exit_.value.code == 1 and "download failed 3 times" in capsys.readouterr().err
    assert _left(tmp_path / "data") == [] and server.requests == 0
