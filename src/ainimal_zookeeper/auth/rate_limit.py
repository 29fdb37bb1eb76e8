"""Failed sign-ins limited per account and per client address (sliding windows, in memory).

Per account stops password guessing against one user from many addresses; per address stops one
client from trying many accounts. Only failures count, so a user who types their password right
is never locked out by their own successes. The windows live in this process: a control plane
running as several instances limits each instance separately, which still bounds guessing to
(instances x limit) per window.

Attempts are counted atomically: `LoginLimiter.reserve` takes a slot in both windows under their
lock before the password is checked (a sign-in that turns out right gives it back), so twenty
concurrent attempts against a limit of five get exactly five tries, not twenty that all checked
an empty window. Accounts are keyed by their folded name (`usernames.limiter_key`), the same
form that looks the account up.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ainimal_zookeeper.auth.usernames import limiter_key
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
            self._append(key, now)

    def try_hit(self, key: str) -> float:
        """Count one event for `key` now if the window has room (0 returned); else count nothing
        and return the seconds until it has room. Check and count are one step under the lock."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is not None and len(events) >= self.limit:
                return max(events[0] + self.window - now, 1e-3)
            self._append(key, now)
            return 0.0

    def unhit(self, key: str) -> None:
        """Take back the newest event of `key` (a reservation that did not count after all)."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()
                if not events:
                    del self._events[key]

    def _append(self, key: str, now: float) -> None:
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

    def reserve(self, username: str, address: str | None) -> None:
        """Count this attempt as a failure before any password is checked, atomically per window;
        `succeeded` gives the slots back.

        Raises:
            LoginRateLimited: either window is full (nothing is counted then).
        """
        key = _account_key(username)
        wait = self.accounts.try_hit(key)
        if wait > 0:
            raise LoginRateLimited(
                f"too many failed sign-ins for this account: try again in {_in_words(wait)}", math.ceil(wait)
            )
        if address:
            wait = self.addresses.try_hit(address)
            if wait > 0:
                self.accounts.unhit(key)
                raise LoginRateLimited(
                    f"too many failed sign-ins from your address: try again in {_in_words(wait)}", math.ceil(wait)
                )

    def failed(self, username: str, address: str | None) -> None:
        """Count a failed sign-in against the account and the address."""
        self.accounts.hit(_account_key(username))
        if address:
            self.addresses.hit(address)

    def succeeded(self, username: str, reserved_address: str | None = None) -> None:
        """A right password clears the account's failures (not the address's), and gives back the
        address slot that `reserve` took for this attempt."""
        self.accounts.reset(_account_key(username))
        if reserved_address:
            self.addresses.unhit(reserved_address)


def _account_key(username: str) -> str:
    # The folded name the account is looked up by: a look-alike spelling is the same key.
    return limiter_key(username)


def _in_words(seconds: float) -> str:
    whole = math.ceil(seconds)
    return f"{whole} s" if whole < 120 else f"{math.ceil(whole / 60)} min"
