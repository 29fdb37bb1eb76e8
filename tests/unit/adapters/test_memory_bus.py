"""The in-memory buses pass the bus contract, believe workers only about themselves, and wait on a clock."""

from __future__ import annotations

import threading

from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryBus
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

from contracts.bus import BusContract


class TestInMemoryBus(BusContract):
    def make_control_plane(self):
        return InMemoryBus()

    def make_inbox(self, control_plane, instance_id):
        return control_plane.inbox(instance_id)

    def make_outbox(self, control_plane, instance_id):
        return control_plane.outbox(instance_id)


def test_unacknowledged_commands_are_delivered_again_on_redelivery_and_acknowledged_ones_are_not():
    bus = InMemoryBus()
    inbox = bus.inbox("w")
    first, second = cmd.Pause("w"), cmd.Resume("w")
    bus.send(first)
    bus.send(second)
    assert [c.command_id for c in inbox.receive()] == [first.command_id, second.command_id]
    inbox.ack(first)
    bus.redeliver()
    assert [c.command_id for c in inbox.receive()] == [second.command_id]
    assert bus.pending("w") == [second] and inbox.acked == [first.command_id]
    bus.forget("w")
    assert bus.pending("w") == []


def test_an_event_about_another_instance_or_a_foreign_checkpoint_key_is_refused_and_counted():
    bus = InMemoryBus()
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    outbox = bus.outbox("mine")
    outbox.publish(ev.Progress("theirs", step=1))
    outbox.publish(ev.CheckpointSaved("mine", checkpoint_id="c", blob_key="checkpoints/by-instance/theirs/x.json"))
    outbox.publish(ev.Progress("mine", step=2))
    assert [e.step for e in seen] == [2] and bus.refused == 2


def test_events_travel_in_their_wire_form_and_an_unsubscribed_handler_hears_nothing_more():
    import numpy as np

    bus = InMemoryBus()
    seen: list[ev.Event] = []
    unsubscribe = bus.subscribe(seen.append)
    bus.outbox("i").publish(ev.Progress("i", metrics={"v": np.arange(2)}))
    unsubscribe()
    bus.outbox("i").publish(ev.Progress("i", step=9))
    assert len(seen) == 1 and seen[0].metrics == {"v": [0, 1]}
    assert [e.step for e in bus.delivered] == [0, 9]


def test_a_receive_with_a_timeout_waits_on_the_bus_clock_and_wakes_on_a_command():
    clock = FakeClock()
    bus = InMemoryBus(clock=clock)
    inbox = bus.inbox("w")
    got: list[list[cmd.Command]] = []
    waiter = threading.Thread(target=lambda: got.append(inbox.receive(30.0)))
    waiter.start()
    clock.wait_for_sleepers(1)
    clock.advance(29.0)  # not yet: still waiting for the first command
    bus.send(cmd.Pause("w"))
    waiter.join(10)
    assert not waiter.is_alive() and [type(c) for c in got[0]] == [cmd.Pause]
    waiter = threading.Thread(target=lambda: got.append(inbox.receive(5.0)))
    waiter.start()
    clock.wait_for_sleepers(1)
    clock.advance(5.0)  # nothing came: the timeout passes on the clock
    waiter.join(10)
    assert not waiter.is_alive() and got[1] == []
