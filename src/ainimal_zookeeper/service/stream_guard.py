"""Streams that end when their viewer loses the right to them.

A subscription is authorized once, when it starts, but may stay open for hours: meanwhile a
token can be revoked, a role changed, an instance unmarked public, the instance may end.
`GuardedStream` re-asks a check every few seconds (whether or not an item is ready) and ends
the stream, without sending a waiting item, once the answer is no.

It is a plain async iterator, not an async generator, because the SSE writer closes streams
while a `__anext__` of theirs may still be pending in a cancelled task, and an async
generator refuses `aclose()` then ("already running"); this one forwards the close and lets
the cancelled task finish the inner stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["GuardedStream"]

T = TypeVar("T")


class GuardedStream(Generic[T]):
    """`items` while `still_allowed()` says yes, asked every `every` seconds.

    The check runs on its own schedule, not only when an item is ready: a quiet stream (a
    paused instance, a worker that died) still ends when its viewer loses the right to it or
    its instance ends, instead of sending keep-alives for hours.
    """

    def __init__(
        self,
        items: AsyncIterator[T],
        still_allowed: Callable[[], Awaitable[bool]],
        every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._items = items
        self._still_allowed = still_allowed
        self._every = every
        self._clock = clock
        self._checked = clock()
        self._pending: asyncio.Future[T] | None = None
        self._ended = False

    def __aiter__(self) -> GuardedStream[T]:
        return self

    async def __anext__(self) -> T:
        while not self._ended:
            if self._pending is None:
                self._pending = asyncio.ensure_future(anext(self._items))
            wait = max(0.0, self._every - (self._clock() - self._checked))
            done, _ = await asyncio.wait({self._pending}, timeout=wait)
            if self._clock() - self._checked >= self._every:
                if not await self._still_allowed():
                    await self.aclose()
                    break
                self._checked = self._clock()
            if done:
                ready, self._pending = self._pending, None
                return ready.result()  # StopAsyncIteration when the stream below ended
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """End the stream and close the one below."""
        if self._ended:
            return
        self._ended = True
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            pending.cancel()  # the stream below ends as the cancellation reaches it
            await asyncio.wait({pending})
        close = getattr(self._items, "aclose", None)
        if close is None:
            return
        try:
            await close()
        except RuntimeError:
            pass  # its __anext__ is still pending in a cancelled task, which closes it as it ends
