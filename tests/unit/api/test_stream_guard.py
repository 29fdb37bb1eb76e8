"""Subscriptions end when their viewer loses the right to them, and close cleanly however they end."""

from __future__ import annotations

import asyncio

import pytest

from ainimal_zookeeper.service.stream_guard import GuardedStream


class Items:
    """An async iterator of numbers that records whether it was closed."""

    def __init__(self, count: int) -> None:
        self.left = list(range(count))
        self.closed = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self.left:
            raise StopAsyncIteration
        return self.left.pop(0)

    async def aclose(self):
        self.closed = True


@pytest.mark.asyncio
async def test_items_flow_until_the_check_says_no_and_that_item_is_not_sent():
    now = [0.0]
    answers = iter([True, False])

    async def allowed():
        return next(answers)

    items = Items(10)
    stream = GuardedStream(items, allowed, every=5.0, clock=lambda: now[0])
    received = []
    async for item in stream:
        received.append(item)
        now[0] += 2.0  # checks fall due at items 3 (yes) and 6 (no)
    assert received == [0, 1, 2, 3, 4, 5] and items.closed


@pytest.mark.asyncio
async def test_closing_while_an_item_is_awaited_in_a_cancelled_task_does_not_fail():
    async def forever():
        await asyncio.Event().wait()
        yield 1

    async def allowed():
        return True

    inner = forever()
    stream = GuardedStream(inner, allowed, every=1.0)
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    pending.cancel()
    await stream.aclose()  # the generator below is still running: its close is left to the task
    with pytest.raises(asyncio.CancelledError):
        await pending
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


@pytest.mark.asyncio
async def test_a_quiet_stream_is_checked_on_its_own_schedule_and_ends_without_an_item():
    """A stream with nothing to send (a paused or vanished instance) still ends when told to."""
    checks = []

    async def nothing_ever():
        await asyncio.Event().wait()
        yield 1

    async def allowed():
        checks.append(True)
        return len(checks) < 3  # yes, yes, then no (the instance ended, a grant was revoked)

    inner = nothing_ever()
    stream = GuardedStream(inner, allowed, every=0.05)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), 5)
    assert len(checks) == 3
    with pytest.raises(StopAsyncIteration):
        await anext(inner)  # the stream below was closed too
