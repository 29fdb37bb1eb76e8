"""Write a recording: rows per step, flushed in Arrow IPC chunks into the BlobStore.

A chunk goes out every `CHUNK_SECONDS` or `CHUNK_ROWS` rows, so a worker that dies loses at
most the chunk in progress; each written chunk is announced (`RecordingChunkWritten`) and the
control plane keeps the count. The newest row is held back until the next one arrives, so the
row that ends the recording can still get the final observation.
"""

from __future__ import annotations

import json
import logging
import time
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
        if start_state is not None:
            blobs.put(start_key(recording_id), json.dumps(start_state).encode())

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
        """Write a chunk if one is due (called between steps, at command-poll time)."""
        if len(self.buffer) >= CHUNK_ROWS or (len(self.buffer) and now - self._flushed_at >= CHUNK_SECONDS):
            self.flush()

    def flush(self) -> None:
        self._flushed_at = time.monotonic()
        rows = len(self.buffer)
        if not rows:
            return
        first, last = self._first_step, self._last_step
        data = self.buffer.to_ipc(self.chunks)
        key = chunk_key(self.recording_id, self.chunks)
        self.blobs.put(key, data)
        self.outbox.publish(
            ev.RecordingChunkWritten(
                self.instance_id,
                recording_id=self.recording_id,
                chunk_index=self.chunks,
                blob_key=key,
                rows=rows,
                size_bytes=len(data),
                first_step=first,
                last_step=last,
            )
        )
        self.chunks += 1
        self.rows += rows

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
            status, error = "failed", f"the last chunk could not be written: {exc}"
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
