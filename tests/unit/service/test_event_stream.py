"""EventFanout: an instance's event stream ends with the instance; the stream of all goes on."""

from __future__ import annotations

import asyncio

import pytest

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.service.event_stream import EventFanout


async def collect(stream, count: int) -> list[dict]:
    return [await asyncio.wait_for(anext(stream), 1) for _ in range(count)]


@pytest.mark.asyncio
async def test_an_instance_stream_ends_after_its_last_event_while_the_stream_of_all_goes_on():
    fanout = EventFanout()
    one, every = fanout.stream("i1"), fanout.stream(None)
    first_one, first_every = asyncio.ensure_future(anext(one)), asyncio.ensure_future(anext(every))
    await asyncio.sleep(0.01)  # both attach
    fanout(ev.CommandApplied("i1", command_id="c", command_kind="Pause", status="PAUSED"))
    fanout(ev.InstanceTerminated("i1"))
    fanout(ev.InstanceTerminated("i2"))
    assert (await first_one)["kind"] == "COMMAND_APPLIED"
    assert (await asyncio.wait_for(anext(one), 1))["kind"] == "TERMINATED"
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(one), 1)
    rest = [await first_every, *await collect(every, 2)]
    assert [(e["instance"], e["kind"]) for e in rest] == [
        ("i1", "COMMAND_APPLIED"),
        ("i1", "TERMINATED"),
        ("i2", "TERMINATED"),
    ]
    await every.aclose()
