"""Checkpoint save / restore throughput vs raw disk writes, in the same run.

Raw: write + fsync the same number of bytes. Save: safetensors of the weights into the
AInimal's folder, tar, hash and atomic store (temp, fsync, rename). Restore: fetch, untar,
safetensors load.

Run: .venv/bin/python bench/checkpoint_io.py [--megabytes 256]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.sdk.checkpoint_files import MODEL_DIR, fetch_checkpoint, store_checkpoint


def raw_write(folder: Path, payload: bytes) -> float:
    """Seconds to write and fsync `payload` once."""
    start = time.perf_counter()
    with open(folder / "raw.bin", "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - start


def save_checkpoint(folder: Path, blobs: LocalBlobStore, weights: dict[str, np.ndarray]) -> tuple[float, str]:
    """Seconds to save `weights` as a zookeeper checkpoint; and its key."""
    content = folder / "content"
    shutil.rmtree(content, ignore_errors=True)
    (content / MODEL_DIR).mkdir(parents=True)
    start = time.perf_counter()
    save_file(weights, str(content / MODEL_DIR / "weights.safetensors"))
    key, _ = store_checkpoint(blobs, content, {"step": 0})
    return time.perf_counter() - start, key


def restore_checkpoint(folder: Path, blobs: LocalBlobStore, key: str) -> float:
    """Seconds to fetch, unpack and load a checkpoint."""
    target = folder / "restored"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    start = time.perf_counter()
    fetch_checkpoint(blobs, key, target)
    load_file(str(target / MODEL_DIR / "weights.safetensors"))
    return time.perf_counter() - start


def main(megabytes: int, repeats: int = 3) -> None:
    """Print MB/s for raw writes, checkpoint saves and restores (best of `repeats`)."""
    weights = {
        f"layer{i}": np.random.default_rng(i).random(megabytes * 2**20 // 4 // 4, dtype=np.float32) for i in range(4)
    }
    size_mb = sum(w.nbytes for w in weights.values()) / 2**20
    payload = b"".join(w.tobytes() for w in weights.values())
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as name:
        folder = Path(name)
        raws, saves, restores = [], [], []
        for i in range(repeats):
            # Each timing starts with no dirty pages left by the one before (os.sync).
            os.sync()
            raws.append(raw_write(folder, payload))
            os.sync()
            blobs = LocalBlobStore(folder / f"blobs{i}")  # a fresh store: no content-address shortcut
            seconds, key = save_checkpoint(folder, blobs, weights)
            saves.append(seconds)
            os.sync()
            restores.append(restore_checkpoint(folder, blobs, key))
            shutil.rmtree(folder / "restored")
    raw_rate, save_rate, restore_rate = size_mb / min(raws), size_mb / min(saves), size_mb / min(restores)
    print(
        f"{size_mb:.0f} MB: raw write+fsync {raw_rate:,.0f} MB/s; checkpoint save {save_rate:,.0f} MB/s "
        f"({save_rate / raw_rate:.2f}x raw); restore {restore_rate:,.0f} MB/s ({restore_rate / raw_rate:.2f}x raw)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=256)
    main(parser.parse_args().megabytes)
