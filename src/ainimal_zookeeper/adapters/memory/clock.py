"""FakeClock: a Clock whose time moves only when a test advances it (then sleepers wake)."""

from __future__ import annotations

import threading
import time

#: How often (real seconds) a waiter looks at its event: `Event.set` cannot wake a condition.
_POLL_SECONDS = 0.002


class FakeClock:
    """Implements `ports.clock.Clock`; `advance(seconds)` moves both clocks and wakes sleepers.

    Code under test that sleeps or waits blocks until another thread advances past its
    deadline (`wait_for_sleepers` tells the test it got there, or came back there after an
    advance: a loop that waits each period is driven period by period). With `autoadvance`, a sleep or
    a timed-out wait moves the clock itself instead, for single-threaded tests of code that
    sleeps.
    """

    def __init__(
        self, start: float = 1_700_000_000.0, monotonic_start: float = 1_000.0, autoadvance: bool = False
    ) -> None:
        self._wall_start, self._mono_start = start, monotonic_start
        self._elapsed = 0.0
        self.autoadvance = autoadvance
        self._changed = threading.Condition()
        self._deadlines: list[float] = []

    def time(self) -> float:
        with self._changed:
            return self._wall_start + self._elapsed

    def monotonic(self) -> float:
        with self._changed:
            return self._mono_start + self._elapsed

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (never back) and wake whoever waits past it."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; advance by 0 or more seconds, got {seconds}")
        with self._changed:
            self._elapsed += seconds
            self._changed.notify_all()

    def sleep(self, seconds: float) -> None:
        self.wait(threading.Event(), seconds)

    def wait(self, event: threading.Event, timeout: float | None = None) -> bool:
        if timeout is None:
            return event.wait()
        with self._changed:
            deadline = self._elapsed + max(0.0, timeout)
            if self.autoadvance and not event.is_set() and self._elapsed < deadline:
                self._elapsed = deadline
                self._changed.notify_all()
            self._deadlines.append(deadline)
            try:
                while not event.is_set() and self._elapsed < deadline:
                    self._changed.wait(_POLL_SECONDS)
            finally:
                self._deadlines.remove(deadline)
        return event.is_set()

    @property
    def sleepers(self) -> int:
        """How many threads wait on this clock for a time still ahead.

        A waiter whose deadline an `advance` passed no longer counts, even before its thread
        has run again: so after `advance`, `wait_for_sleepers(n)` returns once the woken
        threads did their work and came back to wait.
        """
        with self._changed:
            return sum(1 for deadline in self._deadlines if deadline > self._elapsed)

    def wait_for_sleepers(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block (real time) until `count` threads wait on this clock; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.sleepers < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} thread(s) waiting on the clock, {self.sleepers} after {timeout}s"
                )
            time.sleep(_POLL_SECONDS)
