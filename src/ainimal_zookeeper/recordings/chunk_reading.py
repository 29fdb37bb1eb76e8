"""Reading recordings back: chunks into one table (schemas unified), merged downloads, column values.

Chunks come from storage clients can reach: they are parsed as Arrow IPC streams only, and a
truncated or corrupted chunk is an InvalidInput naming its key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from ainimal_zookeeper.errors import InvalidInput, NotFound
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.recordings.chunk_layout import (
    CHUNKS_KEY,
    ENCODING_KEY,
    JSON_ENCODING,
    RECORDING_ID_KEY,
    ROWS_KEY,
    SHAPE_KEY,
)


def table_from_ipc(data: bytes) -> pa.Table:
    """Read one Arrow IPC stream (a chunk, or a merged download) into a table.

    Raises:
        InvalidInput: the bytes are not a complete, valid Arrow IPC stream.
    """
    return _read_stream(data, "the given bytes")


def read_recording(blobs: BlobStore, chunk_keys: list[str]) -> pa.Table:
    """All chunks of a recording as one table, in the order of `chunk_keys`.

    Chunks whose schemas differ (a column all None in one chunk, or first seen in a later one)
    are cast to one unified schema; a column missing from a chunk is None in its rows.

    Raises:
        NotFound: a chunk key is not stored.
        InvalidInput: a chunk is corrupted or truncated (the message names its key), or a
            column has types that cannot be unified across chunks.
    """
    tables = [_read_stream(blobs.get(key), key) for key in chunk_keys]
    schema = _unified_schema([t.schema for t in tables])
    batches = [_conform(batch, schema) for table in tables for batch in table.to_batches()]
    return pa.Table.from_batches(batches, schema=schema)


def write_merged_ipc(blobs: BlobStore, chunk_keys: list[str], out: BinaryIO) -> int:
    """Stream all chunks of a recording into `out` as ONE Arrow IPC stream (a download).

    Only one chunk is held in memory at a time: a first pass reads just the chunks' schemas to
    unify them, the second copies the batches. A chunk found corrupted in the second pass
    raises after the earlier chunks were written; the row count in the schema metadata lets a
    reader tell the cut stream from a whole one.

    Returns:
        The number of bytes written to `out`.

    Raises:
        NotFound: a chunk key is not stored.
        InvalidInput: a chunk is corrupted or truncated (the message names its key).
    """
    schemas = [_stored_schema(blobs, key) for key in chunk_keys]
    schema = _unified_schema(schemas)
    counting = _CountingWriter(out)
    writer = pa.ipc.new_stream(counting, schema)
    for key in chunk_keys:
        for batch in _stored_batches(blobs, key):
            writer.write_batch(_conform(batch, schema))
    writer.close()  # not on error: the end-of-stream marker would make a cut stream look whole
    return counting.written


def column_values(table: pa.Table, name: str) -> list[Any]:
    """The values of one column, one per row, in their Python form.

    Returns:
        Per row: a numpy array of the stored shape and dtype (array columns), a dict or list
        (JSON columns), a Python scalar, bytes or str, or None.

    Raises:
        NotFound: the table has no such column.
    """
    if name not in table.column_names:
        raise NotFound(f"the recording has no column {name!r}; its columns are {', '.join(table.column_names)}")
    field = table.schema.field(name)
    column = table.column(name)
    if pa.types.is_fixed_size_list(field.type):
        block, valid = array_block(column, field)
        return [block[i] if valid[i] else None for i in range(len(block))]
    if pa.types.is_list(field.type) and SHAPE_KEY in (field.metadata or {}):
        return _sparse_values(column, field)
    values = column.to_pylist()
    if (field.metadata or {}).get(ENCODING_KEY) == JSON_ENCODING:
        return [None if v is None else json.loads(v) for v in values]
    return values


def _sparse_values(column: pa.ChunkedArray, field: pa.Field) -> list[np.ndarray | None]:
    """A list<dtype> column with a shape (a sparse array column): an array or None per row."""
    shape = tuple(json.loads((field.metadata or {})[SHAPE_KEY]))
    array = column.combine_chunks()
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    offsets = array.offsets.to_numpy()
    flat = array.values.to_numpy(zero_copy_only=False)
    return [flat[offsets[i] : offsets[i + 1]].reshape(shape).copy() if valid[i] else None for i in range(len(array))]


def array_block(column: pa.ChunkedArray | pa.Array, field: pa.Field) -> tuple[np.ndarray, np.ndarray]:
    """A fixed_size_list column as one writable (rows, *shape) array and a row-validity mask.

    Null rows hold whatever the chunk stored there (zeros when written by ChunkBuffer).
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    size = field.type.list_size
    raw_shape = (field.metadata or {}).get(SHAPE_KEY)
    shape = tuple(json.loads(raw_shape)) if raw_shape else (size,)
    values = array.values.slice(array.offset * size, len(array) * size)
    if values.null_count:  # null rows cast from Arrow's null type: their slots are nulls, not zeros
        values = values.fill_null(pa.scalar(False if pa.types.is_boolean(values.type) else 0, values.type))
    flat = values.to_numpy(zero_copy_only=False)
    if not flat.flags.writeable:  # a view of Arrow's memory; callers may change their arrays
        flat = flat.copy()
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return flat.reshape((len(array), *shape)), valid


def _read_stream(data: bytes, where: str) -> pa.Table:
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        table.validate(full=True)  # untrusted bytes: check offsets before anyone reads values
    except (pa.ArrowException, OSError) as exc:  # Arrow reports a body cut short as OSError
        raise InvalidInput(f"recording chunk {where} is not a valid Arrow IPC stream: {exc}") from exc
    _check_rows(table.schema, table.num_rows, where)
    return table


def _stored_schema(blobs: BlobStore, key: str) -> pa.Schema:
    with blobs.open(key) as handle:
        try:
            return pa.ipc.open_stream(handle).schema
        except (pa.ArrowException, OSError) as exc:  # Arrow reports a body cut short as OSError
            raise InvalidInput(f"recording chunk {key} is not a valid Arrow IPC stream: {exc}") from exc


def _stored_batches(blobs: BlobStore, key: str) -> Iterator[pa.RecordBatch]:
    rows = 0
    with blobs.open(key) as handle:
        try:
            reader = pa.ipc.open_stream(handle)
            for batch in reader:
                batch.validate(full=True)
                rows += batch.num_rows
                yield batch
        except (pa.ArrowException, OSError) as exc:  # Arrow reports a body cut short as OSError
            raise InvalidInput(f"recording chunk {key} is not a valid Arrow IPC stream: {exc}") from exc
        _check_rows(reader.schema, rows, key)


def _check_rows(schema: pa.Schema, rows: int, where: str) -> None:
    expected = (schema.metadata or {}).get(ROWS_KEY)
    if expected is not None and int(expected) != rows:
        raise InvalidInput(f"recording chunk {where} is truncated: expected {int(expected)} rows, found {rows}")


def _unified_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema for all chunks: columns in first-seen order, types promoted (null -> typed)."""
    by_name: dict[str, list[pa.Field]] = {}
    for schema in schemas:
        for field in schema:
            by_name.setdefault(field.name, []).append(field)
    return pa.schema(
        [_unified_field(name, fields) for name, fields in by_name.items()], metadata=_merged_metadata(schemas)
    )


def _unified_field(name: str, fields: list[pa.Field]) -> pa.Field:
    try:
        single = [pa.schema([f.remove_metadata()]) for f in fields]
        kind = pa.unify_schemas(single, promote_options="permissive").field(0).type
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        types = ", ".join(sorted({str(f.type) for f in fields}))
        raise InvalidInput(f"recording column {name!r} has types that do not unify across chunks: {types}") from exc
    metadata: dict[bytes, bytes] = {}
    for field in sorted(fields, key=lambda f: pa.types.is_null(f.type)):  # typed chunks' metadata first
        for key, value in (field.metadata or {}).items():
            metadata.setdefault(key, value)
    return pa.field(name, kind, metadata=metadata or None)


def _merged_metadata(schemas: Iterable[pa.Schema]) -> dict[bytes, bytes]:
    metadatas = [s.metadata or {} for s in schemas]
    merged = {CHUNKS_KEY: str(len(metadatas)).encode()}
    if metadatas and RECORDING_ID_KEY in metadatas[0]:
        merged[RECORDING_ID_KEY] = metadatas[0][RECORDING_ID_KEY]
    if metadatas and all(ROWS_KEY in m for m in metadatas):
        merged[ROWS_KEY] = str(sum(int(m[ROWS_KEY]) for m in metadatas)).encode()
    return merged


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` with the unified schema: missing columns as nulls, other types cast."""
    arrays = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        array = batch.column(index)
        arrays.append(array if array.type == field.type else array.cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class _CountingWriter:
    """A file-like sink for pyarrow that passes writes on to `out` and counts the bytes."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.written = 0
        self.closed = False

    def write(self, data: Any) -> int:
        self._out.write(data)
        size = memoryview(data).nbytes
        self.written += size
        return size

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        self.closed = True  # the caller owns `out` and closes it
