"""The local bus over real ZeroMQ sockets: at-least-once commands, events to subscribers."""

from __future__ import annotations

import threading
import time

import pytest

from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalCommandInbox, LocalEventOutbox
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev


@pytest.fixture
def hub():
    hub = LocalBusHub()
    yield hub
    hub.close()


def receive_all(inbox, want, timeout=5.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += inbox.receive(0.05)
    return got


def test_commands_sent_before_the_worker_connects_are_delivered_once_it_does(hub):
    early = cmd.Pause("inst-1")
    hub.send(early)
    time.sleep(0.1)
    inbox = LocalCommandInbox(hub.connection["commands"], "inst-1")
    assert [c.command_id for c in receive_all(inbox, 1)] == [early.command_id]
    inbox.close()


def test_commands_reach_only_their_own_instance(hub):
    mine = LocalCommandInbox(hub.connection["commands"], "mine")
    other = LocalCommandInbox(hub.connection["commands"], "other")
    time.sleep(0.1)
    hub.send(cmd.SetMode("mine", mode="TRAIN"))
    got = receive_all(mine, 1)
    assert isinstance(got[0], cmd.SetMode) and got[0].mode == "TRAIN"
    assert other.receive(0.2) == []
    mine.close()
    other.close()


def test_unacknowledged_commands_are_delivered_again_after_a_reconnect(hub):
    first = LocalCommandInbox(hub.connection["commands"], "w")
    command = cmd.Resume("w")
    hub.send(command)
    assert receive_all(first, 1)[0].command_id == command.command_id
    first.close()  # the worker died before acknowledging
    second = LocalCommandInbox(hub.connection["commands"], "w")
    assert receive_all(second, 1)[0].command_id == command.command_id
    second.ack(command)
    time.sleep(0.1)
    second.close()
    third = LocalCommandInbox(hub.connection["commands"], "w")
    assert third.receive(0.3) == []
    third.close()


def test_events_from_workers_reach_every_subscriber(hub):
    seen_a, seen_b, done = [], [], threading.Event()
    hub.subscribe(seen_a.append)
    hub.subscribe(lambda e: (seen_b.append(e), len(seen_b) == 3 and done.set()))
    outbox = LocalEventOutbox(hub.connection["events"])
    for step in range(3):
        outbox.publish(ev.Progress("x", step=step, metrics={"loss": 0.5}))
    assert done.wait(5)
    assert [e.step for e in seen_a] == [0, 1, 2] and seen_a[0].metrics == {"loss": 0.5}
    outbox.close()


def test_a_failing_subscriber_does_not_stop_the_others(hub):
    got = threading.Event()

    def broken(_event):
        raise RuntimeError("subscriber bug")

    hub.subscribe(broken)
    hub.subscribe(lambda e: got.set())
    outbox = LocalEventOutbox(hub.connection["events"])
    outbox.publish(ev.InstanceTerminated("x"))
    assert got.wait(5)
    outbox.close()
