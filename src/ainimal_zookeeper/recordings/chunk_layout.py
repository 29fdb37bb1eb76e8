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

from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

CHUNK_KEY_PREFIX = "recordings"

SHAPE_KEY = b"shape"
MODALITY_KEY = b"modality"
ENCODING_KEY = b"encoding"
JSON_ENCODING = b"json"
ROWS_KEY = b"rows"
RECORDING_ID_KEY = b"recording_id"
CHUNK_INDEX_KEY = b"chunk_index"
CHUNKS_KEY = b"chunks"

#: Columns whose type is fixed whatever values arrive (a reward given as int stays float64).
FIXED_TYPES: dict[str, pa.DataType] = {
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
JSON_COLUMNS = frozenset({"metrics"})
#: Array columns with a value in few rows (the observation that ended an episode).
SPARSE_PREFIX = "final/"
JSON_FIELD_METADATA = {ENCODING_KEY: JSON_ENCODING}

#: A column as buffered: one value per row (a list, or a 1-d numpy array of scalars), a
#: numpy block of shape (rows, *shape) whose rows are the values, or an Arrow array already.
ColumnValues: TypeAlias = list[Any] | np.ndarray | pa.Array


def chunk_key(recording_id: str, index: int) -> str:
    """The BlobStore key of a recording's chunk `index`; zero-padded so keys sort in order."""
    return f"{CHUNK_KEY_PREFIX}/{recording_id}/chunk-{index:06d}.arrow"
