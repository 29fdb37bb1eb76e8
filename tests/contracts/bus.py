"""Contract suite for the buses (CommandBus + CommandInbox, EventBus + EventOutbox).

An adapter's test subclasses `BusContract` and says how to build its three parts; every
behaviour below is then checked against it (the local ZeroMQ bus, the Pub/Sub emulator).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev


class BusContract:
    """Every bus behaves like this."""

    def make_control_plane(self) -> Any:
        """An object with CommandBus (send, forget) and EventBus (subscribe) methods, and close."""
        raise NotImplementedError

    def make_inbox(self, control_plane: Any, instance_id: str) -> Any:
        """The CommandInbox a worker of `instance_id` uses."""
        raise NotImplementedError

    def make_outbox(self, control_plane: Any, instance_id: str) -> Any:
        """The EventOutbox a worker of `instance_id` uses."""
        raise NotImplementedError

    @pytest.fixture
    def hub(self):
        hub = self.make_control_plane()
        yield hub
        hub.close()

    @staticmethod
    def receive_all(inbox, want, timeout=10.0):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            got += inbox.receive(0.05)
        return got

    def test_commands_sent_before_the_worker_connects_are_delivered_once_it_does(self, hub):
        inbox_first = None
        early = cmd.Pause("inst-1")
        if self.inbox_must_exist_before_send:
            inbox_first = self.make_inbox(hub, "inst-1")
        hub.send(early)
        time.sleep(0.1)
        inbox = inbox_first or self.make_inbox(hub, "inst-1")
        assert [c.command_id for c in self.receive_all(inbox, 1)] == [early.command_id]
        inbox.close()

    #: Pub/Sub delivers only to subscriptions that exist when a message is published.
    inbox_must_exist_before_send = False

    def test_the_doorbell_rings_for_each_command_handed_over_and_is_quiet_once_they_are_received(self, hub):
        inbox = self.make_inbox(hub, "bell")
        time.sleep(0.1)
        bell = inbox.doorbell
        assert bell is not None, "a stepping worker reads it at every step instead of asking the inbox"
        assert bell.count[0] == bell.received, "nothing sent yet"
        sent = [cmd.Pause("bell"), cmd.Resume("bell")]
        for command in sent:
            hub.send(command)
        deadline = time.monotonic() + 10
        while bell.count[0] - bell.received < len(sent) and time.monotonic() < deadline:
            time.sleep(0.005)  # the bell rings when a command is handed to the inbox, before any receive
        assert bell.count[0] - bell.received == len(sent)
        got = self.receive_all(inbox, len(sent))
        assert [c.command_id for c in got] == [c.command_id for c in sent]
        assert bell.count[0] == bell.received, "received: quiet again"
        for command in got:
            inbox.ack(command)
        inbox.close()

    def test_commands_reach_only_their_own_instance(self, hub):
        mine = self.make_inbox(hub, "mine")
        other = self.make_inbox(hub, "other")
        time.sleep(0.1)
        hub.send(cmd.SetMode("mine", mode="TRAIN"))
        got = self.receive_all(mine, 1)
        assert isinstance(got[0], cmd.SetMode) and got[0].mode == "TRAIN"
        assert other.receive(0.5) == []
        mine.ack(got[0])
        mine.close()
        other.close()

    def test_unacknowledged_commands_are_delivered_again_to_a_restarted_worker(self, hub):
        first = self.make_inbox(hub, "w")
        command = cmd.Resume("w")
        hub.send(command)
        assert self.receive_all(first, 1)[0].command_id == command.command_id
        first.close()  # the worker died before acknowledging
        second = self.make_inbox(hub, "w")
        assert self.receive_all(second, 1, timeout=30)[0].command_id == command.command_id
        second.ack(command)
        time.sleep(0.5)
        second.close()
        third = self.make_inbox(hub, "w")
        assert third.receive(1.0) == []
        third.close()

    def test_events_from_workers_reach_every_subscriber_in_order(self, hub):
        seen_a, seen_b = [], []
        a_done, b_done = threading.Event(), threading.Event()
        # Each subscriber may have a delivery of its own (a Pub/Sub subscription): wait for both.
        hub.subscribe(lambda e: (seen_a.append(e), len(seen_a) == 3 and a_done.set()))
        hub.subscribe(lambda e: (seen_b.append(e), len(seen_b) == 3 and b_done.set()))
        outbox = self.make_outbox(hub, "x")
        for step in range(3):
            outbox.publish(ev.Progress("x", step=step, metrics={"loss": 0.5}))
        assert a_done.wait(20) and b_done.wait(20)
        assert [e.step for e in seen_a] == [0, 1, 2] and seen_a[0].metrics == {"loss": 0.5}
        assert [e.step for e in seen_b] == [0, 1, 2]
        outbox.close()

    def test_a_failing_subscriber_does_not_stop_the_others(self, hub):
        got = threading.Event()

        def broken(_event):
            raise RuntimeError("subscriber bug")

        hub.subscribe(broken)
        hub.subscribe(lambda e: got.set())
        outbox = self.make_outbox(hub, "x")
        outbox.publish(ev.InstanceTerminated("x"))
        assert got.wait(20)
        outbox.close()
