"""The local bus hub over real sockets: refused senders, revoked keys, rate-limited warnings."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from ainimal_zookeeper.adapters.local import zmq_bus
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalEventOutbox
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.event_origin import checkpoint_prefix, refusal


def wait_until(probe, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def hub():
    hub = LocalBusHub()
    yield hub
    hub.close()


def outbox_for(hub, instance_id, bus=None):
    bus = bus or hub.worker_connection(instance_id)
    return LocalEventOutbox(bus["events"], bus)


def test_a_worker_may_speak_only_about_its_own_instance_and_checkpoint_keys():
    own = f"{checkpoint_prefix('a')}sha256/x.json"
    assert refusal("a", ev.Progress("a")) is None
    assert refusal("a", ev.CheckpointSaved("a", blob_key=own)) is None
    assert "about instance b" in refusal("a", ev.Progress("b"))
    assert "not one of its own" in refusal("a", ev.CheckpointSaved("a", blob_key=f"{checkpoint_prefix('b')}x"))
    assert "not one of its own" in refusal("a", ev.CheckpointSaved("a", blob_key="checkpoints/sha256/x.json"))


def test_refused_events_are_counted_and_warned_about_once_per_window(hub, monkeypatch, caplog):
    monkeypatch.setattr(zmq_bus, "_WARN_EVERY_SECONDS", 0.5)
    seen: list[ev.Event] = []
    hub.subscribe(seen.append)
    outbox = outbox_for(hub, "a")
    try:
        with caplog.at_level(logging.WARNING, logger=zmq_bus.__name__):
            for step in range(5):
                outbox.publish(ev.Progress("b", step=step))
            wait_until(lambda: hub.refused == 5)
            time.sleep(0.6)  # past the window: the next refusal is told again
            outbox.publish(ev.InstanceFailed("b", error="forged"))
            outbox.publish(ev.Progress("a", step=1))
            wait_until(lambda: hub.refused == 6 and len(seen) == 1)
        warnings = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(warnings) == 2 and "(6 refused so far)" in warnings[1].getMessage()
        assert [(e.kind, e.instance_id) for e in seen] == [("Progress", "a")]
    finally:
        outbox.close()


def test_a_revoked_workers_keys_no_longer_connect(hub):
    seen: list[ev.Event] = []
    arrived = threading.Event()
    hub.subscribe(lambda e: (seen.append(e), arrived.set()))
    bus = hub.worker_connection("a")
    first = outbox_for(hub, "a", bus)
    first.publish(ev.Progress("a", step=1))
    assert arrived.wait(10)
    first.close()
    hub.forget("a")
    refused_before = hub.refused
    again = outbox_for(hub, "a", bus)  # the same keys, after the instance ended
    try:
        again.publish(ev.Progress("a", step=2))
        wait_until(lambda: hub.refused > refused_before)  # refused at the handshake
        time.sleep(0.3)
        assert [e.step for e in seen] == [1]
    finally:
        again.close()
