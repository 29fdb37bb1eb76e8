"""Write a recording: rows buffered per step, flushed in Arrow IPC chunks into the BlobStore.

The rows are buffered by a `RowBuffer`: `StepColumns` for an instance's own steps (the fast
path), a `ChunkBuffer` of row dicts for replays. A chunk goes out every `CHUNK_SECONDS`,
`CHUNK_ROWS` rows or `CHUNK_BYTES`; it is encoded and stored by a writer thread while the
agent steps on (at most one chunk in flight), so a worker that dies loses at most the last
second or two of steps. Each stored chunk is announced (`RecordingChunkWritten`, from the
agent's thread: the outbox is not thread-safe) and the control plane keeps the count. The
newest row stays in the buffer at each flush, so the row that ends the recording can still
get the final observation.

A chunk that cannot be stored (a full or unwritable disk, a storage outage) is retried with
growing pauses for up to `retry_seconds`, while the agent steps on and rows wait in the
buffer (up to a chunk's limits). If it still cannot be stored the recording ends as
`failed` with the error: no later chunk is written, so the chunks stored are always the
first ones, without gaps, and the count says how many.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.recordings import TakenChunk, chunk_key

log = logging.getLogger(__name__)

CHUNK_SECONDS = 1.0
CHUNK_ROWS = 32_768
CHUNK_BYTES = 64 << 20
#: Frames are images: a recording keeps at most this many a second, not one per step.
FRAME_HZ = 15.0
#: How long a chunk whose write failed is retried by default, and the pauses between tries.
RETRY_SECONDS = 15.0
FIRST_PAUSE_SECONDS = 0.05
MAX_PAUSE_SECONDS = 2.0


def start_key(recording_id: str) -> str:
    """Where the harness state at the recording's first step is kept (for closed-loop replay)."""
    return f"recordings/{recording_id}/start.json"


class RowBuffer(Protocol):
    """Where a recording's rows wait for their chunk (`StepColumns`, `ChunkBuffer`)."""

    @property
    def row_bytes(self) -> int:
        """About how many bytes of arrays a row holds (0 when unknown)."""
        ...

    def __len__(self) -> int: ...

    def take(self, keep_last: bool = False) -> TakenChunk: ...

    def set_final(self, values: Mapping[str, Any]) -> None: ...


Rows = TypeVar("Rows", bound=RowBuffer)


class Recorder(Generic[Rows]):
    """One recording in progress on this worker; its rows go into `buffer`."""

    def __init__(
        self,
        recording_id: str,
        instance_id: str,
        blobs: BlobStore,
        outbox: EventOutbox,
        buffer: Rows,
        start_state: dict[str, Any] | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.recording_id = recording_id
        self.instance_id, self.blobs, self.outbox = instance_id, blobs, outbox
        self.buffer = buffer
        self.retry_seconds = retry_seconds
        self.chunks = 0  # stored (counted by the writer thread)
        self.rows = 0
        self._handed = 0  # chunks handed to the writer: the next one's index
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

    @property
    def failure(self) -> str | None:
        """Why the recording cannot go on (a chunk could not be stored), or None."""
        return self._failure

    def maybe_flush(self, now: float) -> bool:
        """Announce stored chunks and hand a chunk to the writer if one is due (between steps).

        Returns False once the recording has failed (see `failure`): its owner stops it.
        """
        self._announce()
        if self._failure is not None:
            return False
        rows = len(self.buffer)
        full = rows >= CHUNK_ROWS or rows * self.buffer.row_bytes >= CHUNK_BYTES
        # While the writer is busy (retrying a write, say) rows wait in the buffer: the agent
        # steps on, and only waits for the writer once the buffer holds a whole chunk.
        due = now - self._flushed_at >= CHUNK_SECONDS and self._idle.is_set()
        if rows > 1 and (full or due):
            self.flush(keep_last=True)
        return self._failure is None

    def flush(self, keep_last: bool = True) -> None:
        """Hand the buffered rows to the writer (waiting for the chunk before, if still in flight).

        With `keep_last`, the newest row stays: the recording's end may still give it the
        final observation.
        """
        self._flushed_at = time.monotonic()
        if len(self.buffer) <= (1 if keep_last else 0):
            return
        chunk = self.buffer.take(keep_last)
        self._idle.wait()
        if self._failure is not None:
            return  # a chunk before could not be stored: no later one is (no gaps)
        self._idle.clear()
        self._jobs.put(_Job(chunk, self._handed))
        self._handed += 1
        self._announce()

    def _write_chunks(self) -> None:
        """The writer thread: encode and store chunks in order until told to stop."""
        while (job := self._jobs.get()) is not None:
            try:
                if self._failure is None:
                    self._write(job)
            except Exception as exc:  # noqa: BLE001  # reported by maybe_flush and stop; the agent goes on
                log.warning("chunk %d of recording %s not written: %s", job.index, self.recording_id, exc)
                self._failure = f"chunk {job.index} could not be written: {exc}"
            finally:
                self._idle.set()

    def _write(self, job: _Job) -> None:
        chunk = job.chunk
        data = memoryview(chunk.encode(job.index))  # no copy into bytes: it is large
        key = chunk_key(self.recording_id, job.index)
        self._put(key, data, job.index)
        self.chunks += 1
        self.rows += chunk.rows
        self._written.put(
            ev.RecordingChunkWritten(
                self.instance_id,
                recording_id=self.recording_id,
                chunk_index=job.index,
                blob_key=key,
                rows=chunk.rows,
                size_bytes=data.nbytes,
                first_step=chunk.first_step,
                last_step=chunk.last_step,
            )
        )

    def _put(self, key: str, data: memoryview, index: int) -> None:
        """Store a chunk, retrying with growing pauses for up to `retry_seconds`."""
        deadline = time.monotonic() + self.retry_seconds
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                self.blobs.put(key, data)
                return
            except Exception as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(
                        f"not stored after retrying for {self.retry_seconds:g}s: {type(exc).__name__}: {exc}"
                    ) from exc
                log.warning("chunk %d of recording %s not stored (%s); retrying", index, self.recording_id, exc)
                time.sleep(min(pause, remaining))
                pause = min(pause * 2, MAX_PAUSE_SECONDS)

    def _announce(self) -> None:
        while not self._written.empty():  # checked before every poll: no exception when empty
            self.outbox.publish(self._written.get_nowait())

    def stop(
        self, final_observations: dict[str, Any] | None, status: str = "complete", error: str | None = None
    ) -> None:
        """Write what is left and announce the end; the newest row gets the final observation."""
        try:
            self.buffer.set_final(final_observations or {})
            self.flush(keep_last=False)
        except Exception as exc:  # noqa: BLE001  # the chunks already written stay readable
            log.warning("last chunk of recording %s lost: %s", self.recording_id, exc)
            self._failure = self._failure or f"the last chunk could not be written: {exc}"
        self._jobs.put(None)
        self._writer.join()
        self._announce()
        if self._failure:
            status, error = "failed", error or self._failure
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
    """One chunk for the writer, and its place in the recording."""

    __slots__ = ("chunk", "index")

    def __init__(self, chunk: TakenChunk, index: int) -> None:
        self.chunk, self.index = chunk, index
