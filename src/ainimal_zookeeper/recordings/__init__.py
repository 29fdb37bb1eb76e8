"""Recordings: what an instance saw and did, as Arrow IPC chunks in a BlobStore.

Written by the worker (`ChunkBuffer`), read back and downloaded (`read_recording`,
`write_merged_ipc`), compared with a replay (`compare_recordings`) and exported for offline RL
(`export_minari`, which needs the optional `minari` extra only when it runs).
"""

from ainimal_zookeeper.recordings.chunk_layout import CHUNK_KEY_PREFIX, ColumnValues, chunk_key
from ainimal_zookeeper.recordings.chunk_reading import column_values, read_recording, table_from_ipc, write_merged_ipc
from ainimal_zookeeper.recordings.chunk_writing import ChunkBuffer, ChunkEncoder, TakenChunk
from ainimal_zookeeper.recordings.compare import compare_recordings
from ainimal_zookeeper.recordings.minari_export import export_minari, zip_dataset
from ainimal_zookeeper.recordings.spaces import space_from_modality

__all__ = [
    "CHUNK_KEY_PREFIX",
    "ChunkBuffer",
    "ChunkEncoder",
    "ColumnValues",
    "TakenChunk",
    "chunk_key",
    "column_values",
    "compare_recordings",
    "export_minari",
    "read_recording",
    "space_from_modality",
    "table_from_ipc",
    "write_merged_ipc",
    "zip_dataset",
]
