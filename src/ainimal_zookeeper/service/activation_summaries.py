"""Statistics of the layer outputs a telemetry frame carries whole, added by the control plane.

A worker sends a small layer's output (up to the worker's `MAX_LISTED_VALUES` numbers) as its
shape and values only: summarising six small layers there cost a sampled step about 100 µs on
the agent's own thread, where every microsecond is taken from the agent (docs/performance.md).
Here, before a frame reaches anyone, each such layer gets the mean, std, min and max of its
values, so a frame reads as before. Larger layers come summarised by the worker (their values
are not sent). Values that are not all numbers get no statistics, as before; NaN and infinity
reach the control plane as null, and a layer holding one has null statistics.

A frame reaches every subscriber of its instance, each selecting its streams from the same
event: the statistics of the layers summarised last are remembered, up to `REMEMBERED_VALUES`
values held (by the identity of the layer's dict in the event, which the memory holds, so the
identity cannot be reused), so several viewers of one instance cost one summary a frame.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

__all__ = ["REMEMBERED_VALUES", "with_summaries"]

_SENT_WHOLE = {"shape", "values"}  # how a worker sends a layer it left unsummarised
#: Values the remembered layers may hold together (a layer is held with its values): bounded
#: by values, not layers, since one layer may hold thousands. A frame's layers, with room.
REMEMBERED_VALUES = 1 << 16


class _RecentSummaries:
    """Statistics of recently summarised layers, by the identity of the layer's dict (held here);
    the oldest are forgotten once they hold more than `max_values` values (the newest stays)."""

    def __init__(self, max_values: int) -> None:
        self.max_values = max_values
        self.values_held = 0
        self._recent: OrderedDict[int, tuple[dict[str, Any], dict[str, float | None] | None, int]] = OrderedDict()
        self._lock = threading.Lock()  # subscribers may run on several bus threads

    def __len__(self) -> int:
        return len(self._recent)

    def of(self, layer: dict[str, Any]) -> dict[str, float | None] | None:
        key = id(layer)
        with self._lock:
            known = self._recent.get(key)
            if known is not None and known[0] is layer:
                return known[1]
        statistics = summary(layer["values"])
        size = _size(layer.get("shape"))
        with self._lock:
            replaced = self._recent.pop(key, None)
            if replaced is not None:
                self.values_held -= replaced[2]
            self._recent[key] = (layer, statistics, size)
            self.values_held += size
            while self.values_held > self.max_values and len(self._recent) > 1:
                self.values_held -= self._recent.popitem(last=False)[1][2]
        return statistics


_RECENT = _RecentSummaries(REMEMBERED_VALUES)


def _size(shape: Any) -> int:
    """The number of values a layer of `shape` holds (1 for a shape that is not a list of counts)."""
    if isinstance(shape, list) and all(isinstance(count, int) and count >= 0 for count in shape):
        return max(1, math.prod(shape))
    return 1


def with_summaries(streams: dict[str, Any]) -> dict[str, Any]:
    """`streams` with each whole `activations/<layer>` summarised; a new dict when any is (the
    event's own streams are shared by every subscriber and must not change)."""
    summarised: dict[str, Any] | None = None
    for name, value in streams.items():
        if name.startswith("activations/") and isinstance(value, dict) and value.keys() == _SENT_WHOLE:
            statistics = _RECENT.of(value)
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
