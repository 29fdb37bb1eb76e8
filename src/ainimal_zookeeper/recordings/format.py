"""The recording format: rows buffered column-wise, written as Arrow IPC stream chunks, read back.

A recording is a sequence of chunks stored in a BlobStore under `chunk_key(recording_id, i)`.
Each chunk is one Arrow IPC *stream* (never pickle: chunks are read back from storage that
clients can reach, so the bytes are untrusted) holding one record batch:

- numpy arrays become `fixed_size_list<dtype>[size]` of the flattened values, with the shape as
  JSON in the field metadata (`shape`), so float32 stays float32 and [84, 84, 3] comes back;
  sparse columns (`final/<m>`, set only where an episode ends) become `list<dtype>` instead,
  so the rows without a value take no space (a fixed-size list reserves a slot in every row);
- dicts (metrics, dict / tuple observations) and other lists become JSON strings, marked by
  `encoding: json` in the field metadata;
- scalars, bytes and strings become Arrow scalars, binaries and strings;
- a stream's modality, when known, is kept as JSON in the field metadata (`modality`);
- the schema metadata holds the recording id, the chunk index and the row count (a stream cut
  at a message boundary still parses, so the count is what reveals a truncated chunk).

A column that is all None in a chunk is typed from the same column in an earlier chunk, else
from its modality, else left as Arrow's null type; readers unify the chunks' schemas (null
promotes to the other chunks' type) so a recording always reads as one table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import repeat
from typing import Any, BinaryIO, TypeAlias

import numpy as np
import pyarrow as pa

from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
from ainimal_zookeeper.ports.blobs import BlobStore

__all__ = [
    "CHUNK_KEY_PREFIX",
    "ChunkBuffer",
    "ChunkEncoder",
    "ColumnValues",
    "TakenChunk",
    "array_block",
    "chunk_key",
    "column_values",
    "read_recording",
    "table_from_ipc",
    "write_merged_ipc",
]

CHUNK_KEY_PREFIX = "recordings"

_SHAPE = b"shape"
_MODALITY = b"modality"
_ENCODING = b"encoding"
_JSON = b"json"
_ROWS = b"rows"
_RECORDING_ID = b"recording_id"
_CHUNK_INDEX = b"chunk_index"
_CHUNKS = b"chunks"

#: Columns whose type is fixed whatever values arrive (a reward given as int stays float64).
_FIXED_TYPES: dict[str, pa.DataType] = {
    "step": pa.int64(),
    "episode": pa.int64(),
    "episode_seed": pa.int64(),
    "time": pa.float64(),
    "reward": pa.float64(),
    "terminated": pa.bool_(),
    "truncated": pa.bool_(),
    "overridden": pa.bool_(),
    "overrides": pa.list_(pa.string()),
    "frame": pa.binary(),
}
#: Columns whose values are dicts: JSON even in a chunk where they are all None.
_JSON_COLUMNS = frozenset({"metrics"})
#: Array columns with a value in few rows (the observation that ended an episode).
_SPARSE_PREFIX = "final/"
_JSON_FIELD_METADATA = {_ENCODING: _JSON}

#: A column as buffered: one value per row (a list, or a 1-d numpy array of scalars), a
#: numpy block of shape (rows, *shape) whose rows are the values, or an Arrow array already.
ColumnValues: TypeAlias = list[Any] | np.ndarray | pa.Array


def chunk_key(recording_id: str, index: int) -> str:
    """The BlobStore key of a recording's chunk `index`; zero-padded so keys sort in order."""
    return f"{CHUNK_KEY_PREFIX}/{recording_id}/chunk-{index:06d}.arrow"


class TakenChunk:
    """Rows handed over by a buffer, to be encoded (on a writer thread) as one chunk.

    Encode the chunks of one recording in order, one at a time: a later chunk types its
    all-None columns after the earlier ones (the encoder remembers them). A chunk is encoded
    once: then its `after_encoding` callbacks run (they may reuse the columns' memory).
    """

    __slots__ = ("_after", "_columns", "_encoder", "first_step", "last_step", "rows")

    def __init__(
        self,
        encoder: ChunkEncoder,
        columns: dict[str, ColumnValues],
        rows: int,
        after_encoding: Iterable[Callable[[], None]] = (),
    ) -> None:
        self._encoder, self._columns, self.rows = encoder, columns, rows
        self._after = list(after_encoding)
        steps = columns.get("step")
        self.first_step = self.last_step = 0
        if isinstance(steps, list) and rows and steps[0] is not None and steps[-1] is not None:
            self.first_step, self.last_step = int(steps[0]), int(steps[-1])

    def encode(self, chunk_index: int) -> pa.Buffer:
        """The chunk as Arrow IPC stream bytes (a buffer: `bytes(...)` or `memoryview(...)` it).

        Raises:
            InvalidInput: a column holds a value that has no Arrow form, or arrays of two shapes.
            Conflict: the chunk was encoded before.
        """
        columns, self._columns = self._columns, {}
        if not columns:
            raise Conflict("this chunk was encoded already")
        try:
            return self._encoder.encode(columns, self.rows, chunk_index)  # a copy: the columns may go
        finally:
            del columns
            for after in self._after:
                after()


class ChunkEncoder:
    """Turns one recording's columns into Arrow IPC chunks, remembering each column's type.

    Args:
        recording_id: written into every chunk's schema metadata.
        modalities: stream column name ("inputs/observation") -> modality dict; types a
            column that is all None in a chunk and is kept in the field metadata.
            "final/<m>" falls back to the modality of "inputs/<m>".
    """

    def __init__(self, recording_id: str, modalities: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.recording_id = recording_id
        self._modalities = dict(modalities or {})
        self._fields: dict[str, pa.Field] = {}  # the last type each column had, for all-None chunks

    def encode(self, columns: Mapping[str, ColumnValues], rows: int, chunk_index: int) -> pa.Buffer:
        """One record batch of `rows` rows as an Arrow IPC stream.

        Args:
            columns: name -> a list of `rows` values (shorter lists are None at the end), or a
                numpy block of shape (rows, *shape) whose rows are the values.
            rows: the number of rows.
            chunk_index: the chunk's position in the recording, kept in the schema metadata.
        """
        batch = self._batch(columns, rows, chunk_index)
        # Measured first, then written into a buffer of the exact size: a growing output
        # stream reallocates and copies a large chunk several times (50x slower at 20 MB).
        measure = pa.MockOutputStream()
        with pa.ipc.new_stream(measure, batch.schema) as writer:
            writer.write_batch(batch)
        data = pa.allocate_buffer(measure.size())
        with pa.ipc.new_stream(pa.FixedSizeBufferWriter(data), batch.schema) as writer:
            writer.write_batch(batch)
        return data

    def _batch(self, columns: Mapping[str, ColumnValues], rows: int, chunk_index: int) -> pa.RecordBatch:
        arrays, fields = [], []
        for name, values in columns.items():
            if isinstance(values, list) and len(values) < rows:
                values.extend(repeat(None, rows - len(values)))
            array, field = _encode_column(name, values, self._modality(name), self._fields.get(name))
            if not pa.types.is_null(field.type):
                self._fields[name] = field
            arrays.append(array)
            fields.append(field)
        metadata = {_RECORDING_ID: self.recording_id, _CHUNK_INDEX: str(chunk_index), _ROWS: str(rows)}
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))

    def _modality(self, name: str) -> Mapping[str, Any] | None:
        modality = self._modalities.get(name)
        if modality is None and name.startswith("final/"):
            modality = self._modalities.get("inputs/" + name.removeprefix("final/"))
        return modality


class ChunkBuffer:
    """Rows of one recording, buffered column-wise until taken as one Arrow IPC chunk.

    `append` may run on every env step, so it only appends to lists; types are worked out
    when a chunk is encoded. Values are kept by reference: a caller must not change an
    appended array in place. (The worker's own steps use the faster `StepColumns`.)
    """

    def __init__(self, recording_id: str, modalities: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Start an empty buffer; see `ChunkEncoder` for the arguments."""
        self.recording_id = recording_id
        self._encoder = ChunkEncoder(recording_id, modalities)
        self._columns: dict[str, list[Any]] = {}
        self._rows = 0
        self.row_bytes = 0  # the array and bytes payload of a row, from the first row buffered

    def append(self, row: Mapping[str, Any]) -> None:
        """Buffer one row; a key the row lacks is None in that row."""
        rows = self._rows
        if not rows:
            self.row_bytes = sum(_payload_bytes(value) for value in row.values())
        columns = self._columns
        for key, value in row.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = []
            if len(column) != rows:  # the key was missing from earlier rows
                column.extend(repeat(None, rows - len(column)))
            column.append(value)
        self._rows = rows + 1

    def __len__(self) -> int:
        """The number of rows buffered."""
        return self._rows

    def set_final(self, values: Mapping[str, Any]) -> None:
        """Give the newest row `final/<name>` values where it has none (the recording's end)."""
        if not self._rows:
            return
        for name, value in values.items():
            column = self._columns.setdefault(f"final/{name}", [])
            column.extend(repeat(None, self._rows - len(column)))
            if column[-1] is None:
                column[-1] = value

    def to_ipc(self, chunk_index: int) -> bytes:
        """Encode all buffered rows as one Arrow IPC stream, then clear the buffer.

        The rows are dropped even when they cannot be encoded: a value that does not fit
        would otherwise fail every later flush too.

        Raises:
            Conflict: no rows are buffered.
            InvalidInput: a column holds a value that has no Arrow form, or arrays of two shapes.
        """
        return self.take().encode(chunk_index).to_pybytes()

    def take(self, keep_last: bool = False) -> TakenChunk:
        """Hand the buffered rows over (with `keep_last`, all but the newest) and go on with the rest.

        Raises:
            Conflict: no rows would be handed over.
        """
        rows = self._rows - 1 if keep_last else self._rows
        if rows <= 0:
            raise Conflict(f"recording {self.recording_id!r} has no buffered rows: append rows before flushing")
        taken: dict[str, ColumnValues] = {}
        for key, column in self._columns.items():  # the keys stay, so later chunks keep the column order
            column.extend(repeat(None, self._rows - len(column)))
            taken[key] = column[:rows]
            del column[:rows]
        self._rows -= rows
        return TakenChunk(self._encoder, taken, rows)


def _payload_bytes(value: Any) -> int:
    return value.nbytes if isinstance(value, np.ndarray) else len(value) if isinstance(value, bytes) else 0


# --- encoding -------------------------------------------------------------------------------


def _encode_column(
    name: str, values: ColumnValues, modality: Mapping[str, Any] | None, previous: pa.Field | None
) -> tuple[pa.Array, pa.Field]:
    """One column as an Arrow array and its field (type, shape, modality, encoding)."""
    metadata: dict[bytes, bytes] = {}
    if modality is not None:
        metadata[_MODALITY] = json.dumps(modality).encode()
    extra: dict[bytes, bytes] = {}
    try:
        if isinstance(values, list):
            array, extra = _list_column(name, values, modality, previous)
        elif not isinstance(values, np.ndarray):
            array = values  # an Arrow array already
        elif values.ndim == 1:
            array = pa.array(values, type=_FIXED_TYPES.get(name))
        else:
            array, extra = _block_column(name, values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise InvalidInput(f"recording column {name!r} cannot be stored: {exc}") from exc
    return array, pa.field(name, array.type, metadata={**metadata, **extra} or None)


def _list_column(
    name: str, values: list[Any], modality: Mapping[str, Any] | None, previous: pa.Field | None
) -> tuple[pa.Array, dict[bytes, bytes]]:
    sample = next((v for v in values if v is not None), None)
    if sample is None:
        return _empty_column(name, len(values), modality, previous)
    if name in _FIXED_TYPES:
        return pa.array(values, type=_FIXED_TYPES[name]), {}
    if isinstance(sample, np.ndarray) and sample.ndim:
        return _array_column(name, values, sample)
    if isinstance(sample, (dict, list, tuple)):
        return _json_column(values), _JSON_FIELD_METADATA
    return _scalar_column(name, values, sample)


def _block_column(name: str, block: np.ndarray) -> tuple[pa.Array, dict[bytes, bytes]]:
    """A (rows, *shape) block as a fixed_size_list of each row's flattened values (no copy)."""
    if block.dtype.kind not in "biuf":
        raise InvalidInput(f"recording column {name!r} expects numeric arrays, got dtype {block.dtype}")
    shape = block.shape[1:]
    size = int(np.prod(shape, dtype=np.int64))
    flat = np.ascontiguousarray(block).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat), size), {_SHAPE: json.dumps(list(shape)).encode()}


def _array_column(name: str, values: list[Any], sample: np.ndarray) -> tuple[pa.Array, dict[bytes, bytes]]:
    """Arrays of one shape as a fixed_size_list of their flattened values, dtype kept."""
    if sample.dtype.kind not in "biuf":
        raise InvalidInput(f"recording column {name!r} expects numeric arrays, got dtype {sample.dtype}")
    if name.startswith(_SPARSE_PREFIX):
        return _sparse_column(name, values, sample)
    # The common case first, with no Python loop over the rows (this runs while the agent steps,
    # on a thread sharing its interpreter): every row holds an array of the sample's shape.
    # (A column that starts with None holds Nones, and np.array is slow to fail on them.)
    block = None
    if values[0] is not None:
        try:
            block = np.array(values)
        except (ValueError, TypeError):
            pass  # Nones or other shapes: the careful path below says which row
    if block is not None and block.shape[1:] == sample.shape and block.dtype.kind in "biuf":
        return _block_column(name, block.astype(sample.dtype, copy=False))
    present = _present_rows(name, values, sample)
    # A None here and there: fill only the rows with a value.
    block = np.zeros((len(values), *sample.shape), sample.dtype)
    block[present] = np.array([values[i] for i in present])
    nulls = np.ones(len(values), dtype=bool)
    nulls[present] = False
    array, shape = _block_column(name, block)
    return pa.FixedSizeListArray.from_arrays(array.values, int(sample.size), mask=pa.array(nulls)), shape


def _present_rows(name: str, values: list[Any], sample: np.ndarray) -> list[int]:
    """The rows holding a value, each checked to be an array of the sample's shape."""
    present = [i for i, value in enumerate(values) if value is not None]
    for index in present:
        value = values[index]
        if getattr(value, "shape", None) != sample.shape:
            got = getattr(value, "shape", type(value).__name__)
            raise InvalidInput(
                f"recording column {name!r} expects arrays of shape {list(sample.shape)}, got {got} at row {index}"
            )
    return present


def _sparse_column(name: str, values: list[Any], sample: np.ndarray) -> tuple[pa.Array, dict[bytes, bytes]]:
    """Arrays in few rows as a list<dtype> column: only the rows with a value hold values."""
    present = _present_rows(name, values, sample)
    sizes = np.zeros(len(values), np.int32)
    sizes[present] = sample.size
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum(sizes, out=offsets[1:])
    flat = np.array([values[i] for i in present], dtype=sample.dtype).reshape(-1)
    nulls = np.ones(len(values), dtype=bool)
    nulls[present] = False
    array = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat), mask=pa.array(nulls))
    return array, {_SHAPE: json.dumps(list(sample.shape)).encode()}


def _scalar_column(name: str, values: list[Any], sample: Any) -> tuple[pa.Array, dict[bytes, bytes]]:
    if isinstance(sample, np.ndarray):  # 0-d: a scalar in an array's clothing
        values = [None if v is None else v[()] for v in values]
    array = pa.array(values)
    if not (_is_plain(array.type)):
        raise InvalidInput(f"recording column {name!r} got {type(sample).__name__} values, which have no Arrow form")
    return array, {}


def _is_plain(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_boolean(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_string(kind)
        or pa.types.is_binary(kind)
    )


def _json_column(values: list[Any]) -> pa.Array:
    return pa.array([None if v is None else json.dumps(v, default=_json_default) for v in values], pa.string())


def _json_default(value: Any) -> Any:
    """numpy values inside dicts (metrics often hold np.float32) as plain JSON values."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, bytes):
        raise TypeError("bytes inside a dict or list have no JSON form; store them in a column of their own")
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _empty_column(
    name: str, rows: int, modality: Mapping[str, Any] | None, previous: pa.Field | None
) -> tuple[pa.Array, dict[bytes, bytes]]:
    """An all-None column, typed like the column's earlier chunks, else by its name or modality."""
    if name in _FIXED_TYPES:
        return pa.nulls(rows, _FIXED_TYPES[name]), {}
    if name in _JSON_COLUMNS:
        return pa.nulls(rows, pa.string()), dict(_JSON_FIELD_METADATA)
    if previous is not None:
        extra = {k: v for k, v in (previous.metadata or {}).items() if k in (_SHAPE, _ENCODING)}
        return pa.nulls(rows, previous.type), extra
    kind, extra = _type_from_modality(modality) if modality is not None else (pa.null(), {})
    if name.startswith(_SPARSE_PREFIX) and pa.types.is_fixed_size_list(kind):
        kind = pa.list_(kind.value_type)
    return pa.nulls(rows, kind), extra


def _type_from_modality(modality: Mapping[str, Any]) -> tuple[pa.DataType, dict[bytes, bytes]]:
    """The Arrow type the values of a modality get when they arrive (np.int64 actions, ...)."""
    kind = modality.get("kind")
    if kind in ("box", "image"):
        return _fixed_list(modality.get("dtype", "uint8"), modality.get("shape", []))
    if kind == "multi_discrete":
        return _fixed_list("int64", list(np.shape(modality.get("nvec", []))))
    if kind == "multi_binary":
        n = modality.get("n", 0)
        return _fixed_list("int8", [n] if isinstance(n, int) else n)
    if kind == "discrete":
        return pa.int64(), {}
    if kind == "text":
        return pa.string(), {}
    if kind in ("dict", "tuple"):
        return pa.string(), dict(_JSON_FIELD_METADATA)
    return pa.null(), {}


def _fixed_list(dtype: str, shape: list[int]) -> tuple[pa.DataType, dict[bytes, bytes]]:
    size = int(np.prod(shape, dtype=np.int64))
    return pa.list_(pa.from_numpy_dtype(np.dtype(dtype)), size), {_SHAPE: json.dumps(list(shape)).encode()}


# --- reading --------------------------------------------------------------------------------


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
    if pa.types.is_list(field.type) and _SHAPE in (field.metadata or {}):
        return _sparse_values(column, field)
    values = column.to_pylist()
    if (field.metadata or {}).get(_ENCODING) == _JSON:
        return [None if v is None else json.loads(v) for v in values]
    return values


def _sparse_values(column: pa.ChunkedArray, field: pa.Field) -> list[np.ndarray | None]:
    """A list<dtype> column with a shape (a sparse array column): an array or None per row."""
    shape = tuple(json.loads((field.metadata or {})[_SHAPE]))
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
    raw_shape = (field.metadata or {}).get(_SHAPE)
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
    expected = (schema.metadata or {}).get(_ROWS)
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
    merged = {_CHUNKS: str(len(metadatas)).encode()}
    if metadatas and _RECORDING_ID in metadatas[0]:
        merged[_RECORDING_ID] = metadatas[0][_RECORDING_ID]
    if metadatas and all(_ROWS in m for m in metadatas):
        merged[_ROWS] = str(sum(int(m[_ROWS]) for m in metadatas)).encode()
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
