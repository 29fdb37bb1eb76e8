"""The worker's command table: each type goes to its handler, each id applies once, inputs are never confirmed."""

from __future__ import annotations

from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.commands import CommandTable
from ainimal_zookeeper.worker.seen_ids import SeenIds


class Inbox:
    doorbell = None  # none: the worker asks `receive` on a timer

    def __init__(self) -> None:
        self.acked: list[str] = []

    def receive(self, timeout: float = 0.0) -> list[cmd.Command]:
        return []

    def ack(self, command: cmd.Command) -> None:
        self.acked.append(command.command_id)

    def close(self) -> None:
        pass


class Outbox:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def publish(self, event: ev.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def table(handled: list[Any]) -> tuple[CommandTable, Inbox, Outbox]:
    def refuse(command: cmd.Command) -> None:
        raise InvalidInput("no such recording r9; start one first")

    inbox, outbox = Inbox(), Outbox()
    commands = CommandTable(
        "w",
        inbox,  # type: ignore[arg-type]
        outbox,  # type: ignore[arg-type]
        {cmd.Pause: handled.append, cmd.Resume: handled.append, cmd.StopRecording: refuse},
        {cmd.Act: handled.append},
        lambda: ("PAUSED", "INFER", 7, 1),
        lambda: handled.append("confirmed"),
    )
    return commands, inbox, outbox


def test_a_command_goes_to_its_handler_once_and_each_delivery_is_confirmed_with_where_the_instance_stands():
    handled: list[Any] = []
    commands, inbox, outbox = table(handled)
    pause = cmd.Pause("w")
    commands.apply_all([pause, pause])
    assert handled == [pause, "confirmed", "confirmed"]
    applied = [e for e in outbox.events if isinstance(e, ev.CommandApplied)]
    assert [(e.command_id, e.status, e.mode, e.step, e.episode) for e in applied] == [
        (pause.command_id, "PAUSED", "INFER", 7, 1)
    ] * 2
    assert inbox.acked == [pause.command_id] * 2


def test_a_failing_handler_rejects_its_command_with_the_reason_and_the_next_command_still_applies():
    handled: list[Any] = []
    commands, _, outbox = table(handled)
    stop, resume = cmd.StopRecording("w", recording_id="r9"), cmd.Resume("w")
    commands.apply_all([stop, resume])
    [rejected] = [e for e in outbox.events if isinstance(e, ev.CommandRejected)]
    assert (rejected.command_id, rejected.error) == (stop.command_id, "no such recording r9; start one first")
    assert resume in handled


def test_a_command_type_without_a_handler_is_confirmed_and_changes_nothing():
    handled: list[Any] = []
    commands, _, outbox = table(handled)
    commands.apply(cmd.SetPace("w", pace=10.0))
    assert handled == ["confirmed"]
    assert [e.kind for e in outbox.events] == ["CommandApplied"]


def test_an_input_is_acknowledged_applied_once_however_often_it_comes_and_never_confirmed():
    handled: list[Any] = []
    commands, inbox, outbox = table(handled)
    act = cmd.Act("w", target="outputs/action", value=1)
    commands.apply_all([act, act, act])
    assert handled == [act]
    assert inbox.acked == [act.command_id] * 3
    assert outbox.events == []


def test_an_emergency_stop_goes_first_and_the_rest_keep_their_order():
    handled: list[Any] = []
    commands, _, _ = table(handled)
    commands.handlers[cmd.EmergencyStop] = handled.append
    pause, resume, stop = cmd.Pause("w"), cmd.Resume("w"), cmd.EmergencyStop("w")
    commands.apply_all([pause, resume, stop])
    assert [c for c in handled if c != "confirmed"] == [stop, pause, resume]


def test_a_late_copy_of_an_input_or_a_command_is_not_applied_again_however_many_came_since():
    """Pub/Sub may deliver a copy minutes later; a takeover sends 60 inputs a second meanwhile."""
    handled: list[Any] = []
    commands, _, _ = table(handled)
    first_act, pause = cmd.Act("w", target="outputs/action", value=1), cmd.Pause("w")
    commands.apply_all([first_act, pause])
    for step in range(3000):  # 50 s of a takeover's inputs, and as many commands
        commands.apply(cmd.Act("w", target="outputs/action", value=step % 2))
        commands.apply(cmd.Resume("w"))
    handled.clear()
    commands.apply_all([first_act, pause])  # the late copies
    assert handled == ["confirmed"]  # the pause confirmed again, applied once; the input dropped


def test_applied_ids_are_remembered_for_their_window_and_never_more_than_the_capacity():
    now = [0.0]
    seen = SeenIds(window=600.0, capacity=1000, clock=lambda: now[0])
    seen.add("early")
    now[0] = 599.0
    assert "early" in seen
    for index in range(5000):  # a flood: only the newest thousand are kept
        seen.add(f"id-{index}")
    assert len(seen) == 1000 and "early" not in seen and "id-3999" not in seen and "id-4999" in seen
    now[0] = 1198.0
    assert "id-4999" in seen  # 599 s after it came
    now[0] = 1200.0  # more than a window after every id: all are forgotten, the memory with them
    assert "id-4999" not in seen and len(seen) == 0
