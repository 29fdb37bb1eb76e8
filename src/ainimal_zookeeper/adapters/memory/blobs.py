"""InMemoryBlobStore: the BlobStore in a dict, with the local folder adapter's key rules."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import BinaryIO

from ainimal_zookeeper.errors import InvalidInput, NotFound


def _check_key(key: str) -> str:
    # The folder adapter's rule: keys are relative '/'-separated names that cannot leave a root.
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"blob key must be a relative path without '..', got {key!r}")
    return key


class InMemoryBlobStore:
    """Objects as bytes by key; writes are whole (a reader sees all of an object or none)."""

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes | memoryview) -> None:
        content = bytes(data)  # a copy: the caller may reuse its buffer
        with self._lock:
            self._objects[_check_key(key)] = content

    def put_file(self, key: str, path: Path, move: bool = False) -> None:
        _check_key(key)
        content = Path(path).read_bytes()
        with self._lock:
            self._objects[key] = content
        if move:
            Path(path).unlink(missing_ok=True)  # given up by the caller, as a rename would take it

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.get(key))

    def get(self, key: str) -> bytes:
        with self._lock:
            content = self._objects.get(_check_key(key))
        if content is None:
            raise NotFound(f"no blob stored under {key!r}")
        return content

    def get_file(self, key: str, path: Path) -> None:
        Path(path).write_bytes(self.get(key))

    def exists(self, key: str) -> bool:
        with self._lock:
            return _check_key(key) in self._objects

    def size(self, key: str) -> int:
        return len(self.get(key))

    def list(self, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(k for k in self._objects if k.startswith(prefix))

    def delete(self, key: str) -> None:
        with self._lock:
            self._objects.pop(_check_key(key), None)
