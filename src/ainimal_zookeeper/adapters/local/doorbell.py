"""A doorbell beside the local command bus: a counter in shared memory that the hub bumps for
each command it hands a worker's socket.

Asking the ZeroMQ socket whether a command came (`getsockopt(EVENTS)`: libzmq drains its
internal command pipe, a system call) costs 3–8 µs. Reading the doorbell is one load from
memory, so a stepping worker reads it at every step (the inbox's `doorbell`, a
`CommandDoorbell`) and asks the socket only when the count moved: a command is taken at the
next step, and a worker that nobody commands never asks its socket between its housekeeping
polls.

The count is a hint, never the message: the command still travels on the socket. A worker
that sees the count move but finds nothing yet (the message is still between the sockets) asks
the socket again at each poll until it arrives; it asks anyway every `FALLBACK_SECONDS`, so a
lost ring only delays a command, it never loses one. Only the hub writes (one 8-byte aligned
word); workers map the file read-only. The files live in a folder only this user can read.
The hub holds a lock on a file in its folder for as long as it runs (the system drops it when
the process ends, however it ends): a hub starting up removes the folders whose lock nobody
holds, those of hubs killed before they could remove their own, so restarts do not pile them up.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import shutil
import tempfile
from pathlib import Path

#: The worker asks its socket at least this often whatever the doorbell says.
FALLBACK_SECONDS = 0.05
_SIZE = 8  # one unsigned 64-bit count
_PREFIX = "zk-doorbells-"
_LOCK = ".hub.lock"  # locked by the hub for its lifetime


class Doorbells:
    """The hub's side: one doorbell file per worker, rung after each command sent to it."""

    def __init__(self) -> None:
        remove_orphaned_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=_PREFIX))  # mode 0700
        # Locked under another name, then renamed: another hub starting now never sees the
        # lock file unlocked.
        claiming = self.folder / f"{_LOCK}.new"
        self._lock = os.open(claiming, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(claiming, self.folder / _LOCK)
        self._bells: dict[bytes, tuple[mmap.mmap, memoryview]] = {}

    def path(self, identity: bytes) -> str:
        """The doorbell file of the worker named `identity` (made on first use)."""
        if identity not in self._bells:
            path = self.folder / identity.hex()
            with open(path, "wb") as file:
                file.write(bytes(_SIZE))
            with open(path, "r+b") as file:
                mapped = mmap.mmap(file.fileno(), _SIZE)
            self._bells[identity] = (mapped, memoryview(mapped).cast("Q"))
        return str(self.folder / identity.hex())

    def ring(self, identity: bytes) -> None:
        """One more command was handed to `identity`'s socket (no doorbell: nothing to do)."""
        bell = self._bells.get(identity)
        if bell is not None:
            count = bell[1]
            count[0] += 1

    def remove(self, identity: bytes) -> None:
        """The worker is gone: its doorbell goes too."""
        bell = self._bells.pop(identity, None)
        if bell is not None:
            _unmap(*bell)
            (self.folder / identity.hex()).unlink(missing_ok=True)

    def close(self) -> None:
        for mapped, count in self._bells.values():
            _unmap(mapped, count)
        self._bells.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(self._lock)


def remove_orphaned_folders() -> list[Path]:
    """Remove this user's doorbell folders whose hub is gone (its lock is free); the folders removed.

    Folders without a lock file (made by older versions) are left alone."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        with contextlib.suppress(OSError):
            if folder.stat().st_uid == os.getuid() and _unclaimed(folder / _LOCK):
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


def _unclaimed(lock: Path) -> bool:
    """Whether `lock` exists and no process holds it."""
    descriptor = os.open(lock, os.O_RDONLY)  # OSError when it does not exist: not ours to judge
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its hub runs
    finally:
        os.close(descriptor)
    return True


class DoorbellReader:
    """The worker's side: has a command been handed to my socket that I have not received?"""

    def __init__(self, path: str) -> None:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            self._mapped = mmap.mmap(descriptor, _SIZE, access=mmap.ACCESS_READ)
        finally:
            os.close(descriptor)
        self.count = memoryview(self._mapped).cast("Q")  # read-only: only the hub writes
        # Commands rung before this worker started (an earlier worker of the instance had them,
        # or they are re-sent after this one's HELLO, which rings again) are not owed to it.
        self.received = self.count[0]

    def owed(self) -> bool:
        """Whether the hub has rung more often than this worker received commands."""
        return self.count[0] != self.received

    def caught_up(self) -> None:
        """Forget a difference that no message came to settle (a ring whose send failed)."""
        self.received = self.count[0]

    def close(self) -> None:
        _unmap(self._mapped, self.count)


def _unmap(mapped: mmap.mmap, count: memoryview) -> None:
    count.release()
    mapped.close()
