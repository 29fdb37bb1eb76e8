"""The columns a recording fills at every step, written in place on the agent's thread.

Recording every step must cost little next to the step itself (the target is 1.15x a loop
whose hooks merely copy each layer's output), so nothing here builds a row: `add` appends
each value to its column's list, and the activation hooks (`torch_layers.filling_hook`)
write each layer's output straight into that layer's `LayerBlock`. A chunk then hands whole
lists and blocks to the encoder, with no stacking and no per-row type checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa

from ainimal_zookeeper.recordings import ChunkEncoder, ColumnValues, TakenChunk

#: Steps a layer's page holds before it is copied into the chunk's block.
PAGE_ROWS = 64
#: Rows a chunk's block starts with (fewer for large outputs); it doubles when full.
FIRST_BLOCK_ROWS = 1024
FIRST_BLOCK_BYTES = 8 << 20
_NO_OVERRIDES: tuple[str, ...] = ()  # shared: most steps have none


class LayerBlock:
    """One layer's outputs in the current chunk, float32, a row per step.

    The hooks write each step's output into `page`, a small array reused every `PAGE_ROWS`
    steps, which stays in the CPU cache: writing each row straight into a chunk-sized block
    costs a cache miss or two per row (2 to 3 µs a step for six small layers). A full page
    is copied into the chunk's block in one go (`commit`).

    The page is typed by the first output it gets; outputs of another shape (a training
    batch through the same layer) are not a step's and are left out. A row whose layer did
    not run in that step holds zeros. Chunk blocks are reused once the writer thread has
    encoded them, since fresh memory costs a page fault every few rows.
    """

    __slots__ = ("_block", "_spare", "page")

    def __init__(self) -> None:
        self.page: np.ndarray | None = None
        self._block: np.ndarray | None = None
        self._spare: np.ndarray | None = None

    def put(self, row: int, value: np.ndarray | None) -> None:
        """Write `value` at page row `row`: the careful path (first output, other shape)."""
        if value is None:
            return
        if self.page is None:
            self.page = np.zeros((PAGE_ROWS, *value.shape), np.float32)
        elif value.shape != self.page.shape[1:]:
            return
        self.page[row] = value

    def commit(self, start: int, count: int) -> None:
        """Copy the page's first `count` rows to the block's rows from `start`, and clear them."""
        page = self.page
        if page is None:
            return  # the layer has not run in this chunk: its column is None
        block = self._block
        if block is None:  # zeros: the rows of the steps before the layer first ran
            block = self._block = np.zeros((_first_rows(page[0], start + count), *page.shape[1:]), np.float32)
        elif start + count > len(block):
            block = self._block = _grown(block, start + count)
        block[start : start + count] = page[:count]
        page[:count] = 0  # a layer that skips a step leaves zeros, not an old output

    def take(self, rows: int, kept: int) -> tuple[ColumnValues, Callable[[], None] | None]:
        """The first `rows` committed rows for a chunk, and what gives their memory back once it
        is encoded; the `kept` committed rows after them start the next block."""
        full = self._block
        if full is None:
            return [None] * rows, None
        spare, self._spare = self._spare, None
        following = spare if spare is not None and spare.shape == full.shape else np.empty_like(full)
        following[:kept] = full[rows : rows + kept]
        self._block = following

        def recycle() -> None:
            # No need to clear it: once a layer has a page, every commit writes its rows, so
            # each row of a reused block is written before it is read.
            self._spare = full

        return full[:rows], recycle

    def latest(self, committed: int, page_rows: int) -> np.ndarray | None:
        """A copy of the newest row, or None before the layer ran."""
        if page_rows and self.page is not None:
            return self.page[page_rows - 1].copy()
        if not page_rows and committed and self._block is not None:
            return self._block[committed - 1].copy()
        return None


class StepColumns:
    """One recording's steps as columns; the worker calls `add` once per step.

    Args:
        layers: the layers whose outputs are recorded (each gets a `LayerBlock`, filled by
            a hook the worker registers).
        inputs, outputs, frames: whether observations, the AInimal's outputs and env
            frames go into the chunks (they are buffered either way: a branch costs as much).
        encoder: turns taken columns into chunks.
    """

    def __init__(
        self, layers: Iterable[str], encoder: ChunkEncoder, inputs: bool, outputs: bool, frames: bool = False
    ) -> None:
        self.page: list[int] = []  # the steps of the current page; its length is the hooks' row
        self._steps: list[int] = []  # the committed pages' steps
        self._committed = 0
        self._episodes: list[int] = []
        self._seeds: list[int | None] = []
        self._times: list[float] = []
        self._rewards: list[Any] = []
        self._terminated: list[Any] = []
        self._truncated: list[Any] = []
        self._overrides: dict[int, list[str]] = {}  # row -> override ids; few rows have any
        self._observations: list[Any] = []
        self._finals: list[Any] = []
        self._outputs: dict[str, list[Any]] = {}
        self._state: dict[str, list[Any]] = {}
        self._frames: dict[int, bytes] = {}
        self.blocks = {name: LayerBlock() for name in layers}
        self._encoder = encoder
        self._wants_inputs, self._wants_outputs, self._wants_frames = inputs, outputs, frames
        self._clock = time.time
        self._row_bytes = 0

    def add(
        self,
        step: int,
        episode: int,
        seed: int | None,
        observation: Any,
        outputs: Mapping[str, Any],
        reward: Any,
        terminated: Any,
        truncated: Any,
        final_observation: Any,
        overrides: Any = _NO_OVERRIDES,
    ) -> None:
        """Append one step (the hot path: list appends only).

        Args:
            final_observation: the observation that ended the episode at this step, else None.
            overrides: the ids of the overrides that shaped this step.
        """
        page = self.page
        page.append(step)
        self._episodes.append(episode)
        self._seeds.append(seed)
        self._times.append(self._clock())
        self._rewards.append(reward)
        self._terminated.append(terminated)
        self._truncated.append(truncated)
        if overrides:
            self._overrides[len(self) - 1] = list(overrides)
        self._observations.append(observation)
        self._finals.append(final_observation)
        _append_named(self._outputs, outputs, len(self))
        if len(page) == PAGE_ROWS:
            self._turn_page()

    def add_state(self, values: Mapping[str, Any]) -> None:
        """The newest step's values of what a model without torch layers exposes in `state`
        (recorded as `activations/<name>`, as telemetry shows them)."""
        rows = len(self)
        for column in self._state.values():  # steps whose state could not be read hold None
            column.extend(repeat(None, rows - 1 - len(column)))
        _append_named(self._state, values, rows)

    def _turn_page(self) -> None:
        """Copy the page's rows into the chunk's blocks; the hooks start a new page."""
        count = len(self.page)
        for block in self.blocks.values():
            block.commit(self._committed, count)
        self._steps.extend(self.page)
        self.page.clear()
        self._committed += count

    @property
    def wants_frames(self) -> bool:
        """Whether env frames are recorded (the worker then renders on the steps `frame_due` picks)."""
        return self._wants_frames

    def add_frame(self, data: bytes) -> None:
        """The env frame of the newest step (frames are rate-limited, so most rows have none)."""
        self._frames[len(self) - 1] = data

    def __len__(self) -> int:
        """The number of rows buffered."""
        return self._committed + len(self.page)

    @property
    def row_bytes(self) -> int:
        """The array payload of a row (observation and layer outputs), to bound a chunk's size."""
        if self._row_bytes:
            return self._row_bytes
        arrays = [block.page for block in self.blocks.values()]
        size = sum(array[0].nbytes for array in arrays if array is not None)
        if self._observations and isinstance(self._observations[-1], np.ndarray):
            size += self._observations[-1].nbytes
        if self._observations and all(array is not None for array in arrays):
            self._row_bytes = size  # every part is known now, and shapes stay
        return size

    def latest_activations(self) -> dict[str, np.ndarray]:
        """Each recorded layer's output at the newest step (for telemetry frames)."""
        rows = {name: block.latest(self._committed, len(self.page)) for name, block in self.blocks.items()}
        return {name: value for name, value in rows.items() if value is not None}

    def set_final(self, values: Mapping[str, Any]) -> None:
        """Give the newest row its final observation if it has none (the recording's end)."""
        value = values.get("observation")
        if self._finals and self._finals[-1] is None and value is not None:
            self._finals[-1] = value

    def take(self, keep_last: bool = False) -> TakenChunk:
        """Hand the buffered rows over (with `keep_last`, all but the newest) and go on with the rest.

        Raises:
            ValueError: no rows would be handed over.
        """
        buffered = len(self)
        rows = buffered - 1 if keep_last else buffered
        if rows <= 0:
            raise ValueError("no rows to take")
        self._turn_page()
        overridden, overrides = self._take_overrides(rows)
        columns: dict[str, ColumnValues] = {
            "step": _cut(self._steps, rows),
            "episode": _cut(self._episodes, rows),
            "episode_seed": _cut(self._seeds, rows),
            "time": _cut(self._times, rows),
            "reward": _cut(self._rewards, rows),
            "terminated": _cut(self._terminated, rows),
            "truncated": _cut(self._truncated, rows),
            "overridden": overridden,
            "overrides": overrides,
        }
        observations, finals = _cut(self._observations, rows), _cut(self._finals, rows)
        if self._wants_inputs:
            columns["inputs/observation"], columns["final/observation"] = observations, finals
        outputs = {f"outputs/{name}": _cut(column, rows) for name, column in self._outputs.items()}
        if self._wants_outputs:
            columns.update(outputs)
        recycles = []
        for name, column in self._state.items():
            column.extend(repeat(None, buffered - len(column)))  # steps whose state could not be read
            columns[f"activations/{name}"] = _cut(column, rows)
        for name, block in self.blocks.items():
            columns[f"activations/{name}"], recycle = block.take(rows, buffered - rows)
            if recycle is not None:
                recycles.append(recycle)
        self._committed = buffered - rows
        if self._wants_frames:
            columns["frame"] = [self._frames.pop(row, None) for row in range(rows)]
            self._frames = {row - rows: data for row, data in self._frames.items()}
        return TakenChunk(self._encoder, columns, rows, recycles)

    def _take_overrides(self, rows: int) -> tuple[np.ndarray, pa.Array]:
        """The `overridden` and `overrides` columns of the first `rows` rows, built from the few
        rows that have overrides (a list per row would cost every step an append)."""
        counts = np.zeros(rows, np.int32)
        ids: list[str] = []
        for row in sorted(r for r in self._overrides if r < rows):
            counts[row] = len(self._overrides[row])
            ids.extend(self._overrides.pop(row))
        self._overrides = {row - rows: used for row, used in self._overrides.items()}
        offsets = np.zeros(rows + 1, np.int32)
        np.cumsum(counts, out=offsets[1:])
        return counts > 0, pa.ListArray.from_arrays(pa.array(offsets), pa.array(ids, pa.string()))


def _append_named(columns: dict[str, list[Any]], values: Mapping[str, Any], rows: int) -> None:
    """Append each named value to its column (new columns start with None in earlier rows);
    a column without a value in this row gets None, so every column stays `rows` long."""
    for name, value in values.items():
        column = columns.get(name)
        if column is None:
            column = columns[name] = [None] * (rows - 1)
        column.append(value)
    if len(values) != len(columns):
        for column in columns.values():
            column.extend(repeat(None, rows - len(column)))


def _cut(column: list[Any], rows: int) -> list[Any]:
    """The first `rows` values, removed from `column` (which the worker keeps appending to)."""
    taken = column[:rows]
    del column[:rows]
    return taken


def _first_rows(value: np.ndarray, row: int) -> int:
    fitting = FIRST_BLOCK_BYTES // max(1, value.size * 4)
    return max(row + 1, min(FIRST_BLOCK_ROWS, max(16, fitting)))


def _grown(array: np.ndarray, needed: int) -> np.ndarray:
    grown = np.zeros((max(needed, 2 * len(array)), *array.shape[1:]), array.dtype)
    grown[: len(array)] = array
    return grown
