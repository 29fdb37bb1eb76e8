"""Single connection mode's reservations: they expire unconnected, end with their stream, and
hold stream slots like any stream."""

from __future__ import annotations

import asyncio

import pytest

from ainimal_zookeeper.api.sse_reservations import Reservations
from ainimal_zookeeper.api.stream_caps import StreamCaps
from ainimal_zookeeper.errors import Conflict, LimitReached


@pytest.mark.asyncio
async def test_a_reservation_never_connected_expires_and_gives_its_slot_back():
    caps = StreamCaps(per_viewer=2, per_address=2)
    reservations = Reservations(ttl=0.05)
    reservations.reserve("me", caps.open(None, "1.2.3.4"))
    reservations.reserve("me", caps.open(None, "1.2.3.4"))
    with pytest.raises(LimitReached):
        caps.open(None, "1.2.3.4")  # a flood of reservations hits the same caps as streams
    await asyncio.sleep(0.25)  # five reservation periods
    assert len(reservations) == 0 and caps.count(address="1.2.3.4") == 0


@pytest.mark.asyncio
async def test_a_connected_reservation_outlives_its_expiry_and_ends_with_its_stream():
    caps = StreamCaps()
    reservations = Reservations(ttl=0.05, keep_alive=0.02)
    reservation = reservations.reserve("me", caps.open(None, "a"))
    assert reservations.find(reservation.token, "someone else") is None
    events = await reservations.events(reservation)
    with pytest.raises(Conflict):
        await reservations.events(reservation)  # one stream per reservation
    assert await anext(events) == ":\n\n"
    await asyncio.sleep(0.2)
    assert reservations.find(reservation.token, "me") is reservation
    reservations.start(reservation, "op", {"data": {"x": 1}}, caps.open(None, "a"))
    chunks = [await anext(events) for _ in range(4)]
    assert 'event: next\ndata: {"id": "op", "payload": {"data": {"x": 1}}}\n\n' in chunks
    assert 'event: complete\ndata: {"id": "op"}\n\n' in chunks
    await events.aclose()  # the client went away
    assert len(reservations) == 0 and caps.count(address="a") == 0
