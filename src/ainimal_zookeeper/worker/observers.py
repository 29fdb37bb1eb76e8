"""Who watches this worker's instance: leases that say which streams to compute, how often.

Every open telemetry stream holds a lease that its control plane renews; the worker computes
the union of the leased streams at the fastest leased rate, and nothing once the last lease
ends or expires (a vanished control plane cannot leave hooks running).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ainimal_zookeeper.domain.streams import StreamSelection, parse_streams


@dataclass(frozen=True)
class _Lease:
    streams: StreamSelection
    max_hz: float
    expires_at: float


class ObserverLeases:
    """The observers' leases and the sampling schedule they imply."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self.selection: StreamSelection | None = None
        self.period = 0.0
        self.next_sample = float("inf")

    def set(self, observer_id: str, streams: list[str], max_hz: float, lease_seconds: float) -> bool:
        """Add, renew or (with no streams) end a lease; True when it is a new observer."""
        new = observer_id not in self._leases
        if streams:
            expires = self._clock() + max(lease_seconds, 0.1)
            self._leases[observer_id] = _Lease(parse_streams(streams), max(max_hz, 0.1), expires)
        else:
            self._leases.pop(observer_id, None)
            new = False
        self._recompute(sample_now=new)
        return new and bool(streams)

    def expire(self, now: float) -> None:
        """Drop the leases that ran out."""
        if any(lease.expires_at <= now for lease in self._leases.values()):
            self._leases = {k: v for k, v in self._leases.items() if v.expires_at > now}
            self._recompute(sample_now=False)

    @property
    def active(self) -> bool:
        return self.selection is not None

    def due(self, now: float) -> bool:
        return now >= self.next_sample

    def sampled(self, now: float) -> None:
        """A frame went out at `now`: schedule the next one."""
        # Keep the phase (no drift) while on time; after a pause longer than a period, start
        # again from this frame. Catching up (`max(next + period, now)`, as before) took a
        # second frame at the very next step after every pause: two frames microseconds apart,
        # over the rate asked, and a sampled step's cost for nothing.
        following = self.next_sample + self.period
        self.next_sample = following if following > now else now + self.period

    def _recompute(self, sample_now: bool) -> None:
        if not self._leases:
            self.selection, self.period, self.next_sample = None, 0.0, float("inf")
            return
        selection: StreamSelection | None = None
        for lease in self._leases.values():
            selection = lease.streams if selection is None else selection.union(lease.streams)
        self.selection = selection
        self.period = 1.0 / max(lease.max_hz for lease in self._leases.values())
        if sample_now or self.next_sample == float("inf"):
            # A new observer gets a frame at once; a renewal keeps the schedule (sampling at
            # every renewal shifted the phase three times a lease, and frames came early).
            self.next_sample = min(self.next_sample, self._clock())
