"""A BlobStore that sends some key prefixes to a second store (recordings to their own bucket).

Checkpoints and recordings differ in how long they should live: Terraform gives recordings a
bucket of their own with an expiry rule (infra/terraform/storage.tf). The core keeps writing
to one BlobStore under `checkpoints/...`, `recordings/...`, `exports/...`; this store routes
each key by its first segment, so neither the worker runtime nor the service needs to know
there are two buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from ainimal_zookeeper.errors import Unavailable
from ainimal_zookeeper.ports.blobs import BlobStore

__all__ = ["ROUTED_PREFIXES", "PrefixRoutedBlobStore"]

#: The key prefixes that go to the recordings bucket by default.
ROUTED_PREFIXES = ("recordings/", "exports/")


class PrefixRoutedBlobStore:
    """Keys under `prefixes` live in `routed`, every other key in `default`; a `BlobStore`."""

    def __init__(self, default: BlobStore, routed: BlobStore, prefixes: Sequence[str] = ROUTED_PREFIXES) -> None:
        if not prefixes or not all(p.endswith("/") and p.strip("/") for p in prefixes):
            raise ValueError(f"routed prefixes must be folder names ending in '/', got {list(prefixes)!r}")
        self.default, self.routed = default, routed
        self.prefixes = tuple(prefixes)

    def store_for(self, key: str) -> BlobStore:
        """The store that holds `key`."""
        return self.routed if key.startswith(self.prefixes) else self.default

    def put(self, key: str, data: bytes | memoryview) -> None:
        self.store_for(key).put(key, data)

    def put_file(self, key: str, path: Path, move: bool = False) -> None:
        self.store_for(key).put_file(key, path, move=move)

    def open(self, key: str) -> BinaryIO:
        return self.store_for(key).open(key)

    def get(self, key: str) -> bytes:
        return self.store_for(key).get(key)

    def get_file(self, key: str, path: Path) -> None:
        self.store_for(key).get_file(key, path)

    def exists(self, key: str) -> bool:
        return self.store_for(key).exists(key)

    def size(self, key: str) -> int:
        return self.store_for(key).size(key)

    def delete(self, key: str) -> None:
        self.store_for(key).delete(key)

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with `prefix` from whichever stores can hold such keys, sorted."""
        if prefix.startswith(self.prefixes):
            return self.routed.list(prefix)
        keys = [k for k in self.default.list(prefix) if not k.startswith(self.prefixes)]
        # A short prefix ("", "rec") can also match keys of the routed folders.
        for routed_prefix in self.prefixes:
            if routed_prefix.startswith(prefix):
                keys += self.routed.list(routed_prefix)
        return sorted(keys)

    def signed_url(self, key: str, expires_seconds: int = 3600) -> str:
        """A download URL from the store that holds `key`, when that store can sign one.

        Raises:
            Unavailable: that store cannot sign URLs (a local folder): serve the bytes instead.
        """
        store = self.store_for(key)
        sign = getattr(store, "signed_url", None)
        if sign is None:
            raise Unavailable(f"the blob store for {key!r} ({type(store).__name__}) cannot sign download URLs")
        return str(sign(key, expires_seconds))
