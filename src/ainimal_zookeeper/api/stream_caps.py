"""Caps on what one viewer and one client address hold at once: open streams, running requests.

Each open stream (SSE subscription) holds a connection, a subscription on the hub and a slot of
the event loop's attention; each running query or mutation holds one of the server's request
threads, for minutes when it waits for a worker (a checkpoint of a hung AInimal). Without a cap
one client could take them all, and every other client would wait. A viewer is counted by
username (the anonymous by address), an address across viewers. The caps are generous for a
browser (a tab holds a few streams; it sends at most six requests at once) and tight for a flood.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from starlette.requests import Request

from ainimal_zookeeper.api.http_common import client_address
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import LimitReached

__all__ = ["DEFAULT_STREAMS_PER_ADDRESS", "DEFAULT_STREAMS_PER_VIEWER", "StreamCaps", "request_caps"]

DEFAULT_STREAMS_PER_VIEWER = 32
DEFAULT_STREAMS_PER_ADDRESS = 64

T = TypeVar("T")


class StreamCaps:
    """Counts what each viewer and address holds (`what`: "streams open"); `open` refuses one over either cap."""

    def __init__(
        self,
        per_viewer: int = DEFAULT_STREAMS_PER_VIEWER,
        per_address: int = DEFAULT_STREAMS_PER_ADDRESS,
        what: str = "streams open",
        fix: str = "close one to open another",
    ) -> None:
        self.per_viewer = per_viewer
        self.per_address = per_address
        self.what, self.fix = what, fix
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
                    raise LimitReached(f"{who} {cap} {self.what}, the most allowed: {self.fix}")
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

    def open_for(self, request: Request, viewer: Viewer) -> Callable[[], None]:
        """`open` for `request`: a signed-in viewer is counted by name, everyone by address (the
        open server's local operator is everyone on loopback: only the address cap applies to it)."""
        signed_in = viewer.username if request.headers.get("authorization") else None
        return self.open(signed_in, client_address(request))

    def count(self, username: str | None = None, address: str | None = None) -> int:
        """Streams open for a viewer or an address (for tests and metrics)."""
        key = f"viewer:{username}" if username is not None else f"address:{address}"
        with self._lock:
            return self._open.get(key, 0)


def request_caps(per_viewer: int, per_address: int) -> StreamCaps:
    """Caps on the queries and mutations running at once."""
    return StreamCaps(per_viewer, per_address, "requests running", "wait for one to finish, then send more")


async def released_after(stream: AsyncIterator[T], release: Callable[[], None]) -> AsyncIterator[T]:
    """`stream`, then `release()` when it ends, fails or is closed (the client went away)."""
    try:
        async for item in stream:
            yield item
    finally:
        release()
