"""Recorder: chunks into a real local BlobStore, announced; the last row keeps the final observation."""

from __future__ import annotations

import json

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
