"""Rows written in Arrow IPC chunks to a BlobStore read back exactly, alone or as one download."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
from ainimal_zookeeper.recordings import (
    ChunkBuffer,
    chunk_key,
    column_values,
    read_recording,
    table_from_ipc,
    write_merged_ipc,
)

ROWS, CHUNK = 300, 100


@pytest.fixture
def full_rows(rollout_factory) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """300 rows of a real CartPole rollout with every kind of column a worker writes."""
    rollout = rollout_factory(episodes=40)
    rows = rollout.rows[:ROWS]
    assert len(rows) == ROWS
    rows[-1]["final/observation"] = (
        rows[-1]["final/observation"]
        if rows[-1]["final/observation"] is not None
        else rows[-1]["inputs/observation"] + 1
    )
    rng = np.random.default_rng(7)
    for i, row in enumerate(rows):
        row["activations/policy.0"] = rng.standard_normal(64).astype(np.float32)
        row["frame"] = rng.bytes(40 + i % 7)
        row["metrics"] = {"loss": float(rng.random()), "lr": np.float32(0.5), "tags": ["a", i]}
        row["inputs/hint"] = None if i < CHUNK else rng.integers(0, 9, size=(2, 3)).astype(np.int64)
        if i % 50 == 3:
            row["overridden"], row["overrides"] = True, [f"ovr-{i}"]
    return rows, rollout.modalities


def write_chunks(blobs, rows, modalities, recording_id="rec-1", chunk=CHUNK) -> list[str]:
    buffer = ChunkBuffer(recording_id, modalities)
    keys = []
    for start in range(0, len(rows), chunk):
        for row in rows[start : start + chunk]:
            buffer.append(row)
        keys.append(chunk_key(recording_id, len(keys)))
        blobs.put(keys[-1], buffer.to_ipc(len(keys) - 1))
    return keys


def assert_values_equal(got: list[Any], expected: list[Any], name: str) -> None:
    assert len(got) == len(expected), name
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        if isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray), (name, i, a)
            assert a.dtype == b.dtype and a.shape == b.shape, (name, i, a.dtype, a.shape)
            np.testing.assert_array_equal(a, b)
        elif isinstance(b, dict):
            assert a == json.loads(json.dumps(b, default=lambda v: v.tolist())), (name, i)
        else:
            assert a == b and type(a) is type(b), (name, i, a, b)


def test_chunk_keys_are_zero_padded_so_they_sort_in_chunk_order():
    assert chunk_key("rec-9", 7) == "recordings/rec-9/chunk-000007.arrow"
    assert sorted([chunk_key("r", 10), chunk_key("r", 9)]) == [chunk_key("r", 9), chunk_key("r", 10)]


def test_a_recording_written_in_three_chunks_reads_back_equal(blobs, full_rows):
    rows, modalities = full_rows
    keys = write_chunks(blobs, rows, modalities)
    table = read_recording(blobs, keys)
    assert table.num_rows == ROWS
    for name in rows[0]:
        expected = [row[name] for row in rows]
        if name == "time":
            expected = [float(v) for v in expected]
        assert_values_equal(column_values(table, name), expected, name)


def test_arrays_keep_dtype_and_shape_and_streams_their_modality_in_the_schema(blobs, full_rows):
    rows, modalities = full_rows
    table = read_recording(blobs, write_chunks(blobs, rows, modalities))
    observation = table.schema.field("inputs/observation")
    assert observation.type == pa.list_(pa.float32(), 4)
    assert observation.metadata[b"shape"] == b"[4]"
    assert json.loads(observation.metadata[b"modality"]) == modalities["inputs/observation"]
    assert table.schema.field("inputs/hint").type == pa.list_(pa.int64(), 6)
    assert table.schema.field("activations/policy.0").type == pa.list_(pa.float32(), 64)
    assert table.schema.field("outputs/action").type == pa.int64()
    assert table.schema.field("overrides").type == pa.list_(pa.string())
    assert table.schema.metadata[b"recording_id"] == b"rec-1"
    assert table.schema.metadata[b"chunks"] == b"3"


def test_each_chunk_names_its_recording_and_index_and_is_plain_arrow_ipc(blobs, full_rows):
    rows, modalities = full_rows
    keys = write_chunks(blobs, rows, modalities)
    reader = pa.ipc.open_stream(blobs.get(keys[1]))
    assert reader.schema.metadata[b"recording_id"] == b"rec-1"
    assert reader.schema.metadata[b"chunk_index"] == b"1"
    assert reader.read_all().num_rows == CHUNK


def test_a_column_all_none_in_the_first_chunk_takes_the_type_of_the_later_chunks(blobs, full_rows):
    rows, modalities = full_rows
    keys = write_chunks(blobs, rows, modalities)
    assert pa.types.is_null(table_from_ipc(blobs.get(keys[0])).schema.field("inputs/hint").type)
    hints = column_values(read_recording(blobs, keys), "inputs/hint")
    assert hints[:CHUNK] == [None] * CHUNK
    assert hints[CHUNK].shape == (2, 3) and hints[CHUNK].dtype == np.int64


def test_an_all_none_column_is_typed_from_an_earlier_chunk_or_its_modality():
    modality = {"kind": "box", "shape": [4], "dtype": "float32", "low": None, "high": None}
    buffer = ChunkBuffer("rec-2", {"inputs/observation": modality})
    buffer.append({"step": 0, "final/observation": None, "activations/x": np.zeros(3, np.float16)})
    first = table_from_ipc(buffer.to_ipc(0))
    buffer.append({"step": 1, "final/observation": None, "activations/x": None})
    second = table_from_ipc(buffer.to_ipc(1))
    final = first.schema.field("final/observation")  # typed from inputs/observation, as a sparse column
    assert final.type == pa.list_(pa.float32()) and final.metadata[b"shape"] == b"[4]"
    assert second.schema.field("activations/x").type == pa.list_(pa.float16(), 3)  # from chunk 0
    assert second.schema.field("activations/x").metadata[b"shape"] == b"[3]"


def test_final_observations_take_space_only_in_the_rows_that_have_one(blobs):
    image = {"kind": "image", "shape": [84, 84, 3], "dtype": "uint8"}
    buffer = ChunkBuffer("rec-sparse", {"inputs/observation": image})
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 255, (84, 84, 3), dtype=np.uint8) for _ in range(40)]
    ends = {9, 19, 39}
    for step, frame in enumerate(frames):
        final = frame[::-1].copy() if step in ends else None
        buffer.append({"step": step, "inputs/observation": frame, "final/observation": final})
    keys = [chunk_key("rec-sparse", 0), chunk_key("rec-sparse", 1)]
    blobs.put(keys[0], buffer.to_ipc(0))
    buffer.append({"step": 40, "inputs/observation": frames[0], "final/observation": None})  # a chunk with none
    blobs.put(keys[1], buffer.to_ipc(1))
    table = read_recording(blobs, keys)
    finals = column_values(table, "final/observation")
    assert [i for i, value in enumerate(finals) if value is not None] == sorted(ends)
    for step in ends:
        np.testing.assert_array_equal(finals[step], frames[step][::-1])
        assert finals[step].dtype == np.uint8 and finals[step].shape == (84, 84, 3)
    stored = table.column("final/observation").combine_chunks().values
    assert len(stored) == len(ends) * 84 * 84 * 3  # not a slot for each of the 41 rows


def test_a_key_missing_from_a_row_is_none_in_that_row():
    buffer = ChunkBuffer("rec-3")
    buffer.append({"step": 0, "reward": 1})
    buffer.append({"step": 1, "frame": b"png"})
    buffer.append({"step": 2, "reward": 0.5})
    assert len(buffer) == 3
    table = table_from_ipc(buffer.to_ipc(0))
    assert len(buffer) == 0
    assert column_values(table, "reward") == [1.0, None, 0.5]
    assert column_values(table, "frame") == [None, b"png", None]


def test_the_merged_download_reads_back_equal_to_read_recording(blobs, full_rows):
    rows, modalities = full_rows
    keys = write_chunks(blobs, rows, modalities)
    out = io.BytesIO()
    written = write_merged_ipc(blobs, keys, out)
    assert written == len(out.getvalue())
    merged = table_from_ipc(out.getvalue())
    expected = read_recording(blobs, keys)
    assert merged.equals(expected)
    assert merged.schema.metadata[b"rows"] == str(ROWS).encode()
    assert merged.schema.field("inputs/hint").metadata[b"shape"] == b"[2, 3]"


class WriteOnly:
    """An HTTP response body: write() and nothing else (no seek, no tell)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(self.parts[-1])


def test_the_merged_download_streams_into_a_sink_that_can_only_write(blobs, full_rows):
    rows, modalities = full_rows
    keys = write_chunks(blobs, rows, modalities)
    sink = WriteOnly()
    written = write_merged_ipc(blobs, keys, sink)
    assert written == sum(map(len, sink.parts))
    assert table_from_ipc(b"".join(sink.parts)).num_rows == ROWS


def test_a_corrupted_chunk_raises_invalid_input_naming_its_key(blobs, full_rows):
    rows, modalities = full_rows
    keys = write_chunks(blobs, rows, modalities)
    blobs.put(keys[1], blobs.get(keys[1])[: len(blobs.get(keys[1])) // 2])
    with pytest.raises(InvalidInput, match=keys[1]):
        read_recording(blobs, keys)
    with pytest.raises(InvalidInput, match=keys[1]):
        write_merged_ipc(blobs, keys, io.BytesIO())
    blobs.put(keys[2], b"\x80\x04\x95pickle, not arrow")
    with pytest.raises(InvalidInput, match=keys[2]):
        write_merged_ipc(blobs, keys[2:], io.BytesIO())


def test_a_stream_cut_at_a_message_boundary_is_caught_by_its_row_count(blobs, full_rows):
    rows, modalities = full_rows
    out = io.BytesIO()
    write_merged_ipc(blobs, write_chunks(blobs, rows, modalities), out)
    reader = pa.ipc.open_stream(out.getvalue())
    cut = pa.BufferOutputStream()
    with pa.ipc.new_stream(cut, reader.schema) as writer:  # the same schema, one batch short
        writer.write_batch(reader.read_next_batch())
    with pytest.raises(InvalidInput, match=f"expected {ROWS} rows, found {CHUNK}"):
        table_from_ipc(cut.getvalue().to_pybytes())


def test_a_missing_chunk_is_not_found(blobs):
    with pytest.raises(NotFound):
        read_recording(blobs, [chunk_key("nope", 0)])


def test_flushing_an_empty_buffer_is_a_conflict():
    with pytest.raises(Conflict, match="no buffered rows"):
        ChunkBuffer("rec-4").to_ipc(0)


def test_arrays_of_two_shapes_in_one_column_are_refused_and_the_buffer_is_cleared():
    buffer = ChunkBuffer("rec-5")
    buffer.append({"activations/a": np.zeros(4, np.float32)})
    buffer.append({"activations/a": np.zeros(5, np.float32)})
    with pytest.raises(InvalidInput, match=r"'activations/a' expects arrays of shape \[4\], got \(5,\) at row 1"):
        buffer.to_ipc(0)
    assert len(buffer) == 0
    buffer.append({"activations/a": np.ones(4, np.float32)})
    assert column_values(table_from_ipc(buffer.to_ipc(1)), "activations/a")[0].tolist() == [1, 1, 1, 1]


def test_a_value_without_an_arrow_form_is_refused_naming_its_column():
    buffer = ChunkBuffer("rec-6")
    buffer.append({"outputs/thing": object()})
    with pytest.raises(InvalidInput, match="'outputs/thing'"):
        buffer.to_ipc(0)


def test_column_values_of_a_missing_column_is_not_found_and_lists_the_columns():
    buffer = ChunkBuffer("rec-7")
    buffer.append({"step": 0})
    with pytest.raises(NotFound, match="no column 'reward'; its columns are step"):
        column_values(table_from_ipc(buffer.to_ipc(0)), "reward")


def test_arrays_read_back_are_writable_copies(blobs, full_rows):
    rows, modalities = full_rows
    table = read_recording(blobs, write_chunks(blobs, rows, modalities))
    first = column_values(table, "inputs/observation")[0]
    first[0] = 123.0
    assert column_values(table, "inputs/observation")[0][0] != 123.0
