"""Write a recording: rows per step, flushed in Arrow IPC chunks into the BlobStore.

A chunk goes out every `CHUNK_SECONDS` or `CHUNK_ROWS` rows; it is encoded and stored by a
writer thread while the agent steps on (at most one chunk in flight), so a worker that dies
loses at most the last second or two of steps. Each stored chunk is announced
(`RecordingChunkWritten`, from the agent's thread: the outbox is not thread-safe) and the
control plane keeps the count. The newest row is held back until the next one arrives, so
the row that ends the recording can still get the final observation.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.streams import StreamSelection
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.recordings import ChunkBuffer, chunk_key

log = logging.getLogger(__name__)

CHUNK_SECONDS = 1.0
CHUNK_ROWS = 32_768
#: Frames are images: a recording keeps at most this many a second, not one per step.
FRAME_HZ = 15.0


def start_key(recording_id: str) -> str:
    """Where the harness state at the recording's first step is kept (for closed-loop replay)."""
    return f"recordings/{recording_id}/start.json"


class Recorder:
    """One recording in progress on this worker."""

    def __init__(
        self,
        recording_id: str,
        selection: StreamSelection,
        instance_id: str,
        blobs: BlobStore,
        outbox: EventOutbox,
        modalities: dict[str, dict[str, Any]],
        start_state: dict[str, Any] | None = None,
    ) -> None:
        self.recording_id, self.selection = recording_id, selection
        self.instance_id, self.blobs, self.outbox = instance_id, blobs, outbox
        self.buffer = ChunkBuffer(recording_id, modalities)
        self.chunks = 0
        self.rows = 0
        self._held: dict[str, Any] | None = None
        self._first_step = self._last_step = 0
        self._flushed_at = time.monotonic()
        self._next_frame = 0.0
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._written: queue.SimpleQueue[ev.RecordingChunkWritten] = queue.SimpleQueue()
        self._idle = threading.Event()
        self._idle.set()
        self._failure: str | None = None
        if start_state is not None:
            blobs.put(start_key(recording_id), json.dumps(start_state).encode())
        self._writer = threading.Thread(target=self._write_chunks, name=f"zk-recorder-{recording_id}", daemon=True)
        self._writer.start()

    def frame_due(self, now: float) -> bool:
        """Whether this step's render goes into the recording (frames are rate-limited)."""
        if now < self._next_frame:
            return False
        self._next_frame = now + 1.0 / FRAME_HZ
        return True

    def append(self, row: dict[str, Any]) -> None:
        """Add one step's row (the hot path: a list append, mostly)."""
        if self._held is not None:
            self._buffer_row(self._held)
        self._held = row

    def _buffer_row(self, row: dict[str, Any]) -> None:
        if not len(self.buffer):
            self._first_step = row.get("step", 0)
        self._last_step = row.get("step", 0)
        self.buffer.append(row)

    def maybe_flush(self, now: float) -> None:
        """Announce stored chunks and hand a chunk to the writer if one is due (between steps)."""
        self._announce()
        if len(self.buffer) >= CHUNK_ROWS or (len(self.buffer) and now - self._flushed_at >= CHUNK_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the writer (waiting for the chunk before, if still in flight)."""
        self._flushed_at = time.monotonic()
        rows = len(self.buffer)
        if not rows:
            return
        job = _Job(self.buffer.take(), self.chunks, rows, self._first_step, self._last_step)
        self._idle.wait()
        self._idle.clear()
        self._jobs.put(job)
        self.chunks += 1
        self.rows += rows
        self._announce()

    def _write_chunks(self) -> None:
        """The writer thread: encode and store chunks in order until told to stop."""
        while (job := self._jobs.get()) is not None:
            try:
                data = job.encode(job.index)
                key = chunk_key(self.recording_id, job.index)
                self.blobs.put(key, data)
                self._written.put(
                    ev.RecordingChunkWritten(
                        self.instance_id,
                        recording_id=self.recording_id,
                        chunk_index=job.index,
                        blob_key=key,
                        rows=job.rows,
                        size_bytes=len(data),
                        first_step=job.first_step,
                        last_step=job.last_step,
                    )
                )
            except Exception as exc:  # noqa: BLE001  # reported when the recording stops; the agent goes on
                log.warning("chunk %d of recording %s not written: %s", job.index, self.recording_id, exc)
                self._failure = self._failure or f"chunk {job.index} could not be written: {exc}"
            finally:
                self._idle.set()

    def _announce(self) -> None:
        while True:
            try:
                self.outbox.publish(self._written.get_nowait())
            except queue.Empty:
                return

    def stop(
        self, final_observations: dict[str, Any] | None, status: str = "complete", error: str | None = None
    ) -> None:
        """Write what is left and announce the end; the held row gets the final observation."""
        if self._held is not None:
            for name, value in (final_observations or {}).items():
                if self._held.get(f"final/{name}") is None:
                    self._held[f"final/{name}"] = value
            self._buffer_row(self._held)
            self._held = None
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001  # the chunks already written stay readable
            log.warning("last chunk of recording %s lost: %s", self.recording_id, exc)
            self._failure = self._failure or f"the last chunk could not be written: {exc}"
        self._jobs.put(None)
        self._writer.join()
        self._announce()
        if self._failure and status == "complete":
            status, error = "failed", self._failure
        self.outbox.publish(
            ev.RecordingStopped(
                self.instance_id,
                recording_id=self.recording_id,
                status=status,
                error=error,
                chunks=self.chunks,
                rows=self.rows,
            )
        )


class _Job:
    """One chunk for the writer: its encoder and what its announcement says."""

    __slots__ = ("encode", "first_step", "index", "last_step", "rows")

    def __init__(self, encode: Callable[[int], bytes], index: int, rows: int, first_step: int, last_step: int) -> None:
        self.encode, self.index, self.rows = encode, index, rows
        self.first_step, self.last_step = first_step, last_step
