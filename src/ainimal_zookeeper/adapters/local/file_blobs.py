"""BlobStore on a local folder: atomic writes (temp file, fsync, rename)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ainimal_zookeeper.adapters.local.storage_errors import from_os
from ainimal_zookeeper.errors import InvalidInput, NotFound

_WRITE = "store data"
_READ = "read stored data"


@contextmanager
def _storage(what: str) -> Iterator[None]:
    """A failing disk (full, read-only, I/O error) as `StorageUnavailable`; a missing file stays NotFound."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise from_os(exc, what) from None


class LocalBlobStore:
    """Objects as files below `root`; a key is a relative '/'-separated path."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, data: bytes | memoryview) -> None:
        target = self._path(key)
        with _storage(_WRITE), self._atomic_writer(target) as handle:
            handle.write(data)

    def put_file(self, key: str, path: Path, move: bool = False) -> None:
        target = self._path(key)
        with _storage(_WRITE):
            if move and self._adopt(Path(path), target):
                return
            with open(path, "rb") as source, self._atomic_writer(target) as handle:
                shutil.copyfileobj(source, handle, length=1 << 20)

    def open(self, key: str) -> BinaryIO:
        try:
            with _storage(_READ):
                return open(self._path(key), "rb")  # the caller closes it
        except FileNotFoundError as exc:
            raise NotFound(f"no blob stored under {key!r}") from exc

    def _adopt(self, source: Path, target: Path) -> bool:
        """Rename `source` into place (durable first); False when it is on another filesystem."""
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return False
            raise
        return True

    def get(self, key: str) -> bytes:
        try:
            with _storage(_READ):
                return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no blob stored under {key!r}") from exc

    def get_file(self, key: str, path: Path) -> None:
        try:
            with _storage(_READ):
                shutil.copyfile(self._path(key), path)
        except FileNotFoundError as exc:
            raise NotFound(f"no blob stored under {key!r}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise NotFound(f"no blob stored under {key!r}") from exc

    def list(self, prefix: str = "") -> list[str]:
        # Walk only the folder the prefix names (a recording's, say), not every blob stored.
        folder = self.root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.root
        if not folder.resolve().is_relative_to(self.root.resolve()):
            return []
        keys = (
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        with _storage(_WRITE):
            self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        # Keys may come from requests: refuse anything that could leave the root.
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise InvalidInput(f"blob key must be a relative path without '..', got {key!r}")
        return self.root.joinpath(*parts)

    def _atomic_writer(self, target: Path) -> _AtomicFile:
        target.parent.mkdir(parents=True, exist_ok=True)
        return _AtomicFile(target)


class _AtomicFile:
    """A temp file beside `target` that replaces it on success, and vanishes on failure."""

    def __init__(self, target: Path) -> None:
        self._target = target
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        self._tmp = Path(name)
        self._handle = os.fdopen(fd, "wb")

    def __enter__(self):  # returns the raw file object for writing
        return self._handle

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001  # context-manager protocol
        try:
            try:
                if exc_type is None:
                    self._handle.flush()
                    os.fsync(self._handle.fileno())
            finally:
                self._handle.close()  # also when a full disk failed the flush
            if exc_type is None:
                os.replace(self._tmp, self._target)
        finally:
            self._tmp.unlink(missing_ok=True)
