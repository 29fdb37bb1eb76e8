"""The worker's side of metric history: collect points off the hot path, publish them batched.

The harness adds a point per episode (return, length), per `train` call (loss and whatever
`train` returns in a dict) and per progress report (steps per second, only while it changes);
the AInimal adds its own through `AInimal.log`. All of them wait in one `MetricSink` (bounded:
see `ainimal_zookeeper.sdk.metrics`) and go out as one `MetricPoints` event about once a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.sdk.metrics import HARNESS_NAMES, MetricSink, as_value

#: The harness's per-episode metrics, recorded together.
EPISODE_NAMES = ("episode_return", "episode_length")
#: How often the buffered points are published (one event, one stored document, per instance).
FLUSH_EVERY_SECONDS = 1.0


class MetricPointsCollector:
    """Buffers one instance's metric points and publishes them every `flush_seconds`."""

    def __init__(
        self,
        instance_id: str,
        step: Callable[[], int],
        outbox: EventOutbox,
        flush_seconds: float = FLUSH_EVERY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.instance_id = instance_id
        self.outbox = outbox
        self.flush_seconds = flush_seconds
        self._monotonic = monotonic
        self.sink = MetricSink(step=step)
        self._next_flush = monotonic() + flush_seconds
        self._seq = 0
        self._last_rate: float | None = None

    def attach(self, agent: Any) -> None:
        """Make `agent.log` write here (every AInimal, the catalog's wrappers too, logs through
        `metric_sink`)."""
        agent.metric_sink = self.sink

    def episode(self, step: int, episode_return: float, episode_length: int) -> None:
        """An episode ended at `step` (once an episode: a fast env's are a few steps long)."""
        # A finite float, the common case, skips the check (NaN and ±inf give NaN in `v - v`).
        value = episode_return if episode_return - episode_return == 0.0 else as_value("episode_return", episode_return)
        self.sink.record_together(EPISODE_NAMES, (value, float(episode_length)), step)

    def trained(self, result: Any) -> dict[str, float | None]:
        """Record what `train` returned; the scalars for the instance's current metrics.

        None: nothing. A dict: each name -> number (checked like `log_dict`). Anything else is
        the loss: a number, or numbers averaged.

        Raises:
            InvalidInput: a result that is neither (the message names what was got).
        """
        if result is None:
            return {}
        if isinstance(result, dict):
            self.sink.log_dict(result, source="train's returned dict")
            return {str(name): as_value(str(name), value) for name, value in result.items()}
        try:
            value = as_value("loss", result)  # a number, or a one-element array or tensor
        except InvalidInput:
            try:
                value = as_value("loss", float(np.mean(np.asarray(result, dtype=np.float64))))  # one per batch element
            except Exception as exc:  # whatever it was, say what is expected
                raise InvalidInput(
                    "train returned "
                    f"{type(result).__name__} {result!r:.80}; expected None, a loss (a number or numbers,"
                    " detached from autograd) or a dict of name -> number"
                ) from exc
        self.sink.record("loss", value)
        return {"loss": value}

    def rate(self, steps_per_second: float) -> None:
        """A progress report's steps per second; an unchanged rate (a paused instance's 0) is not repeated."""
        if steps_per_second == 0.0 and self._last_rate == 0.0:
            return
        self._last_rate = steps_per_second
        self.sink.record("steps_per_second", as_value("steps_per_second", steps_per_second))

    def on_progress(self, metrics: dict[str, Any]) -> None:
        """At each progress report: record the rate; when a flush is due, publish and put the
        AInimal's latest logged values into the instance's current `metrics`."""
        rate = metrics.get("steps_per_second")
        if isinstance(rate, float | int):
            self.rate(float(rate))
        if self.maybe_flush():
            metrics.update(self.latest_logged())

    def latest_logged(self) -> dict[str, float | None]:
        """The AInimal's own names' latest values (for the instance's current metrics)."""
        return {name: value for name, value in self.sink.latest.items() if name not in HARNESS_NAMES}

    def maybe_flush(self) -> bool:
        """Publish the buffered points when a flush is due; whether it published."""
        now = self._monotonic()
        if now < self._next_flush:
            return False
        self._next_flush = now + self.flush_seconds
        return self.flush()

    def flush(self, final: bool = False) -> bool:
        """Publish the buffered points now (if any, or to mark the last flush); whether it published."""
        series = self.sink.take()
        if not series and not final:
            return False
        self._seq += 1
        self.outbox.publish(ev.MetricPoints(self.instance_id, seq=self._seq, series=series, final=final))
        return True
