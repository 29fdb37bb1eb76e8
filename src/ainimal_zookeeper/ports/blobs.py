"""BlobStore: bytes such as checkpoints and recordings (Cloud Storage, or a local folder)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol


class BlobStore(Protocol):
    """Named byte objects. Writes are atomic: a reader sees the whole object or none.

    Keys are '/'-separated relative names ("checkpoints/sha256/ab12…"); adapters refuse keys
    that could escape their root. Missing keys raise `ainimal_zookeeper.errors.NotFound`.
    """

    def put(self, key: str, data: bytes | memoryview) -> None:
        """Store `data` under `key`, replacing what was there (a memoryview spares a copy of large data)."""
        ...

    def put_file(self, key: str, path: Path, move: bool = False) -> None:
        """Store a file's content under `key` without reading it all into memory.

        With `move`, the caller gives the file up: the store may take it over (a rename)
        instead of copying it, and the file may be gone afterwards.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object (use as a context manager), for large objects."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes."""
        ...

    def get_file(self, key: str, path: Path) -> None:
        """Write the object into the file at `path`."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    def size(self, key: str) -> int:
        """The object's size in bytes."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object; removing a missing one is not an error."""
        ...
