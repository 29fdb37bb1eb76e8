"""The command ids a worker saw lately: kept for a time window, and never more than a count.

The bus delivers at least once: Pub/Sub delivers a command again when its acknowledgement is
late or lost, minutes later at worst, and a signed command is valid for `REMEMBER_SECONDS / 2`
(`adapters/gcp/pubsub_commands.py`). So a worker remembers every id it applied for that long,
however many came since (a takeover sends up to 60 inputs a second: a count-bounded memory of
a few hundred forgot an input within seconds, and its late copy was applied again). The count
bound keeps a flood of ids from growing the worker's memory: past it the oldest are forgotten.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

#: How long an id is remembered: twice the age past which a signed command is refused.
REMEMBER_SECONDS = 600.0
#: The most ids remembered: nine minutes of 60 inputs a second, a few megabytes at most.
CAPACITY = 32_768


class SeenIds:
    """Ids seen in the last `window` seconds (by `clock`), at most `capacity` of them."""

    def __init__(
        self,
        window: float = REMEMBER_SECONDS,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window, self.capacity, self._clock = window, capacity, clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # id -> when, oldest first

    def __contains__(self, item: str) -> bool:
        self._forget_old()
        return item in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, item: str) -> None:
        """Remember `item` from now (a second sighting does not extend it: ids come in order)."""
        if item in self._seen:
            return
        self._seen[item] = self._clock()
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    def _forget_old(self) -> None:
        oldest = self._clock() - self.window
        seen = self._seen
        while seen and next(iter(seen.values())) < oldest:
            seen.popitem(last=False)
