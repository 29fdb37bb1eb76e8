"""A doorbell beside the local command bus: a counter in shared memory that the hub bumps for
each command it hands a worker's socket.

A stepping worker asks its inbox for commands every half millisecond. Asking the ZeroMQ socket
(`getsockopt(EVENTS)`: libzmq drains its internal command pipe, a system call) costs 3–8 µs,
about 1% of a fast agent's time at that rate. Reading the doorbell is one load from memory
(well under a microsecond), so the socket is asked only when the count moved, which lets the
worker look often (short pause latency) for almost nothing.

The count is a hint, never the message: the command still travels on the socket. A worker
that sees the count move but finds nothing yet (the message is still between the sockets) asks
the socket again at each poll until it arrives; it asks anyway every `FALLBACK_SECONDS`, so a
lost ring only delays a command, it never loses one. Only the hub writes (one 8-byte aligned
word); workers map the file read-only. The files live in a folder only this user can read,
named after the hub's process: a hub starting up removes the folders of hubs that died without
closing theirs (a `kill -9`), so restarts do not pile them up.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import shutil
import tempfile
from pathlib import Path

#: The worker asks its socket at least this often whatever the doorbell says.
FALLBACK_SECONDS = 0.05
_SIZE = 8  # one unsigned 64-bit count
_PREFIX = "zk-doorbells-"
_FOLDER = re.compile(rf"{_PREFIX}(\d+)-")  # zk-doorbells-<hub pid>-<random>


class Doorbells:
    """The hub's side: one doorbell file per worker, rung after each command sent to it."""

    def __init__(self) -> None:
        remove_orphaned_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))  # mode 0700
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


def remove_orphaned_folders() -> list[Path]:
    """Remove this user's doorbell folders whose hub process is gone; the folders removed."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        match = _FOLDER.match(folder.name)
        with contextlib.suppress(OSError):
            if match and folder.is_dir() and folder.stat().st_uid == os.getuid() and not _alive(int(match[1])):
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


class DoorbellReader:
    """The worker's side: has a command been handed to my socket that I have not received?"""

    def __init__(self, path: str) -> None:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            self._mapped = mmap.mmap(descriptor, _SIZE, access=mmap.ACCESS_READ)
        finally:
            os.close(descriptor)
        self._count = memoryview(self._mapped).cast("Q")
        # Commands rung before this worker started (an earlier worker of the instance had them,
        # or they are re-sent after this one's HELLO, which rings again) are not owed to it.
        self.received = self._count[0]

    def owed(self) -> bool:
        """Whether the hub has rung more often than this worker received commands."""
        return self._count[0] != self.received

    def caught_up(self) -> None:
        """Forget a difference that no message came to settle (a ring whose send failed)."""
        self.received = self._count[0]

    def close(self) -> None:
        _unmap(self._mapped, self._count)


def _unmap(mapped: mmap.mmap, count: memoryview) -> None:
    count.release()
    mapped.close()
