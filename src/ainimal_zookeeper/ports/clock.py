"""Clock: where time comes from, so leases, timeouts and retries can run on a test's clock."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock and monotonic time, and waiting on them.

    `adapters/memory/clock.py` has `FakeClock`, whose time moves only when a test advances it.
    """

    def time(self) -> float:
        """Seconds since the Unix epoch (wall clock: timestamps people read)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go back (durations, deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    def wait(self, event: threading.Event, timeout: float | None = None) -> bool:
        """Wait until `event` is set or `timeout` seconds of this clock pass; whether it is set."""
        ...


class SystemClock:
    """The machine's clocks.

    Kept beside the port rather than in `adapters/`: it is the default every inner layer falls
    back to when no clock is given, and inner layers may not import adapters.
    """

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def wait(self, event: threading.Event, timeout: float | None = None) -> bool:
        return event.wait(timeout)


#: The one system clock (it holds no state).
SYSTEM_CLOCK = SystemClock()
