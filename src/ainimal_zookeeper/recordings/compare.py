"""Per-step differences between a recording and its replay through another (or the same) checkpoint.

Row i of the replay answers row i of the recording. Equality is exact, also for floats: a replay
through the same checkpoint must reproduce the recording bit for bit, so any difference is news;
the absolute differences say how large the news is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.recordings.chunk_reading import array_block, column_values
from ainimal_zookeeper.sdk.modalities import to_json

__all__ = ["COMPARED_PREFIXES", "MAX_SHOWN_ELEMENTS", "compare_recordings"]

#: Streams compared when none are named: what the agent did and what its layers computed.
COMPARED_PREFIXES = ("outputs/", "activations/")

#: Values with more elements than this are left out of the per-step entries (None).
MAX_SHOWN_ELEMENTS = 16


@dataclass
class _StreamDiff:
    """One stream's comparison over the compared rows."""

    equal: np.ndarray  # bool per row
    max_abs: np.ndarray  # float per row; NaN where the row has no finite numeric difference
    abs_sum: float  # sum of element-wise absolute differences over rows with a finite one
    elements: int  # how many elements went into abs_sum

    def summary(self) -> dict[str, Any]:
        finite = self.max_abs[np.isfinite(self.max_abs)]
        return {
            "equalSteps": int(self.equal.sum()),
            "maxAbsDiff": float(finite.max()) if finite.size else None,
            "meanAbsDiff": self.abs_sum / self.elements if self.elements else None,
        }


def compare_recordings(
    recorded: pa.Table,
    replayed: pa.Table,
    streams: list[str] | None = None,
    offset: int = 0,
    limit: int | None = 100,
) -> dict[str, Any]:
    """Compare a recording with its replay, step by step.

    Args:
        recorded: the recording (as from `read_recording`).
        replayed: the replay's recording; row i answers row i of `recorded`.
        streams: columns to compare; default every `outputs/*` and `activations/*` column that
            both tables have. A named stream missing from a side is reported as an error entry.
        offset: first compared row to list in "perStep".
        limit: how many rows to list in "perStep" (None: all); summaries cover every row.

    Returns:
        A JSON-ready dict: "recordedSteps", "replayedSteps", "comparedSteps" (the shorter),
        "streams" (name -> {"equalSteps", "maxAbsDiff", "meanAbsDiff"} or {"error"}),
        "identical" (same length, every compared step equal, no stream missing),
        "firstDifference" (first differing row; the shorter length when only lengths differ;
        None when identical) and "perStep" (rows offset..offset+limit: "index", "step" and per
        stream "equal", "maxAbsDiff", "recorded", "replayed"; values with more than
        MAX_SHOWN_ELEMENTS elements, and bytes, are None). A "maxAbsDiff" is None where there
        is no finite numeric difference (non-numeric values, other shapes, a None on one side).

    Raises:
        InvalidInput: offset or limit is negative.
    """
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput(f"offset and limit expect non-negative ints, got offset={offset}, limit={limit}")
    compared = min(recorded.num_rows, replayed.num_rows)
    names = streams if streams is not None else _default_streams(recorded, replayed)
    summaries: dict[str, dict[str, Any]] = {}
    diffs: dict[str, _StreamDiff] = {}
    for name in names:
        missing = [
            side for side, table in (("recording", recorded), ("replay", replayed)) if name not in table.column_names
        ]
        if missing:
            summaries[name] = {"error": f"stream {name!r} is missing from the {' and the '.join(missing)}"}
            continue
        diffs[name] = _compare_stream(recorded.slice(0, compared), replayed.slice(0, compared), name)
        summaries[name] = diffs[name].summary()
    first = _first_difference(diffs, compared, recorded.num_rows != replayed.num_rows)
    return {
        "recordedSteps": recorded.num_rows,
        "replayedSteps": replayed.num_rows,
        "comparedSteps": compared,
        "streams": summaries,
        "identical": first is None and len(diffs) == len(summaries),
        "firstDifference": first,
        "perStep": _per_step(
            recorded, replayed, diffs, offset, compared if limit is None else min(compared, offset + limit)
        ),
    }


def _default_streams(recorded: pa.Table, replayed: pa.Table) -> list[str]:
    theirs = set(replayed.column_names)
    return [n for n in recorded.column_names if n.startswith(COMPARED_PREFIXES) and n in theirs]


def _first_difference(diffs: dict[str, _StreamDiff], compared: int, lengths_differ: bool) -> int | None:
    firsts = [int(np.argmin(d.equal)) for d in diffs.values() if not d.equal.all()]
    if firsts:
        return min(firsts)
    return compared if lengths_differ else None


# --- one stream -----------------------------------------------------------------------------


def _compare_stream(recorded: pa.Table, replayed: pa.Table, name: str) -> _StreamDiff:
    ours, theirs = _numeric_block(recorded, name), _numeric_block(replayed, name)
    if ours is not None and theirs is not None and ours[0].shape[1:] == theirs[0].shape[1:]:
        return _compare_numeric(*ours, *theirs)
    equal = [
        _values_equal(a, b) for a, b in zip(column_values(recorded, name), column_values(replayed, name), strict=True)
    ]
    return _StreamDiff(np.asarray(equal, dtype=bool), np.full(len(equal), np.nan), 0.0, 0)


def _numeric_block(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The column as a (rows, elements) array and a row-validity mask; None if not numeric."""
    field = table.schema.field(name)
    kind, column = field.type, table.column(name)
    if pa.types.is_fixed_size_list(kind) and _is_number(kind.value_type):
        block, valid = array_block(column, field)
        return block.reshape(len(block), -1), valid
    if _is_number(kind):
        valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        values = column.fill_null(False if pa.types.is_boolean(kind) else 0).to_numpy(zero_copy_only=False)
        return np.asarray(values).reshape(-1, 1), valid
    return None


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind))


def _compare_numeric(
    ours: np.ndarray, ours_valid: np.ndarray, theirs: np.ndarray, theirs_valid: np.ndarray
) -> _StreamDiff:
    """Exact equality per row (NaN equals NaN: a reproduced NaN is reproduced) and |a - b|."""
    same = ours == theirs
    if ours.dtype.kind == "f" and theirs.dtype.kind == "f":
        same |= np.isnan(ours) & np.isnan(theirs)
    both = ours_valid & theirs_valid
    equal = (both & same.all(axis=1)) | (~ours_valid & ~theirs_valid)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf and NaN are expected here
        diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    diff[same] = 0.0
    finite_rows = both & np.isfinite(diff).all(axis=1)
    max_abs = np.full(len(equal), np.nan)
    max_abs[~ours_valid & ~theirs_valid] = 0.0  # None on both sides: no difference
    if diff.shape[1]:
        max_abs[finite_rows] = diff[finite_rows].max(axis=1)
    else:
        max_abs[finite_rows] = 0.0
    counted = diff[finite_rows]
    return _StreamDiff(equal, max_abs, float(counted.sum()), int(counted.size))


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return False
        floats = a.dtype.kind == "f" and b.dtype.kind == "f"
        return bool(np.array_equal(a, b, equal_nan=floats))
    return bool(a == b)


# --- the per-step page ----------------------------------------------------------------------


def _per_step(
    recorded: pa.Table, replayed: pa.Table, diffs: dict[str, _StreamDiff], start: int, stop: int
) -> list[dict[str, Any]]:
    if start >= stop:
        return []
    ours, theirs = recorded.slice(start, stop - start), replayed.slice(start, stop - start)
    steps = column_values(ours, "step") if "step" in ours.column_names else [None] * (stop - start)
    values = {name: (column_values(ours, name), column_values(theirs, name)) for name in diffs}
    page = []
    for offset, index in enumerate(range(start, stop)):
        differences = {
            name: {
                "equal": bool(diff.equal[index]),
                "maxAbsDiff": float(diff.max_abs[index]) if np.isfinite(diff.max_abs[index]) else None,
                "recorded": _shown(values[name][0][offset]),
                "replayed": _shown(values[name][1][offset]),
            }
            for name, diff in diffs.items()
        }
        page.append({"index": index, "step": steps[offset], "differences": differences})
    return page


def _shown(value: Any) -> Any:
    """A value small enough to show, as JSON; None for large arrays and bytes."""
    if isinstance(value, bytes) or (isinstance(value, np.ndarray) and value.size > MAX_SHOWN_ELEMENTS):
        return None
    return to_json(value)
