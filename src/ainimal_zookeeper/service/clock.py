"""Time as an input: the clock and the change signal the services wait on.

Services read time and wait only through these, so unit tests drive them with a fake clock
whose waits advance it (leases, grace periods and timeouts run past in no real time).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where the services read the time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (what is stored and shown)."""
        ...


class Changes(Protocol):
    """What the services wait on: the projection says when the store changed (`Notifier`)."""

    def wait(self, timeout: float) -> None:
        """Block until the next change or `timeout` seconds."""
        ...

    def notify(self) -> None:
        """Something changed in the store."""
        ...


class SystemClock:
    """The machine's clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


SYSTEM_CLOCK = SystemClock()
