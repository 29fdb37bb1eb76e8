"""The local bus's doorbell: a worker asks its socket for commands only when the hub rang, or
once per fallback period, and no command is lost when a ring and its message part ways."""

from __future__ import annotations

import time

import zmq

from ainimal_zookeeper.adapters.local.doorbell import FALLBACK_SECONDS, DoorbellReader, Doorbells
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalCommandInbox
from ainimal_zookeeper.domain import commands as cmd


class CountingSocket:
    """The inbox's socket, counting how often the stepping loop's check asks it."""

    def __init__(self, sock: zmq.Socket) -> None:
        self.sock, self.asked = sock, 0

    def getsockopt(self, option: int) -> object:
        self.asked += 1
        return self.sock.getsockopt(option)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


def connected(hub: LocalBusHub, instance_id: str) -> tuple[LocalCommandInbox, CountingSocket]:
    bus = hub.worker_connection(instance_id)
    inbox = LocalCommandInbox(bus["commands"], instance_id, bus)
    counting = CountingSocket(inbox._sock)
    inbox._sock = counting  # type: ignore[assignment]
    return inbox, counting


def receive_within(inbox: LocalCommandInbox, seconds: float) -> list[cmd.Command]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = inbox.receive(0.0)
        if got:
            return got
        time.sleep(0.0002)
    return []


def test_a_stepping_worker_asks_its_socket_about_once_per_fallback_period_while_nothing_comes():
    hub = LocalBusHub()
    inbox, counting = connected(hub, "i1")
    try:
        start = time.monotonic()
        polls = 0
        while time.monotonic() - start < 4 * FALLBACK_SECONDS:  # several fallback periods
            assert inbox.receive(0.0) == []
            polls += 1
            time.sleep(0.0005)
        assert polls > 100
        # Once at the start and once per fallback period, not once per poll.
        assert counting.asked <= 4 + 2
    finally:
        inbox.close()
        hub.close()


def test_a_command_rings_the_doorbell_and_arrives_at_the_next_polls():
    hub = LocalBusHub()
    inbox, counting = connected(hub, "i1")
    try:
        receive_within(inbox, 0.2)  # connected, HELLO said
        pause = cmd.Pause("i1")
        hub.send(pause)
        got = receive_within(inbox, 2.0)
        assert [c.command_id for c in got] == [pause.command_id]
        # Asked far sooner than the fallback would have: the ring made the worker look.
        asked_before = counting.asked
        for _ in range(200):
            inbox.receive(0.0)
        assert counting.asked - asked_before <= 1  # settled: no asking at every poll afterwards
    finally:
        inbox.close()
        hub.close()


def test_many_commands_each_arrive_once_and_the_count_settles(tmp_path):
    hub = LocalBusHub()
    inbox, _ = connected(hub, "i1")
    try:
        receive_within(inbox, 0.2)
        sent = [cmd.Pause("i1") for _ in range(300)]
        for command in sent:
            hub.send(command)
        got: list[str] = []
        deadline = time.monotonic() + 5
        while len(got) < len(sent) and time.monotonic() < deadline:
            got.extend(c.command_id for c in inbox.receive(0.0))
        assert sorted(set(got)) == sorted(c.command_id for c in sent)
        # The hub rings just after each send, so the last ring may land just after the worker took
        # the last message (a loaded machine delays the hub's thread): the count settles then.
        assert inbox.doorbell is not None
        deadline = time.monotonic() + 5
        while inbox.doorbell.owed() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert not inbox.doorbell.owed()
        assert inbox.receive(0.0) == []  # and nothing came twice
    finally:
        inbox.close()
        hub.close()


def test_a_ring_without_a_message_stops_costing_a_socket_check_per_poll_after_the_fallback_period():
    bells = Doorbells()
    try:
        path = bells.path(b"i1")
        reader = DoorbellReader(path)
        assert not reader.owed()
        bells.ring(b"i1")  # as if a send had been rung but its message never came
        assert reader.owed()
        reader.caught_up()
        assert not reader.owed()
        reader.close()
    finally:
        bells.close()
    assert not bells.folder.exists()


def test_a_restarted_worker_of_an_instance_is_not_owed_the_commands_its_predecessor_got():
    hub = LocalBusHub()
    first, _ = connected(hub, "i1")
    try:
        receive_within(first, 0.2)
        pause = cmd.Pause("i1")
        hub.send(pause)
        assert receive_within(first, 2.0)
        first.ack(pause)
        time.sleep(0.1)  # the ack reaches the hub (unacknowledged commands are sent again)
        first.close()
        second, counting = connected(hub, "i1")  # the same instance's next worker
        try:
            assert second.doorbell is not None and not second.doorbell.owed()
            resume = cmd.Resume("i1")
            hub.send(resume)
            got = receive_within(second, 3.0)
            assert resume.command_id in [c.command_id for c in got]
        finally:
            second.close()
    finally:
        hub.close()


def test_an_inbox_given_no_doorbell_asks_its_socket_at_every_poll_as_before():
    hub = LocalBusHub()
    bus = {k: v for k, v in hub.worker_connection("i1").items() if k != "doorbell"}
    inbox = LocalCommandInbox(bus["commands"], "i1", bus)
    try:
        receive_within(inbox, 0.2)
        pause = cmd.Pause("i1")
        hub.send(pause)
        assert [c.command_id for c in receive_within(inbox, 2.0)] == [pause.command_id]
    finally:
        inbox.close()
        hub.close()


def test_forgetting_an_instance_removes_its_doorbell_file():
    hub = LocalBusHub()
    try:
        path = hub.worker_connection("i1")["doorbell"]
        import os

        assert os.path.exists(path)
        assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == oct(0o700)  # only this user
        hub.forget("i1")
        deadline = time.monotonic() + 2
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not os.path.exists(path)
    finally:
        hub.close()


class ScriptedSocket:
    """Stands in for the inbox's socket: holds what the test puts in it, says so in EVENTS."""

    def __init__(self) -> None:
        self.queued: list[bytes] = []

    def getsockopt(self, option: int) -> int:
        return zmq.POLLIN if self.queued else 0

    def recv(self, flags: int = 0) -> bytes:
        if not self.queued:
            raise zmq.Again()
        return self.queued.pop(0)

    def send(self, *args: object) -> None:
        pass


def test_a_message_slower_than_its_ring_is_picked_up_at_once_in_a_later_wait_too():
    """Each wait for a message that is slower than its ring starts afresh: a wait that ended
    long ago must not make the next one give up at once and leave its message for the fallback."""
    from ainimal_zookeeper import wire

    hub = LocalBusHub()
    bus = hub.worker_connection("i1")
    inbox = LocalCommandInbox(bus["commands"], "i1", bus)
    real, scripted = inbox._sock, ScriptedSocket()
    bells = hub._doorbells
    try:
        time.sleep(2 * FALLBACK_SECONDS)  # past the first socket check's period
        inbox._sock = scripted  # type: ignore[assignment]
        for _ in range(2):
            command = cmd.Pause("i1")
            bells.ring(b"i1")  # the ring lands first ...
            assert inbox.receive(0.0) == []  # ... the message is still on its way
            scripted.queued.append(wire.dumps(command.to_dict()))
            assert [c.command_id for c in inbox.receive(0.0)] == [command.command_id]
            time.sleep(2 * FALLBACK_SECONDS)  # the next wait comes long after this one
    finally:
        inbox._sock = real
        inbox.close()
        hub.close()
