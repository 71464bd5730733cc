"""Google Colab: keep trained runs on Google Drive, so that a runtime reset does not lose them.

A Colab runtime's disk is wiped when the runtime is reset or recycled, and with it every trained
network under ``$NNSRM_RUNS``.  :func:`keep_runs_on_drive` (the ``RUNS_ON_DRIVE`` switch of the
deep-network chapters' parameters cells) mounts the user's Drive and points ``$NNSRM_RUNS`` at a
folder there; a finished run is then loaded, and an interrupted one resumed, in the next runtime.
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

#: Where Colab mounts Google Drive, and the user's own files within it.
MOUNT_POINT = "/content/drive"


def keep_runs_on_drive(enabled: bool, folder: str = "nnsrm/runs") -> Path | None:
    """On Colab with ``enabled``: mount Google Drive (Colab asks for permission) and set
    ``$NNSRM_RUNS`` to ``folder`` under "My Drive", created if missing; returns that path.

    Does nothing and returns None when not ``enabled`` (runs stay where ``$NNSRM_RUNS`` or the
    default cache puts them), or outside Colab, where it warns that Drive is for Colab only.

    Parameters
    ----------
    enabled : bool
        The chapter's ``RUNS_ON_DRIVE``.
    folder : str
        A path relative to "My Drive".

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    ValueError
        If ``enabled`` is not a bool, or ``folder`` is absolute or leaves "My Drive" (``..``).

    Examples
    --------
    >>> keep_runs_on_drive(False) is None
    True
    """
    if not isinstance(enabled, bool):
        raise ValueError(f"RUNS_ON_DRIVE must be True or False; got {enabled!r}")
    if Path(folder).is_absolute() or ".." in Path(folder).parts:
        raise ValueError(f"folder must be a path inside My Drive, like 'nnsrm/runs'; got {folder!r}")
    if not enabled:
        return None
    if "google.colab" not in sys.modules:
        warnings.warn("RUNS_ON_DRIVE is for Google Colab only: here runs stay in $NNSRM_RUNS (default "
                      "~/.cache/nnsrm/runs), which a restart does not erase", UserWarning, stacklevel=2)
        return None
    from google.colab import drive

    drive.mount(MOUNT_POINT)
    path = Path(MOUNT_POINT) / "MyDrive" / folder
    path.mkdir(parents=True, exist_ok=True)
    os.environ["NNSRM_RUNS"] = str(path)
    print(f"trained runs are kept on Google Drive: {path}")
    return path
