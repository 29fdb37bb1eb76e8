"""Open streams are capped per signed-in viewer and per address; a slot comes back once."""

from __future__ import annotations

import asyncio

import pytest

from ainimal_zookeeper.api.stream_caps import StreamCaps, released_after
from ainimal_zookeeper.errors import LimitReached


def test_a_viewer_is_capped_across_addresses_and_an_address_across_viewers():
    caps = StreamCaps(per_viewer=2, per_address=3)
    caps.open("uma", "10.0.0.1")
    caps.open("uma", "10.0.0.2")
    with pytest.raises(LimitReached, match="you already have 2 streams open"):
        caps.open("uma", "10.0.0.3")
    caps.open("ned", "10.0.0.1")
    caps.open(None, "10.0.0.1")
    with pytest.raises(LimitReached, match="your address already has 3 streams open"):
        caps.open("val", "10.0.0.1")
    assert caps.count(address="10.0.0.1") == 3 and caps.count("val") == 0  # a refusal takes nothing


def test_a_slot_is_given_back_once_however_often_released():
    caps = StreamCaps(per_viewer=1, per_address=5)
    release = caps.open("uma", "10.0.0.1")
    release()
    release()
    assert caps.count("uma") == 0 and caps.count(address="10.0.0.1") == 0
    caps.open("uma", "10.0.0.1")
    with pytest.raises(LimitReached):
        caps.open("uma", "10.0.0.2")


def test_a_stream_gives_its_slot_back_when_it_ends_or_is_closed_early():
    caps = StreamCaps(per_viewer=1, per_address=1)

    async def items():
        for i in range(3):
            yield i

    async def scenario():
        stream = released_after(items(), caps.open("uma", "10.0.0.1"))
        assert [i async for i in stream] == [0, 1, 2] and caps.count("uma") == 0
        stream = released_after(items(), caps.open("uma", "10.0.0.1"))
        assert await anext(stream) == 0 and caps.count("uma") == 1
        await stream.aclose()  # the client went away mid-stream
        assert caps.count("uma") == 0

    asyncio.run(scenario())
