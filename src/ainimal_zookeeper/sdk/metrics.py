"""Scalars an AInimal logs (`AInimal.log`): checked at the call, kept in a small bounded buffer.

The worker empties the buffer about once a second and publishes its points; the control
plane keeps them as the instance's metric history (`metricHistory`).

Bounds, so a model logging in a tight loop cannot grow memory:

* names: 1 to 64 characters, letters, digits and ``_ . / -``, starting with a letter or ``_``;
  at most `MAX_NAMES` distinct names per instance (the harness's own are not counted);
* points: per name and flush, at most `MAX_POINTS_PER_FLUSH`, spread evenly over the period
  (when the list is full every other point is dropped and only every 2nd, 4th … later call is
  kept), plus always the latest value.

Values are real numbers (int, float, bool, numpy scalars, one-element arrays or tensors).
NaN and ±inf are kept as points without a value (null in JSON, a gap in charts), so a loss
that blew up shows where it did.
"""

from __future__ import annotations

import math
import numbers
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import numpy as np

from ainimal_zookeeper.errors import InvalidInput, LimitReached

MAX_NAME_LENGTH = 64
MAX_NAMES = 100
MAX_POINTS_PER_FLUSH = 32
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]{0,63}")

#: What the harness records itself, not counted against `MAX_NAMES`.
HARNESS_NAMES = ("episode_return", "episode_length", "loss", "steps_per_second")

_NUMPY_REALS = (np.floating, np.integer, np.bool_)

#: One point: (step, Unix time in seconds, value or None for NaN/inf).
Point = tuple[int, float, float | None]
V = TypeVar("V")


def check_name(name: Any) -> str:
    """`name` when it is a valid metric name.

    Raises:
        InvalidInput: not a string, empty, too long, or with other characters.
    """
    if not isinstance(name, str):
        raise InvalidInput(f"a metric name must be a string, got {type(name).__name__} {name!r:.80}")
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            f"metric name {name[:80]!r} is not allowed: use 1 to {MAX_NAME_LENGTH} letters, digits and"
            " '_', '.', '/', '-', starting with a letter or '_' (e.g. 'train/reward_avg')"
        )
    return name


def as_value(name: str, value: Any) -> float | None:
    """`value` as a float for metric `name`; None for NaN and ±inf.

    Raises:
        InvalidInput: not a real number (a string, None, a list, an array of several values …).
    """
    kind = type(value)
    if kind is float:
        return value if value - value == 0.0 else None  # NaN and ±inf give NaN; faster than isfinite
    real = kind is int or kind is bool or isinstance(value, _NUMPY_REALS) or isinstance(value, numbers.Real)
    if not real and _one_element(value):
        value = value.item()  # numpy arrays, torch tensors: logging `loss`, not `loss.item()`, is common
        real = isinstance(value, numbers.Real)
    if real:  # int, bool, numpy scalars, Fraction
        try:
            number = float(value)
        except OverflowError:  # an int beyond a float's range
            return None
        return number if math.isfinite(number) else None
    raise InvalidInput(
        f"log({name!r}) expects a number (int or float), got {type(value).__name__} {value!r:.80}"
        + ("; log each element under its own name" if hasattr(value, "__len__") and not isinstance(value, str) else "")
    )


def _one_element(value: Any) -> bool:
    """Whether `value` is an array or tensor of one element (so `.item()` is its number)."""
    try:
        if not callable(getattr(value, "item", None)):
            return False
        numel = getattr(value, "numel", None)  # torch: numel() is the count (size() the shape)
        count = numel() if callable(numel) else getattr(value, "size", None)
    except Exception:  # noqa: BLE001  # an odd object is just not a number
        return False
    return isinstance(count, int) and count == 1


class _Series(Generic[V]):
    """One name's points since the last flush: a capped list thinned by doubling its stride.

    `V` is a point's value: a float (or None), or a tuple of them for metrics recorded together."""

    __slots__ = ("calls", "last", "points", "stride")

    def __init__(self) -> None:
        self.points: list[tuple[int, float, V]] = []
        self.stride = 1
        self.calls = 0
        self.last: tuple[int, float, V] | None = None

    def add(self, point: tuple[int, float, V], cap: int) -> None:
        self.last = point
        self.calls += 1
        if self.calls % self.stride:
            return
        if len(self.points) >= cap:
            # Keep every other point; from now on keep every (2 × stride)-th call.
            del self.points[1::2]
            self.stride *= 2
            if self.calls % self.stride:
                return
        self.points.append(point)

    def take(self) -> list[tuple[int, float, V]]:
        points = self.points
        if self.last is not None and (not points or points[-1] is not self.last):
            points.append(self.last)
        self.points, self.stride, self.calls, self.last = [], 1, 0, None
        return points


class MetricSink:
    """Where one instance's logged scalars wait for the worker's next flush (bounded)."""

    def __init__(
        self,
        step: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.time,
        max_names: int = MAX_NAMES,
        max_points: int = MAX_POINTS_PER_FLUSH,
    ) -> None:
        self._step = step or (lambda: 0)
        self._clock = clock
        self.max_names = max_names
        self.max_points = max_points
        self._series: dict[str, _Series[float | None]] = {}
        # `record_together`'s series, by their names
        self._together: dict[tuple[str, ...], _Series[tuple[float | None, ...]]] = {}
        self._names: set[str] = set()  # every user name seen, for the bound (a flush keeps them)
        self.latest: dict[str, float | None] = {}

    def log(self, name: str, value: Any) -> None:
        """Record `value` for `name` at the current step and time (checked first)."""
        series = self._series.get(name)
        if series is None:
            series = self._open(name)
        # A finite float, the common case, skips the call (NaN and ±inf give NaN in `v - v`).
        number = value if type(value) is float and value - value == 0.0 else as_value(name, value)
        series.add((self._step(), self._clock(), number), self.max_points)

    def log_dict(self, values: Any, source: str = "log_dict") -> None:
        """Record every name -> value of a mapping; nothing is recorded when one is invalid."""
        if not isinstance(values, dict):
            raise InvalidInput(f"{source} expects a dict of name -> number, got {type(values).__name__}")
        checked = [(check_name(name), as_value(name, value)) for name, value in values.items()]
        new = {name for name, _ in checked if name not in self._names and name not in HARNESS_NAMES}
        if new and len(self._names) + len(new) > self.max_names:
            self._too_many(sorted(new)[0])
        step, now = self._step(), self._clock()
        for name, number in checked:
            series = self._series.get(name) or self._open(name)
            series.add((step, now, number), self.max_points)

    def record(self, name: str, value: float | None, step: int | None = None) -> None:
        """A harness metric (trusted name, value already a float or None)."""
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = _Series()
        series.add((self._step() if step is None else step, self._clock(), value), self.max_points)

    def record_together(self, names: tuple[str, ...], values: tuple[float | None, ...], step: int) -> None:
        """Harness metrics that always come together (an episode's return and length): one
        point for all, thinned as one, split into a series per name when taken (one call, off
        the per-step path but once an episode of a fast env)."""
        series = self._together.get(names)
        if series is None:
            series = self._together[names] = _Series()
        series.add((step, self._clock(), values), self.max_points)

    def take(self) -> list[dict[str, Any]]:
        """The points since the last take, one column set per name; empties the buffer."""
        out = []
        for names, together in self._together.items():
            joint = together.take()
            if not joint:
                continue
            for index, name in enumerate(names):
                out.append(_columns(name, [(step, at, values[index]) for step, at, values in joint]))
                self.latest[name] = joint[-1][2][index]
        for name, series in self._series.items():
            points = series.take()
            if points:
                self.latest[name] = points[-1][2]
                out.append(_columns(name, points))
        # Names stay known (the bound holds across flushes) but their buffers are dropped.
        self._series = {}
        return out

    def _open(self, name: str) -> _Series:
        check_name(name)
        if name not in self._names and name not in HARNESS_NAMES:
            if len(self._names) >= self.max_names:
                self._too_many(name)
            self._names.add(name)
        series = self._series[name] = _Series()
        return series

    def _too_many(self, name: str) -> None:
        raise LimitReached(
            f"log({name!r}) would add a metric name beyond this instance's {self.max_names} (names so far"
            f" include {', '.join(sorted(self._names)[:5])}): reuse names, or log a summary of an array"
            " instead of one name per element"
        )


def _columns(name: str, points: Iterable[Point]) -> dict[str, Any]:
    steps, times, values = zip(*points, strict=True)
    return {"name": name, "steps": list(steps), "times": list(times), "values": list(values)}
