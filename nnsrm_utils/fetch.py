"""A pinned public archive of files: downloaded once, verified by its content, moved into place.

An :class:`Archive` is pinned by a *content digest*: the SHA-256 of the listing ``sha256sum``
prints for its files, with their paths relative to the folder and sorted in C locale.  It
names the files' bytes, not the archive's, so any archive of the same files passes however it
was packed (GitHub's archives of one commit are not byte-stable).

:func:`ensure` returns the archive's folder under a data root.  When the folder is missing it
downloads the archive into a scratch folder beside it, extracts the archive's files, verifies
the digest and only then moves the folder into place in one rename: an interrupted download
or extraction, a wrong digest or a failing server leave nothing half-written.  A verified
folder is remembered by its files' names, sizes and modification times, so later calls cost
one directory walk, and a folder changed afterwards is hashed again and refused.
"""
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import time
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ._progress import progress_bar

RETRY_WAIT = 2.0  # seconds before the first retry; doubled for each later one
TIMEOUT = 60      # seconds a stalled connection may stay silent


class ContentMismatch(RuntimeError):
    """A folder or an archive does not hold the files its content digest pins."""

    def __init__(self, message, digest, n_files):
        super().__init__(message)
        self.digest, self.n_files = digest, n_files


@dataclass(frozen=True)
class Archive:
    name: str       # the folder it becomes under the data root
    label: str      # how it is named in messages
    url: str        # where the archive is downloaded from
    url_env: str    # environment variable naming a mirror instead of ``url``
    digest: str     # content digest of the files under ``parts``
    n_files: int
    parts: tuple    # the archive's top-level folders that are kept ("train", "test")
    size: str       # the download's size, for messages

    def source(self, url=None):
        return url or os.environ.get(self.url_env) or self.url


def cache_home():
    """The package's cache folder: ``$XDG_CACHE_HOME/nnsrm``, default ``~/.cache/nnsrm``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnsrm"


def ensure(archive, root, download=True, url=None, retries=3, progress=None):
    """The verified folder ``root / archive.name``, downloaded first if it is missing.

    Returns the folder's files (paths relative to it, sorted).  ``url`` (or the environment
    variable ``archive.url_env``) replaces the pinned address, e.g. with a mirror; the files
    must still have the pinned digest.  ``progress``: a progress bar for the download
    (``None``: only on Colab or in a terminal).  Raises :class:`FileNotFoundError` when the
    folder is missing and cannot be downloaded, :class:`ContentMismatch` when a folder or a
    downloaded archive holds other files than the pinned ones.
    """
    root = Path(root)
    folder = root / archive.name
    if not folder.is_dir() or not any(folder.iterdir()):
        if not download:
            raise FileNotFoundError(_missing(archive, folder, "downloads are switched off (download=False)", url))
        _install(archive, root, archive.source(url), retries, progress)
    return verified(archive, folder)


def verified(archive, folder, remember_as=None):
    """``folder``'s files if they are the archive's; hashed only when they changed since last verified.

    ``remember_as``: the path the folder will have (it is verified before it is moved there)."""
    entries = _walk(folder, archive.parts)
    paths = [p for p, _, _ in entries]
    stamp = hashlib.sha256("".join(f"{p}\t{size}\t{mtime}\n" for p, size, mtime in entries).encode()).hexdigest()
    memo = _memo_path(archive, remember_as or folder)
    expected = {"digest": archive.digest, "stamp": stamp}
    if memo.exists() and json.loads(memo.read_text()) == expected:
        return paths
    digest = content_digest(folder, paths)
    if digest != archive.digest:
        raise ContentMismatch(
            f"{folder} does not hold the {archive.label}: {_differs(archive, digest, len(paths))}. Files were "
            "added, removed or edited, or the folder came from elsewhere. Delete it and run again to download "
            f"the pinned copy ({archive.size}).", digest, len(paths))
    _write_atomically(memo, json.dumps(expected))
    return paths


def content_digest(folder, files):
    """SHA-256 of ``sha256sum``'s listing of ``files`` (relative paths, in the given order)."""
    listing = hashlib.sha256()
    for path in files:
        listing.update(f"{hashlib.sha256((Path(folder) / path).read_bytes()).hexdigest()}  {path}\n".encode())
    return listing.hexdigest()


def files(folder, parts):
    """Every file under ``folder/part`` for each of ``parts``: relative paths, sorted as in C locale."""
    return [p for p, _, _ in _walk(folder, parts)]


def _walk(folder, parts):
    """(relative path, size, mtime in ns) of every file under ``folder/part``, sorted as in C locale."""
    entries = []
    for part in parts:
        for dirpath, _, names in os.walk(Path(folder) / part, followlinks=True):
            for name in names:
                st = os.stat(os.path.join(dirpath, name))
                entries.append((Path(dirpath, name).relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return sorted(entries, key=lambda e: e[0].encode())


def _memo_path(archive, folder):
    key = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:16]
    return cache_home() / "verified" / f"{archive.name}-{key}.json"


def _install(archive, root, url, retries, progress):
    """Download, extract and verify in a scratch folder under ``root``; then one rename into place."""
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_scratch(root, archive)
    errors = []
    for attempt in range(retries):
        if attempt:
            time.sleep(RETRY_WAIT * 2 ** (attempt - 1))
        scratch = Path(tempfile.mkdtemp(prefix=f".partial-{archive.name}-{os.getpid()}-", dir=root))
        try:
            _download(url, scratch / "archive", progress, archive.label)
            staged = scratch / archive.name
            _extract(scratch / "archive", staged, archive.parts)
            verified(archive, staged, remember_as=root / archive.name)
            _move_into_place(staged, root / archive.name, archive)
            return
        except ContentMismatch as err:  # not retried: the same address would serve the same files again
            raise ContentMismatch(
                f"the archive downloaded from {url} does not hold the {archive.label}: "
                f"{_differs(archive, err.digest, err.n_files)}. Nothing was written to {root}. If that address "
                f"is a mirror ({archive.url_env}), it serves other files; the pinned source is {archive.url}.",
                err.digest, err.n_files) from None
        except (OSError, EOFError, zlib.error, tarfile.TarError, http.client.HTTPException) as err:
            errors.append(f"{type(err).__name__}: {err}")  # network failures, truncated archives
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    raise FileNotFoundError(_missing(archive, root / archive.name,
                                     f"its download failed {retries} times (last: {errors[-1]}). Retry later", url))


def _download(url, path, progress, label):
    request = urllib.request.Request(url, headers={"User-Agent": "nnsrm_utils"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response, open(path, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = progress_bar(total, f"downloading {label}", progress, unit="B", unit_scale=True)
        received = 0
        while chunk := response.read(1 << 20):
            out.write(chunk)
            received += len(chunk)
            if bar:
                bar.update(len(chunk))
        if bar:
            bar.close()
    if total and received < total:
        raise EOFError(f"the download ended after {received:,} of {total:,} bytes")


def _extract(tarball, folder, parts):
    """Extract the files under ``parts`` (below at most one top folder, as GitHub packs them).

    Destination paths are built from checked names, never from the archive's paths as they
    stand, so an archive cannot write outside ``folder``."""
    with tarfile.open(tarball) as tar:  # any compression tarfile knows
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


def _move_into_place(staged, folder, archive):
    try:
        os.replace(staged, folder)  # one rename: the folder appears complete or not at all
    except OSError:
        if not folder.is_dir() or not any(folder.iterdir()):
            raise
        # another process installed it first: ensure() verifies what is there


def _remove_abandoned_scratch(root, archive):
    """Scratch folders of processes that were killed mid-download."""
    for scratch in root.glob(f".partial-{archive.name}-*"):
        pid = scratch.name.split("-")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(scratch, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
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
    return (
        f"the {archive.label} is not in {folder} and {why}. Download {archive.source(url)} "
        f"({archive.size}) where you have internet access and unpack its {' and '.join(archive.parts)} folders "
        f"into {folder}; or point NNSRM_DATA at a folder that holds '{archive.name}'; or set {archive.url_env} "
        "to a mirror of the same archive."
    )
