"""The data folder is the server's user's alone: 0700 folders, 0600 files.

It holds the SQLite store (accounts with password hashes, grants, instances), checkpoints,
recordings and logs. Other users of the machine must not read it, so the server creates
everything with umask 077 and, at start, takes back what an older version (or a copy) left
readable to others, saying so.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "secure_data_folder", "use_private_umask"]

log = logging.getLogger(__name__)

#: New files 0600 and folders 0700.
PRIVATE_UMASK = 0o077
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def use_private_umask() -> int:
    """Make every file this process creates from now on private to its user; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def secure_data_folder(folder: Path) -> int:
    """Create `folder` as 0700, and remove group and other access from everything inside.

    Returns how many files and folders had to be changed (a warning says so when any did).
    Symbolic links are not followed: what they point to is not the data folder's.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    changed = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in (*dirs, *files):
            changed += _make_private(os.path.join(root, name))
    changed += _make_private(str(folder))
    if changed:
        log.warning(
            "the data folder %s had %d file(s) or folder(s) other users could read or enter; "
            "they are now readable by this user only (folders 0700, files 0600)",
            folder,
            changed,
        )
    return changed


def _make_private(path: str) -> int:
    try:
        info = os.lstat(path)
    except FileNotFoundError:  # removed meanwhile
        return 0
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & _OTHERS:
        return 0
    wanted = 0o700 if stat.S_ISDIR(info.st_mode) else stat.S_IMODE(info.st_mode) & ~_OTHERS & 0o700 | 0o600
    try:
        os.chmod(path, wanted)
    except OSError as exc:  # not ours (another user's file in our folder): say so, keep going
        log.warning("could not make %s private: %s", path, exc.strerror)
        return 0
    return 1
