"""A pinned public archive of files: downloaded once, verified by its content, moved into place.

An :class:`Archive` is pinned by a *content digest*: the SHA-256 of the listing ``sha256sum``
prints for its files, with their paths relative to the folder and sorted in C locale.  It
names the files' bytes, not the archive's, so any archive of the same files passes however it
was packed (GitHub's archives of one commit are not byte-stable).

:func:`ensure` returns the archive's folder under a data root.  When the folder is missing it
downloads the archive into a scratch folder beside it, extracts the archive's files, verifies
the digest and only then moves the folder into place in one rename: an interrupted download
or extraction, a wrong digest or a failing server leave nothing half-written.  A verified
folder is remembered by its files' names, sizes, times and inodes, so later calls cost one
directory walk, and a folder changed afterwards is hashed again (and refused if it differs).
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import socket
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ._progress import progress_bar

RETRY_WAIT = 2.0  # seconds before the first retry; doubled for each later one
TIMEOUT = 60      # seconds a stalled connection may stay silent
# Worth another try: the network, and archives that arrive cut off or damaged.  Other OSErrors
# are this machine's (disk full, no permission) and are reported at once.
TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, EOFError,
             zlib.error, gzip.BadGzipFile, tarfile.TarError)


class ContentMismatch(RuntimeError):
    """A folder or an archive does not hold the files its content digest pins.

    ``digest`` and ``n_files`` are what was found, for the message of whoever re-raises it.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "train").mkdir()
    >>> _ = (folder / "train" / "a.txt").write_text("hello")
    >>> wrong = Archive("toy", "toy files", "https://example.org/toy.tar.gz", "TOY_URL", "0" * 64, 1, ("train",), "1 kB")
    >>> try:
    ...     verified(wrong, folder)
    ... except ContentMismatch as err:
    ...     print(err.n_files, err.digest[:12])
    1 7bba14236038
    >>> shutil.rmtree(folder)
    """

    def __init__(self, message: str, digest: str, n_files: int) -> None:
        super().__init__(message)
        self.digest, self.n_files = digest, n_files


@dataclass(frozen=True)
class Archive:
    """A pinned public archive: where it is downloaded from, and the content digest of its files.

    See the module for the digest, and :func:`ensure` for a whole download.

    Examples
    --------
    >>> toy = Archive("toy", "toy files", "https://example.org/toy.tar.gz", "TOY_URL", "0" * 64, 1, ("train",), "1 kB")
    >>> toy.source(), toy.source("https://mirror.example.org/toy.tar.gz")
    ('https://example.org/toy.tar.gz', 'https://mirror.example.org/toy.tar.gz')
    """

    name: str       # the folder it becomes under the data root
    label: str      # how it is named in messages
    url: str        # where the archive is downloaded from
    url_env: str    # environment variable naming a mirror instead of ``url``
    digest: str     # content digest of the files under ``parts``
    n_files: int
    parts: tuple    # the archive's top-level folders that are kept ("train", "test")
    size: str       # the download's size, for messages

    def source(self, url: str | None = None) -> str:
        """The address to download from: ``url``, else ``$url_env`` (a mirror), else ``url``."""
        return url or os.environ.get(self.url_env) or self.url


def cache_home() -> Path:
    """The package's cache folder: ``$XDG_CACHE_HOME/nnsrm``, default ``~/.cache/nnsrm``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": "/scratch/cache"}):
    ...     print(cache_home())
    /scratch/cache/nnsrm
    """
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnsrm"


def ensure(archive: Archive, root: str | os.PathLike, download: bool = True, url: str | None = None,
           retries: int = 3, progress: bool | None = None) -> list[str]:
    """The verified folder ``root / archive.name``, downloaded first if it is missing.

    ``url`` (or the environment variable ``archive.url_env``) replaces the pinned address, e.g.
    with a mirror; the files must still have the pinned digest.  ``retries``: attempts at the
    download.  ``progress``: progress bars for download and unpacking (``None``: only on Colab
    or in a terminal).

    Returns
    -------
    list of str
        The folder's files, paths relative to it, sorted as in C locale.

    Raises
    ------
    ValueError
        If ``retries`` is below 1.
    FileNotFoundError
        When the folder is missing and cannot be downloaded (or ``download=False``).
    ContentMismatch
        When the folder or a downloaded archive holds other files than the pinned ones.
    OSError
        When the folder cannot be written.

    Examples
    --------
    A one-file archive, served from a local file (a ``file://`` address downloads like any other):

    >>> import os, pathlib, shutil, tarfile, tempfile
    >>> from unittest import mock
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> (tmp / "src" / "train").mkdir(parents=True)
    >>> _ = (tmp / "src" / "train" / "a.txt").write_text("hello")
    >>> with tarfile.open(tmp / "toy.tar.gz", "w:gz") as tar:  # packed below a top folder, as GitHub does
    ...     tar.add(tmp / "src" / "train", arcname="toy-main/train")
    >>> toy = Archive("toy", "toy files", (tmp / "toy.tar.gz").as_uri(), "TOY_URL",
    ...               content_digest(tmp / "src", ["train/a.txt"]), 1, ("train",), "1 kB")
    >>> with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": str(tmp / "cache")}):  # the memo, too
    ...     ensure(toy, tmp / "data", progress=False)
    ['train/a.txt']
    >>> (tmp / "data" / "toy" / "train" / "a.txt").read_text()
    'hello'
    >>> shutil.rmtree(tmp)
    """
    if retries < 1:
        raise ValueError(f"retries must be at least 1, not {retries}")
    root = Path(root)
    folder = root / archive.name
    if not folder.is_dir() or not any(folder.iterdir()):
        if not download:
            raise FileNotFoundError(_missing(archive, folder, "downloads are switched off (download=False)", url))
        _install(archive, root, archive.source(url), retries, progress)
    return verified(archive, folder)


def verified(archive: Archive, folder: str | os.PathLike, remember_as: str | os.PathLike | None = None) -> list[str]:
    """``folder``'s files if they are the archive's; hashed only when they changed since last verified.

    ``remember_as``: the path the folder will have (it is verified before it is moved there).
    A verified folder is remembered under :func:`cache_home` (if that can be written).

    Returns
    -------
    list of str
        The files under the archive's ``parts``, paths relative to ``folder``, sorted as in C locale.

    Raises
    ------
    ContentMismatch
        If the files' content digest is not the archive's.

    Examples
    --------
    >>> import os, pathlib, shutil, tempfile
    >>> from unittest import mock
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "train").mkdir()
    >>> _ = (folder / "train" / "a.txt").write_text("hello")
    >>> toy = Archive("toy", "toy files", "https://example.org/toy.tar.gz", "TOY_URL",
    ...               content_digest(folder, ["train/a.txt"]), 1, ("train",), "1 kB")
    >>> with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": str(folder / "cache")}):
    ...     verified(toy, folder)
    ['train/a.txt']
    >>> shutil.rmtree(folder)

    :class:`ContentMismatch` shows a folder that does not match.
    """
    entries = _walk(folder, archive.parts)
    paths = [e[0] for e in entries]
    stamp = hashlib.sha256("".join("\t".join(map(str, e)) + "\n" for e in entries).encode()).hexdigest()
    memo = _memo_path(archive, remember_as or folder)
    expected = {"digest": archive.digest, "stamp": stamp}
    if _read_memo(memo) == expected:
        return paths
    digest = content_digest(folder, paths)
    if digest != archive.digest:
        raise ContentMismatch(
            f"{folder} does not hold the {archive.label}: {_differs(archive, digest, len(paths))}. Files were "
            "added, removed or edited, or the folder came from elsewhere. Delete it and run again to download "
            f"the pinned copy ({archive.size}).", digest, len(paths))
    try:
        _write_atomically(memo, json.dumps(expected))
    except OSError:  # a read-only cache: verified all the same, only not remembered
        pass
    return paths


def content_digest(folder: str | os.PathLike, files: Sequence[str]) -> str:
    """SHA-256 of ``sha256sum``'s listing of ``files`` (relative paths, in the given order).

    Returns
    -------
    str
        64 hexadecimal digits: ``sha256sum FILES | sha256sum`` run in ``folder``.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("hello")
    >>> content_digest(folder, ["a.txt"])[:16]
    'c703ac0c3c578e7b'
    >>> shutil.rmtree(folder)
    """
    listing = hashlib.sha256()
    for path in files:
        listing.update(f"{hashlib.sha256((Path(folder) / path).read_bytes()).hexdigest()}  {path}\n".encode())
    return listing.hexdigest()


def files(folder: str | os.PathLike, parts: Sequence[str]) -> list[str]:
    """Every file under ``folder/part`` for each of ``parts``: relative paths, sorted as in C locale.

    Returns
    -------
    list of str
        Paths relative to ``folder``, with ``/`` separators; a missing part contributes none.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("train/b.txt", "train/B.txt", "test/a.txt", "notes.txt"):
    ...     (folder / name).parent.mkdir(exist_ok=True)
    ...     _ = (folder / name).write_text(name)
    >>> files(folder, ["train", "test"])
    ['test/a.txt', 'train/B.txt', 'train/b.txt']
    >>> shutil.rmtree(folder)
    """
    return [e[0] for e in _walk(folder, parts)]


def _walk(folder, parts):
    """(relative path, size, mtime, ctime, inode) of every file under ``folder/part``, sorted as in C locale.

    The times and the inode make an edit that keeps a file's size and restores its mtime
    visible too (ctime cannot be set back)."""
    base = len(os.path.join(folder, ""))
    entries = []
    for part in parts:
        for dirpath, _, names in os.walk(os.path.join(folder, part), followlinks=True):
            for name in names:
                path = os.path.join(dirpath, name)
                st = os.stat(path)
                entries.append((path[base:].replace(os.sep, "/"), st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                st.st_ino))
    return sorted(entries, key=lambda e: e[0].encode())


def _memo_path(archive, folder):
    key = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    return cache_home() / "verified" / f"{archive.name}-{key}.json"


def _read_memo(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # none yet, unreadable or damaged: verify again
        return None


def _install(archive, root, url, retries, progress):
    """Download, extract and verify in a scratch folder under ``root``; then one rename into place."""
    errors = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_scratch(root)
        for attempt in range(retries):
            if attempt:
                time.sleep(RETRY_WAIT * 2 ** (attempt - 1))
            scratch = Path(tempfile.mkdtemp(prefix=_scratch_prefix(archive), dir=root))
            try:
                _download(url, scratch / "archive", progress, archive.label)
                staged = scratch / archive.name
                _extract(scratch / "archive", staged, archive.parts,
                         progress_bar(archive.n_files, f"unpacking {archive.label}", progress, unit="file"))
                verified(archive, staged, remember_as=root / archive.name)
                _move_into_place(staged, root / archive.name)
                return
            except ContentMismatch as err:  # not retried: the same address would serve the same files again
                raise ContentMismatch(
                    f"the archive downloaded from {url} does not hold the {archive.label}: "
                    f"{_differs(archive, err.digest, err.n_files)}. Nothing was written to {root}. If that address "
                    f"is a mirror ({archive.url_env}), it serves other files; the pinned source is {archive.url}.",
                    err.digest, err.n_files) from None
            except TRANSIENT as err:
                errors.append(f"{type(err).__name__}: {err}")
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    except OSError as err:  # this machine's, not the network's: retrying would not help
        raise OSError(f"could not write the {archive.label} into {root} ({type(err).__name__}: {err}). Point "
                      f"NNSRM_DATA at a writable folder with room for it ({archive.size}, more unpacked), "
                      "or put the folder there by hand.") from err
    raise FileNotFoundError(_missing(archive, root / archive.name,
                                     f"its download failed {retries} times (last: {errors[-1]}). Retry later", url))


def _download(url, path, progress, label):
    request = urllib.request.Request(url, headers={"User-Agent": "nnsrm_utils"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response, open(path, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        received = 0
        with progress_bar(total, f"downloading {label}", progress, unit="B", unit_scale=True) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total and received < total:  # without a length, gzip notices the cut instead
        raise EOFError(f"the download ended after {received:,} of {total:,} bytes")


def _extract(tarball, folder, parts, bar):
    """Extract the files under ``parts`` (below at most one top folder, as GitHub packs them).

    Destination paths are built from checked names, never from the archive's paths as they
    stand, so an archive cannot write outside ``folder``; links are skipped.  ``bar`` counts files."""
    with bar, tarfile.open(tarball) as tar:  # any compression tarfile knows
        for member in tar:
            names = PurePosixPath(member.name).parts
            if names and names[0] not in parts:
                names = names[1:]  # the archive's top folder
            if not member.isfile() or not names or names[0] not in parts or \
                    any(n in ("", ".", "..") or "\\" in n for n in names):
                continue
            target = folder.joinpath(*names)
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            bar.update(1)
        # tarfile takes a damaged header for the archive's end; reading the compressed stream to
        # its end makes gzip check its length and CRC, so damage is an error (and retried).
        while tar.fileobj.read(1 << 20):
            pass


def _move_into_place(staged, folder):
    try:
        os.replace(staged, folder)  # one rename: the folder appears complete or not at all
    except OSError:
        if not folder.is_dir() or not any(folder.iterdir()):
            raise
        # another process installed it first: ensure() verifies what is there


def _scratch_prefix(archive):
    """Scratch folders are named after their machine and process, to tell abandoned ones."""
    return f".partial-{archive.name}-{socket.gethostname()}-{os.getpid()}-"


def _remove_abandoned_scratch(root):
    """Scratch folders of processes on this machine that were killed mid-download (POSIX)."""
    for scratch in root.glob(f".partial-*-{socket.gethostname()}-*"):
        pid = scratch.name.split("-")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(scratch, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _write_atomically(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)


def _differs(archive, digest, n_files):
    return (f"its {n_files:,} files under {'/, '.join(archive.parts)}/ have the content digest {digest}, "
            f"not {archive.digest} ({archive.n_files:,} files)")


def _missing(archive, folder, why, url=None):
    source = archive.source(url)
    mirror = f" (a mirror of {archive.url})" if source != archive.url else ""
    return (
        f"the {archive.label} is not in {folder} and {why}. Download {source}{mirror} ({archive.size}) where "
        f"you have internet access and unpack its {' and '.join(archive.parts)} folders into {folder}; or point "
        f"NNSRM_DATA at a folder that holds '{archive.name}'; or set {archive.url_env} to a mirror of the same "
        "archive."
    )
