"""Store a checkpoint folder as content-addressed blobs, and fetch it back.

A checkpoint is the AInimal's `save()` folder plus `zookeeper.json` with the harness state.
Each file is stored once under the sha256 of its bytes (moved into a local store, not
copied, so a local save writes its weights once), and a small JSON manifest lists them; the
checkpoint's key is the sha256 of that manifest, so identical checkpoints share storage, a key
names its content, and unchanged files are never stored twice. Nothing here is pickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path, PurePosixPath
from typing import Any

from ainimal_zookeeper.errors import InvalidInput, ZookeeperError
from ainimal_zookeeper.ports.blobs import BlobStore

MODEL_DIR = "model"
HARNESS_FILE = "zookeeper.json"
FORMAT_VERSION = 2
_FILES = "checkpoints/files/sha256"


def store_checkpoint(
    blobs: BlobStore, folder: Path, harness: dict[str, Any], prefix: str = "checkpoints/"
) -> tuple[str, int]:
    """Store `folder` (the `model/` files) plus the harness state; returns (key, size in bytes).

    `folder` is consumed: its files are moved into the store where it can take them. The
    manifest goes under `prefix` (a worker's is its instance's: the control plane accepts from
    a worker only checkpoint keys under it); the files are shared by every checkpoint.
    """
    (folder / HARNESS_FILE).write_text(json.dumps({"format": FORMAT_VERSION, **harness}, sort_keys=True))
    entries: list[dict[str, Any]] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = _hash_while_flushing(path)
        size = path.stat().st_size
        key = f"{_FILES}/{digest}"
        if not blobs.exists(key):
            blobs.put_file(key, path, move=True)
        entries.append({"path": path.relative_to(folder).as_posix(), "sha256": digest, "size": size})
    shutil.rmtree(folder, ignore_errors=True)
    manifest = json.dumps({"format": FORMAT_VERSION, "files": entries}, sort_keys=True).encode()
    key = f"{prefix}sha256/{hashlib.sha256(manifest).hexdigest()}.json"
    blobs.put(key, manifest)
    return key, sum(int(e["size"]) for e in entries) + len(manifest)


def fetch_checkpoint(blobs: BlobStore, key: str, folder: Path) -> dict[str, Any]:
    """Write the checkpoint stored under `key` into `folder`; returns the harness state.

    Raises:
        InvalidInput: the blob is not a zookeeper checkpoint, or names a path outside `folder`.
    """
    try:
        manifest = json.loads(blobs.get(key))
        entries = manifest["files"]
        if manifest.get("format") != FORMAT_VERSION:
            raise InvalidInput(f"checkpoint {key} has format {manifest.get('format')!r}, expected {FORMAT_VERSION}")
        for entry in entries:
            target = _inside(folder, entry["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            blobs.get_file(f"{_FILES}/{entry['sha256']}", target)
            if target.stat().st_size != entry["size"]:
                raise InvalidInput(f"checkpoint {key}: {entry['path']} has the wrong size")
        return dict(json.loads((folder / HARNESS_FILE).read_text()))
    except ZookeeperError:
        raise
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInput(f"blob {key} is not a readable checkpoint: {exc}") from exc


def _inside(folder: Path, relative: str) -> Path:
    """`folder / relative`, refusing paths that could leave `folder` (a manifest is data)."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise InvalidInput(f"checkpoint file path {relative!r} leaves the checkpoint folder")
    return folder.joinpath(*parts)


def _hash_while_flushing(path: Path) -> str:
    """The file's sha256, computed while another thread flushes it to disk.

    Both release the GIL, so a freshly written weights file costs about the slower of the
    two (the fsync the store needs anyway), not their sum.
    """
    flush = threading.Thread(target=_fsync, args=(path,), name="zk-fsync")
    flush.start()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 << 20):
            digest.update(chunk)
    flush.join()
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
