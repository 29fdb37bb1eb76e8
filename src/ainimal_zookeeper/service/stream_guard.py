"""Streams that end when their viewer loses the right to them.

A subscription is authorized once, when it starts, but may stay open for hours: meanwhile a
token can be revoked, a role changed, an instance unmarked public. `GuardedStream` re-asks a
check every few seconds (when an item is ready to be sent) and ends the stream, without
sending that item, once the answer is no.

It is a plain async iterator, not an async generator, because the SSE writer closes streams
while a `__anext__` of theirs may still be pending in a cancelled task, and an async
generator refuses `aclose()` then ("already running"); this one forwards the close and lets
the cancelled task finish the inner stream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["GuardedStream"]

T = TypeVar("T")


class GuardedStream(Generic[T]):
    """`items` while `still_allowed()` says yes, asked at most every `every` seconds."""

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
        self._ended = False

    def __aiter__(self) -> GuardedStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._ended:
            raise StopAsyncIteration
        item = await anext(self._items)
        if self._clock() - self._checked >= self._every:
            if not await self._still_allowed():
                await self.aclose()
                raise StopAsyncIteration
            self._checked = self._clock()
        return item

    async def aclose(self) -> None:
        """End the stream and close the one below."""
        if self._ended:
            return
        self._ended = True
        close = getattr(self._items, "aclose", None)
        if close is None:
            return
        try:
            await close()
        except RuntimeError:
            pass  # its __anext__ is still pending in a cancelled task, which closes it as it ends
