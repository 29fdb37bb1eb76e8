"""Writing recordings: rows buffered column-wise (`ChunkBuffer`), encoded as Arrow IPC chunks.

The layout of a chunk is described in `recordings/chunk_layout.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa

from ainimal_zookeeper.errors import Conflict, InvalidInput
from ainimal_zookeeper.recordings.chunk_layout import (
    CHUNK_INDEX_KEY,
    ENCODING_KEY,
    FIXED_TYPES,
    JSON_COLUMNS,
    JSON_FIELD_METADATA,
    MODALITY_KEY,
    RECORDING_ID_KEY,
    ROWS_KEY,
    SHAPE_KEY,
    SPARSE_PREFIX,
    ColumnValues,
)


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
        metadata = {RECORDING_ID_KEY: self.recording_id, CHUNK_INDEX_KEY: str(chunk_index), ROWS_KEY: str(rows)}
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
        metadata[MODALITY_KEY] = json.dumps(modality).encode()
    extra: dict[bytes, bytes] = {}
    try:
        if isinstance(values, list):
            array, extra = _list_column(name, values, modality, previous)
        elif not isinstance(values, np.ndarray):
            array = values  # an Arrow array already
        elif values.ndim == 1:
            array = pa.array(values, type=FIXED_TYPES.get(name))
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
    if name in FIXED_TYPES:
        return pa.array(values, type=FIXED_TYPES[name]), {}
    if isinstance(sample, np.ndarray) and sample.ndim:
        return _array_column(name, values, sample)
    if isinstance(sample, (dict, list, tuple)):
        return _json_column(values), JSON_FIELD_METADATA
    return _scalar_column(name, values, sample)


def _block_column(name: str, block: np.ndarray) -> tuple[pa.Array, dict[bytes, bytes]]:
    """A (rows, *shape) block as a fixed_size_list of each row's flattened values (no copy)."""
    if block.dtype.kind not in "biuf":
        raise InvalidInput(f"recording column {name!r} expects numeric arrays, got dtype {block.dtype}")
    shape = block.shape[1:]
    size = int(np.prod(shape, dtype=np.int64))
    flat = np.ascontiguousarray(block).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat), size), {SHAPE_KEY: json.dumps(list(shape)).encode()}


def _array_column(name: str, values: list[Any], sample: np.ndarray) -> tuple[pa.Array, dict[bytes, bytes]]:
    """Arrays of one shape as a fixed_size_list of their flattened values, dtype kept."""
    if sample.dtype.kind not in "biuf":
        raise InvalidInput(f"recording column {name!r} expects numeric arrays, got dtype {sample.dtype}")
    if name.startswith(SPARSE_PREFIX):
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
    return array, {SHAPE_KEY: json.dumps(list(sample.shape)).encode()}


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
    if name in FIXED_TYPES:
        return pa.nulls(rows, FIXED_TYPES[name]), {}
    if name in JSON_COLUMNS:
        return pa.nulls(rows, pa.string()), dict(JSON_FIELD_METADATA)
    if previous is not None:
        extra = {k: v for k, v in (previous.metadata or {}).items() if k in (SHAPE_KEY, ENCODING_KEY)}
        return pa.nulls(rows, previous.type), extra
    kind, extra = _type_from_modality(modality) if modality is not None else (pa.null(), {})
    if name.startswith(SPARSE_PREFIX) and pa.types.is_fixed_size_list(kind):
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
        return pa.string(), dict(JSON_FIELD_METADATA)
    return pa.null(), {}


def _fixed_list(dtype: str, shape: list[int]) -> tuple[pa.DataType, dict[bytes, bytes]]:
    size = int(np.prod(shape, dtype=np.int64))
    return pa.list_(pa.from_numpy_dtype(np.dtype(dtype)), size), {SHAPE_KEY: json.dumps(list(shape)).encode()}
