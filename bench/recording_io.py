"""Recording write throughput vs raw disk writes, in the same run.

Recording: the worker's write path without the agent: `StepColumns.add` once per step with
an Atari-sized row (an 84x84x3 uint8 observation, an action, a reward) and four float32
layer outputs of a Nature-DQN-like network (32x20x20, 64x9x9, 64x7x7, 512; about 105 KB a
row in all), the layers written by the recording's own forward hooks
(`torch_layers.filling_hook`, called with ready tensors, so no forward runs), a `Recorder`
flushing chunks as the worker does (`maybe_flush` between steps) into a `LocalBlobStore`
in a folder of the working directory. Throughput: the bytes of the chunks as stored over
the wall time from the first `add` to `stop()` returning, as fast as rows can be added.

Raw: write + fsync the same number of bytes in files of the same sizes as the stored chunks,
in the same folder (as bench/checkpoint_io.py measures raw disk). Target: recording >= 0.5x raw.

Run: .venv/bin/python bench/recording_io.py [--megabytes 384] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median

import numpy as np
import torch

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.recordings import ChunkEncoder
from ainimal_zookeeper.worker.recorder import Recorder
from ainimal_zookeeper.worker.step_columns import StepColumns
from ainimal_zookeeper.worker.torch_layers import filling_hook

OBSERVATION = (84, 84, 3)
LAYERS = {"conv1": (32, 20, 20), "conv2": (64, 9, 9), "conv3": (64, 7, 7), "fc": (512,)}
#: Distinct rows cycled through (the values do not matter: nothing is compressed).
POOL = 16
MB = 2**20


class ListOutbox:
    """An EventOutbox that keeps what the recorder publishes."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def publish(self, event: ev.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def row_pool() -> tuple[list[np.ndarray], dict[str, list[torch.Tensor]]]:
    """`POOL` observations and, per layer, `POOL` outputs (batch of one, as a forward gives them)."""
    rng = np.random.default_rng(0)
    observations = [rng.integers(0, 256, OBSERVATION, dtype=np.uint8) for _ in range(POOL)]
    outputs = {
        name: [torch.from_numpy(rng.standard_normal(shape, dtype=np.float32)) for _ in range(POOL)]
        for name, shape in LAYERS.items()
    }
    return observations, outputs


def row_bytes() -> int:
    """The array payload of one row."""
    return int(np.prod(OBSERVATION)) + sum(4 * int(np.prod(shape)) for shape in LAYERS.values())


def record(blobs: LocalBlobStore, rows: int, pool: tuple[list[np.ndarray], dict[str, list[torch.Tensor]]]) -> dict:
    """Record `rows` steps as fast as possible; seconds (first add to stop returning) and chunk sizes."""
    observations, outputs = pool
    recording_id = uuid.uuid4().hex[:16]
    outbox = ListOutbox()
    modalities = {"inputs/observation": {"kind": "image", "shape": list(OBSERVATION), "dtype": "uint8"}}
    columns = StepColumns(list(LAYERS), ChunkEncoder(recording_id, modalities), inputs=True, outputs=True)
    hooks = [(filling_hook(columns.blocks[name], columns.page), outputs[name]) for name in LAYERS]
    recorder = Recorder(recording_id, "bench", blobs, outbox, columns)
    add, flush, clock = columns.add, recorder.maybe_flush, time.monotonic
    start = time.perf_counter()
    for step in range(rows):
        k = step % POOL
        for hook, tensors in hooks:
            hook(None, None, tensors[k])  # what the forward's hooks do, in the worker
        ended = step % 1000 == 999
        add(
            step,
            step // 1000,
            None,
            observations[k],
            {"action": k % 6},
            1.0,
            ended,
            False,
            observations[k] if ended else None,
        )
        flush(clock())
    added = time.perf_counter()
    recorder.stop({"observation": observations[0]})
    stopped = time.perf_counter()
    written = [e for e in outbox.events if isinstance(e, ev.RecordingChunkWritten)]
    sizes = [e.size_bytes for e in sorted(written, key=lambda e: e.chunk_index)]
    on_disk = sum(blobs.size(e.blob_key) for e in written)
    if on_disk != sum(sizes) or sum(e.rows for e in written) != rows:
        raise RuntimeError(f"chunks announce {sum(sizes)} bytes, {sum(e.rows for e in written)} rows; stored {on_disk}")
    return {"seconds": stopped - start, "tail": stopped - added, "sizes": sizes}


def raw_writes(folder: Path, sizes: list[int], payload: bytes) -> float:
    """Seconds to write and fsync one file per size, in turn (the first bytes of `payload` each)."""
    view = memoryview(payload)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i, size in enumerate(sizes):
        with open(folder / f"raw-{i:06d}.bin", "wb") as handle:
            handle.write(view[:size])
            handle.flush()
            os.fsync(handle.fileno())
    return time.perf_counter() - start


def main(megabytes: int, repeats: int) -> None:
    """Alternate a recording and raw writes of its chunks `repeats` times; print the best and the median ratio."""
    rows = max(2, megabytes * MB // row_bytes())
    pool = row_pool()
    record_rates, raw_rates, ratios, tails, chunk_counts = [], [], [], [], []
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as name:
        folder = Path(name)
        # Both paths once untimed: first-touch costs, imports, the file system's first allocations.
        warm_up = record(LocalBlobStore(folder / "warm-up"), min(rows, 2000), pool)
        raw_writes(folder / "warm-up-raw", warm_up["sizes"], bytes(max(warm_up["sizes"])))
        shutil.rmtree(folder / "warm-up")
        shutil.rmtree(folder / "warm-up-raw")
        for i in range(repeats):
            # Each timing starts with no dirty pages left by the one before (os.sync).
            os.sync()
            blobs = LocalBlobStore(folder / f"blobs{i}")
            recorded = record(blobs, rows, pool)
            sizes = recorded["sizes"]
            stored = sum(sizes)
            payload = np.random.default_rng(i).integers(0, 256, max(sizes), dtype=np.uint8).tobytes()
            os.sync()
            raw_seconds = raw_writes(folder / f"raw{i}", sizes, payload)
            record_rates.append(stored / MB / recorded["seconds"])
            raw_rates.append(stored / MB / raw_seconds)
            ratios.append(record_rates[-1] / raw_rates[-1])
            tails.append(recorded["tail"])
            chunk_counts.append(len(sizes))
            shutil.rmtree(blobs.root)
            shutil.rmtree(folder / f"raw{i}")
    print(
        f"{rows:,} rows of {row_bytes() / 1024:.0f} KB (84x84x3 uint8 observation + {len(LAYERS)} float32 layers), "
        f"{stored / MB:.0f} MB stored ({stored / (rows * row_bytes()):.2f}x the rows' arrays) in {chunk_counts[-1]} "
        f"chunks of about {stored / chunk_counts[-1] / MB:.0f} MB; {repeats} rounds:"
    )
    print(
        f"  raw write+fsync   {' '.join(f'{r:7,.0f}' for r in raw_rates)} MB/s   best {max(raw_rates):,.0f}"
        f"\n  recording         {' '.join(f'{r:7,.0f}' for r in record_rates)} MB/s   best {max(record_rates):,.0f}"
        f"   ({median(tails) * 1000:.0f} ms of each after the last add, in stop())"
        f"\n  recording / raw   {' '.join(f'{r:7.2f}' for r in ratios)}"
    )
    best, raw = max(record_rates), max(raw_rates)
    useful = best * rows * row_bytes() / stored  # the same time, counting only the rows' arrays
    print(
        f"recording write {best:,.0f} MB/s vs raw disk {raw:,.0f} MB/s: {best / raw:.2f}x best to best, "
        f"median ratio {median(ratios):.2f}x (target >= 0.5x); counting only the rows' arrays "
        f"{useful:,.0f} MB/s, {useful / raw:.2f}x raw"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=384, help="array payload recorded per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of recording then raw writes")
    arguments = parser.parse_args()
    main(arguments.megabytes, arguments.repeats)
