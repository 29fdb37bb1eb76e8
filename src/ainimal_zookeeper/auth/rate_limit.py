"""Failed sign-ins limited per account and per client address (sliding windows, in memory).

Per account stops password guessing against one user from many addresses; per address stops one
client from trying many accounts. Only failures count, so a user who types their password right
is never locked out by their own successes. The windows live in this process: a control plane
running as several instances limits each instance separately, which still bounds guessing to
(instances x limit) per window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ainimal_zookeeper.errors import LimitReached

__all__ = ["LoginLimiter", "LoginRateLimited", "SlidingWindow"]


class LoginRateLimited(LimitReached):
    """Too many failed sign-ins; `retry_after` says how many seconds to wait (HTTP Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds; memory bounded by `max_keys`."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may act again; 0 when it may act now."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is None or len(events) < self.limit:
                return 0.0
            return max(events[0] + self.window - now, 0.0)

    def hit(self, key: str) -> None:
        """Count one event for `key` now."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is None:
                events = self._events[key] = deque(maxlen=self.limit)
                while len(self._events) > self._max_keys:
                    self._events.popitem(last=False)
            events.append(now)
            self._events.move_to_end(key)

    def reset(self, key: str) -> None:
        """Forget `key`'s events."""
        with self._lock:
            self._events.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events


class LoginLimiter:
    """The two windows a sign-in passes: one for the account, one for the client's address."""

    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = SlidingWindow(per_account, window, clock)
        self.addresses = SlidingWindow(per_address, window, clock)

    def check(self, username: str, address: str | None) -> None:
        """Refuse before any password is checked when either window is full.

        Raises:
            LoginRateLimited: naming which limit was reached and the seconds to wait.
        """
        wait = self.accounts.retry_after(_account_key(username))
        if wait > 0:
            raise LoginRateLimited(
                f"too many failed sign-ins for this account: try again in {_in_words(wait)}", math.ceil(wait)
            )
        if address:
            wait = self.addresses.retry_after(address)
            if wait > 0:
                raise LoginRateLimited(
                    f"too many failed sign-ins from your address: try again in {_in_words(wait)}", math.ceil(wait)
                )

    def failed(self, username: str, address: str | None) -> None:
        """Count a failed sign-in against the account and the address."""
        self.accounts.hit(_account_key(username))
        if address:
            self.addresses.hit(address)

    def succeeded(self, username: str) -> None:
        """A right password clears the account's failures (not the address's)."""
        self.accounts.reset(_account_key(username))


def _account_key(username: str) -> str:
    # Unknown and malformed names are limited too (so limits do not reveal which accounts
    # exist); the key is bounded so that huge names cannot fill memory.
    return username.strip().lower()[:128]


def _in_words(seconds: float) -> str:
    whole = math.ceil(seconds)
    return f"{whole} s" if whole < 120 else f"{math.ceil(whole / 60)} min"
