"""Wake request threads when the projection changes something they wait for."""

from __future__ import annotations

import threading
from typing import Protocol


class Notifier:
    """A condition variable with a generation counter: `wait` returns after any change."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        """Something changed in the store."""
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, timeout: float) -> None:
        """Block until the next change or `timeout` seconds."""
        with self._condition:
            start = self._generation
            self._condition.wait_for(lambda: self._generation != start, timeout)


class Changes(Protocol):
    """What the services wait on between reads of the store: `Notifier` (a test's may move a clock)."""

    def wait(self, timeout: float) -> None:
        """Block until the next change or `timeout` seconds."""
        ...

    def notify(self) -> None:
        """Something changed in the store."""
        ...
