"""Statistics of the layer outputs a telemetry frame carries whole, added by the control plane.

A worker sends a small layer's output (up to the worker's `MAX_LISTED_VALUES` numbers) as its
shape and values only: summarising six small layers there cost a sampled step about 100 µs on
the agent's own thread, where every microsecond is taken from the agent (docs/performance.md).
Here, before a frame reaches anyone, each such layer gets the mean, std, min and max of its
values, so a frame reads as before. Larger layers come summarised by the worker (their values
are not sent). Values that are not all numbers get no statistics, as before; NaN and infinity
reach the control plane as null, and a layer holding one has null statistics.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["with_summaries"]

_SENT_WHOLE = {"shape", "values"}  # how a worker sends a layer it left unsummarised


def with_summaries(streams: dict[str, Any]) -> dict[str, Any]:
    """`streams` with each whole `activations/<layer>` summarised; a new dict when any is (the
    event's own streams are shared by every subscriber and must not change)."""
    summarised: dict[str, Any] | None = None
    for name, value in streams.items():
        if name.startswith("activations/") and isinstance(value, dict) and value.keys() == _SENT_WHOLE:
            statistics = summary(value["values"])
            if statistics is not None:
                summarised = summarised if summarised is not None else dict(streams)
                summarised[name] = {"shape": value["shape"], **statistics, "values": value["values"]}
    return summarised if summarised is not None else streams


def summary(values: Any) -> dict[str, float | None] | None:
    """Mean, std, min and max of the numbers in `values` (nested lists, or one number); None if
    any value is not a number (strings), or there are none."""
    numbers = _flattened(values)
    if not numbers:
        return None
    if any(number is None for number in numbers):  # NaN or infinity, sent as null
        return {"mean": None, "std": None, "min": None, "max": None}
    if not all(isinstance(number, int | float) for number in numbers):
        return None
    count = len(numbers)
    mean = math.fsum(numbers) / count
    variance = math.fsum((number - mean) * (number - mean) for number in numbers) / count
    return {"mean": mean, "std": math.sqrt(variance), "min": float(min(numbers)), "max": float(max(numbers))}


def _flattened(values: Any) -> list[Any]:
    """The leaves of an array sent as nested lists (regular: each level is all lists or none)."""
    if not isinstance(values, list):
        return [values]
    while values and isinstance(values[0], list):
        values = [value for row in values for value in (row if isinstance(row, list) else [row])]
    return values
