"""Caps on the streams (SSE subscriptions) one viewer and one client address hold open.

Each open stream holds a connection, a subscription on the hub and a slot of the event loop's
attention; without a cap one client could open them until the server runs out of sockets or
memory. A viewer is counted by username (the anonymous by address), an address across viewers.
The caps are generous for a browser (a tab holds a few streams) and tight for a flood.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from ainimal_zookeeper.errors import LimitReached

__all__ = ["DEFAULT_STREAMS_PER_ADDRESS", "DEFAULT_STREAMS_PER_VIEWER", "StreamCaps"]

DEFAULT_STREAMS_PER_VIEWER = 32
DEFAULT_STREAMS_PER_ADDRESS = 64

T = TypeVar("T")


class StreamCaps:
    """Counts open streams per viewer and per address; `open` refuses one over either cap."""

    def __init__(
        self, per_viewer: int = DEFAULT_STREAMS_PER_VIEWER, per_address: int = DEFAULT_STREAMS_PER_ADDRESS
    ) -> None:
        self.per_viewer = per_viewer
        self.per_address = per_address
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def open(self, username: str | None, address: str | None) -> Callable[[], None]:
        """Take a slot for one stream; returns the call that gives it back (once, however often called).

        Raises:
            LimitReached: the viewer or the address already holds its cap of open streams.
        """
        keys = []
        if username is not None:
            keys.append((f"viewer:{username}", self.per_viewer, "you already have"))
        if address is not None:
            keys.append((f"address:{address}", self.per_address, "your address already has"))
        with self._lock:
            for key, cap, who in keys:
                if self._open.get(key, 0) >= cap:
                    raise LimitReached(f"{who} {cap} streams open, the most allowed: close one to open another")
            for key, _cap, _who in keys:
                self._open[key] = self._open.get(key, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                for key, _cap, _who in keys:
                    left = self._open.get(key, 0) - 1
                    if left > 0:
                        self._open[key] = left
                    else:
                        self._open.pop(key, None)

        return release

    def count(self, username: str | None = None, address: str | None = None) -> int:
        """Streams open for a viewer or an address (for tests and metrics)."""
        key = f"viewer:{username}" if username is not None else f"address:{address}"
        with self._lock:
            return self._open.get(key, 0)


async def released_after(stream: AsyncIterator[T], release: Callable[[], None]) -> AsyncIterator[T]:
    """`stream`, then `release()` when it ends, fails or is closed (the client went away)."""
    try:
        async for item in stream:
            yield item
    finally:
        release()
