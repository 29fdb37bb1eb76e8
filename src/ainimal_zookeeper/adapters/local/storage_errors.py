"""Storage failures (SQLite, files) as `StorageUnavailable`: what happened, never internals."""

from __future__ import annotations

import errno
import logging
import sqlite3

from ainimal_zookeeper.errors import StorageUnavailable

log = logging.getLogger(__name__)

#: SQLite's primary result codes (the low byte of an extended code) a client may be told about.
_SQLITE_REASONS = {
    8: "the storage is read-only",  # SQLITE_READONLY
    10: "the storage had an I/O error",  # SQLITE_IOERR
    11: "the stored data is damaged",  # SQLITE_CORRUPT
    13: "the storage is full",  # SQLITE_FULL
    14: "the storage could not be opened",  # SQLITE_CANTOPEN
    5: "the storage is busy",  # SQLITE_BUSY
    6: "the storage is locked",  # SQLITE_LOCKED
}
_OS_REASONS = {
    errno.ENOSPC: "the storage is full",
    errno.EDQUOT: "the storage is full",
    errno.EFBIG: "the storage is full",
    errno.EROFS: "the storage is read-only",
    errno.EACCES: "the storage is not writable",
    errno.EPERM: "the storage is not writable",
    errno.EIO: "the storage had an I/O error",
}
_FIX = "the request may be retried once the server's administrator has fixed it; nothing else was lost"


def from_sqlite(exc: sqlite3.Error, what: str) -> StorageUnavailable:
    """The client's error for a failed SQLite call (details go to the server's log)."""
    code = getattr(exc, "sqlite_errorcode", None)
    reason = _SQLITE_REASONS.get(code & 0xFF, "") if isinstance(code, int) else ""
    log.error("storage failed while %s: %s", what, exc)
    return StorageUnavailable(f"could not {what}: {reason or 'the storage failed'}; {_FIX}")


def from_os(exc: OSError, what: str) -> StorageUnavailable:
    """The client's error for a failed file operation (details go to the server's log)."""
    reason = _OS_REASONS.get(exc.errno or 0, "the storage failed")
    log.error("storage failed while %s: %s", what, exc)
    return StorageUnavailable(f"could not {what}: {reason}; {_FIX}")
