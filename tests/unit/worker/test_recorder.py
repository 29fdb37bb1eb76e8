"""Recorder: chunks into a real local BlobStore, announced; the last row keeps the final observation."""

from __future__ import annotations

import json
import time

import numpy as np

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.recordings import ChunkBuffer, column_values, read_recording
from ainimal_zookeeper.worker.recorder import Recorder, start_key


class Outbox:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def publish(self, event: ev.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def row(step: int, episode: int = 0) -> dict:
    return {
        "step": step,
        "episode": episode,
        "reward": 1.0,
        "terminated": False,
        "truncated": False,
        "inputs/observation": np.full(2, step, np.float32),
        "outputs/action": step % 2,
    }


def test_chunks_are_written_announced_and_read_back_with_the_final_observation(tmp_path):
    blobs, outbox = LocalBlobStore(tmp_path), Outbox()
    recorder = Recorder("r1", "i1", blobs, outbox, ChunkBuffer("r1"), start_state={"step": 0})
    assert json.loads(blobs.get(start_key("r1"))) == {"step": 0}
    for step in range(1, 11):
        recorder.buffer.append(row(step))
    recorder.flush()  # the newest row is held back for the final observation
    recorder.buffer.append(row(11))
    recorder.stop({"observation": np.array([9.0, 9.0], np.float32)})
    chunks = [e for e in outbox.events if isinstance(e, ev.RecordingChunkWritten)]
    assert [(c.chunk_index, c.rows, c.first_step, c.last_step) for c in chunks] == [(0, 9, 1, 9), (1, 2, 10, 11)]
    stopped = outbox.events[-1]
    assert isinstance(stopped, ev.RecordingStopped) and stopped.status == "complete" and stopped.rows == 11
    table = read_recording(blobs, [c.blob_key for c in chunks])
    assert table.column("step").to_pylist() == list(range(1, 12))
    finals = column_values(table, "final/observation")
    assert finals[:-1] == [None] * 10 and finals[-1].tolist() == [9.0, 9.0]


def test_a_recording_stopped_before_any_step_writes_nothing_and_says_so(tmp_path):
    outbox = Outbox()
    Recorder("r2", "i1", LocalBlobStore(tmp_path), outbox, ChunkBuffer("r2")).stop(None)
    assert [type(e) for e in outbox.events] == [ev.RecordingStopped] and outbox.events[0].chunks == 0


class FlakyBlobs(LocalBlobStore):
    """Chunk writes fail (as on an unwritable disk) `failures` times, then work; -1: always fail."""

    def __init__(self, root, failures: int) -> None:
        super().__init__(root)
        self.failures, self.attempts = failures, 0

    def put(self, key, data) -> None:
        if "/chunk-" in key:
            self.attempts += 1
            if self.failures < 0 or self.attempts <= self.failures:
                raise PermissionError(13, "Permission denied", key)
        super().put(key, data)


def stored_chunks(blobs: LocalBlobStore, recording_id: str) -> list[str]:
    return [key for key in blobs.list(f"recordings/{recording_id}/") if "/chunk-" in key]


def record_rows(recorder: Recorder, first: int, last: int) -> None:
    for step in range(first, last + 1):
        recorder.buffer.append(row(step))


def test_a_chunk_whose_write_fails_a_few_times_is_retried_and_nothing_is_lost(tmp_path):
    blobs, outbox = FlakyBlobs(tmp_path, failures=3), Outbox()
    recorder = Recorder("r3", "i1", blobs, outbox, ChunkBuffer("r3"), retry_seconds=10)
    record_rows(recorder, 1, 10)
    recorder.flush()
    record_rows(recorder, 11, 20)
    recorder.stop(None)
    assert blobs.attempts == 3 + 2  # three failures, then both chunks stored
    stopped = outbox.events[-1]
    assert isinstance(stopped, ev.RecordingStopped) and stopped.status == "complete" and stopped.error is None
    assert stopped.chunks == len(stored_chunks(blobs, "r3")) == 2 and stopped.rows == 20
    table = read_recording(blobs, stored_chunks(blobs, "r3"))
    assert table.column("step").to_pylist() == list(range(1, 21))


def test_a_chunk_that_cannot_be_stored_within_the_retry_time_fails_the_recording_and_the_count_is_what_is_stored(
    tmp_path,
):
    blobs, outbox = FlakyBlobs(tmp_path, failures=0), Outbox()
    recorder = Recorder("r4", "i1", blobs, outbox, ChunkBuffer("r4"), retry_seconds=0.3)
    record_rows(recorder, 1, 10)
    recorder.flush()  # chunk 0: stored
    recorder._idle.wait(10)
    blobs.failures = -1  # the disk becomes unwritable for good
    record_rows(recorder, 11, 20)
    recorder.flush()  # chunk 1: retried for 0.3 s (several pauses), then given up
    recorder._idle.wait(10)
    assert recorder.maybe_flush(1e9) is False  # the owner is told to stop the recording
    assert "not stored after retrying for 0.3s" in (recorder.failure or "")
    record_rows(recorder, 21, 30)
    recorder.stop(None)  # the rows after the failed chunk are not written (no gaps)
    assert blobs.attempts > 3  # chunk 0 once, then chunk 1 tried again and again
    stopped = outbox.events[-1]
    assert isinstance(stopped, ev.RecordingStopped) and stopped.status == "failed"
    assert "chunk 1 could not be written" in stopped.error and "Permission denied" in stopped.error
    assert stopped.chunks == len(stored_chunks(blobs, "r4")) == 1 and stopped.rows == 9
    announced = [e.chunk_index for e in outbox.events if isinstance(e, ev.RecordingChunkWritten)]
    assert announced == [0]


def test_the_agent_steps_on_while_a_chunk_write_is_retried(tmp_path):
    blobs, outbox = FlakyBlobs(tmp_path, failures=1_000_000), Outbox()
    recorder = Recorder("r5", "i1", blobs, outbox, ChunkBuffer("r5"), retry_seconds=1.0)
    record_rows(recorder, 1, 10)
    recorder.flush()  # the writer now retries for a second
    record_rows(recorder, 11, 20)
    began = time.monotonic()
    assert recorder.maybe_flush(time.monotonic() + 5) is True  # a chunk is due, the writer is busy
    assert time.monotonic() - began < 0.5  # did not wait for the writer
    assert len(recorder.buffer) == 11  # the rows wait in the buffer (10 new + the one held back)
    recorder.stop(None)
    assert outbox.events[-1].status == "failed"
