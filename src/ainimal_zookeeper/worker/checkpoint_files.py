"""Pack a checkpoint directory into one content-addressed blob, and unpack it again.

A checkpoint is an uncompressed tar (weights are incompressible, and tar streams at disk
speed) of the AInimal's `save()` folder plus `zookeeper.json` with the harness state. Its key
is the sha256 of the tar, so identical checkpoints share storage and a key names its bytes.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.blobs import BlobStore

MODEL_DIR = "model"
HARNESS_FILE = "zookeeper.json"
FORMAT_VERSION = 1


def store_checkpoint(blobs: BlobStore, folder: Path, harness: dict[str, Any], scratch: Path) -> tuple[str, int]:
    """Write `folder/model` + harness state as one blob; returns (key, size in bytes)."""
    (folder / HARNESS_FILE).write_text(json.dumps({"format": FORMAT_VERSION, **harness}))
    archive = scratch / "checkpoint.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False, filter=_reproducible)
    digest = hashlib.sha256()
    with open(archive, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    key = f"checkpoints/sha256/{digest.hexdigest()}.tar"
    if not blobs.exists(key):
        blobs.put_file(key, archive)
    return key, archive.stat().st_size


def _reproducible(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Same content, same bytes, same key: drop times and owners from the archive.
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def fetch_checkpoint(blobs: BlobStore, key: str, folder: Path) -> dict[str, Any]:
    """Unpack the blob at `key` into `folder`; returns the harness state.

    Raises:
        InvalidInput: the blob is not a zookeeper checkpoint.
    """
    archive = folder / ".checkpoint.tar"
    blobs.get_file(key, archive)
    try:
        with tarfile.open(archive, "r") as tar:
            # The "data" filter refuses absolute paths, '..', links out and device files.
            tar.extractall(folder, filter="data")
        harness = json.loads((folder / HARNESS_FILE).read_text())
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise InvalidInput(f"blob {key} is not a readable checkpoint: {exc}") from exc
    finally:
        archive.unlink(missing_ok=True)
    if harness.get("format") != FORMAT_VERSION:
        raise InvalidInput(f"checkpoint {key} has format {harness.get('format')!r}, expected {FORMAT_VERSION}")
    return harness
