"""Pack a checkpoint directory into one content-addressed blob, and unpack it again.

A checkpoint is an uncompressed tar (weights are incompressible, and tar streams at disk
speed) of the AInimal's `save()` folder plus `zookeeper.json` with the harness state. Its key
is the sha256 of the tar, so identical checkpoints share storage and a key names its bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.blobs import BlobStore

MODEL_DIR = "model"
HARNESS_FILE = "zookeeper.json"
FORMAT_VERSION = 1


def store_checkpoint(blobs: BlobStore, folder: Path, harness: dict[str, Any], scratch: Path) -> tuple[str, int]:
    """Write `folder/model` + harness state as one blob; returns (key, size in bytes).

    `folder` is consumed: it is deleted once archived, so that the kernel drops its unwritten
    pages instead of flushing them to disk alongside the archive's fsync.
    """
    (folder / HARNESS_FILE).write_text(json.dumps({"format": FORMAT_VERSION, **harness}))
    archive = scratch / "checkpoint.tar"
    # Hash while writing: one pass over the bytes instead of a second read.
    with open(archive, "wb") as raw:
        hashing = _HashingWriter(raw)
        with tarfile.open(fileobj=hashing, mode="w", copybufsize=4 << 20) as tar:  # type: ignore[call-overload]
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False, filter=_reproducible)
    shutil.rmtree(folder, ignore_errors=True)
    size = archive.stat().st_size
    key = f"checkpoints/sha256/{hashing.hexdigest()}.tar"
    if not blobs.exists(key):
        blobs.put_file(key, archive, move=True)
    return key, size


class _HashingWriter:
    """A write-only file that hashes what passes through it.

    Hashing runs on a helper thread while the main thread writes (both release the GIL), so
    the archive is written at about the speed of the slower of the two, not their sum.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self._digest = hashlib.sha256()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zk-hash")
        self._pending: Future[None] | None = None

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        if self._pending is not None:
            self._pending.result()  # one chunk in flight: bounded memory, updates in order
        self._pending = self._pool.submit(self._digest.update, chunk)
        return self.raw.write(chunk)

    def tell(self) -> int:
        return self.raw.tell()

    def hexdigest(self) -> str:
        """The sha256 of everything written; call once writing is done."""
        if self._pending is not None:
            self._pending.result()
        self._pool.shutdown()
        return self._digest.hexdigest()


def _reproducible(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Same content, same bytes, same key: drop times and owners from the archive.
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def fetch_checkpoint(blobs: BlobStore, key: str, folder: Path) -> dict[str, Any]:
    """Unpack the blob at `key` into `folder`; returns the harness state.

    Raises:
        InvalidInput: the blob is not a zookeeper checkpoint.
    """
    try:
        # Stream straight from the store ("r|"): no temporary copy of the archive.
        with blobs.open(key) as stream, tarfile.open(fileobj=stream, mode="r|", copybufsize=4 << 20) as tar:  # type: ignore[call-overload]
            # The "data" filter refuses absolute paths, '..', links out and device files.
            tar.extractall(folder, filter="data")
        harness = json.loads((folder / HARNESS_FILE).read_text())
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise InvalidInput(f"blob {key} is not a readable checkpoint: {exc}") from exc
    if harness.get("format") != FORMAT_VERSION:
        raise InvalidInput(f"checkpoint {key} has format {harness.get('format')!r}, expected {FORMAT_VERSION}")
    return harness
