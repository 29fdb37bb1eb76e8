"""Commands and events survive their JSON wire form; malformed ones are refused clearly."""

import pytest

from ainimal_zookeeper import wire
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.instance import InstanceStatus, parse_mode, require_controllable
from ainimal_zookeeper.errors import Conflict, InvalidInput


@pytest.mark.parametrize(
    "command",
    [
        cmd.Pause("i"),
        cmd.SetMode("i", mode="BOTH"),
        cmd.SaveCheckpoint("i", checkpoint_id="c", tag="t"),
        cmd.RestoreCheckpoint("i", "x", "c", "k"),
        cmd.Act("i", target="outputs/action", value=1, sent_at=1700000000.25),
        cmd.RenewTakeover("i", override_id="o1"),
        cmd.EmergencyStop("i"),
    ],
)
def test_commands_round_trip_through_the_wire_format(command):
    assert cmd.command_from_dict(wire.loads(wire.dumps(command.to_dict()))) == command


def test_events_round_trip_with_numpy_values_turned_into_json():
    import numpy as np

    event = ev.Progress("i", step=3, metrics={"loss": np.float32(0.5), "v": np.arange(3)})
    back = ev.event_from_dict(wire.loads(wire.dumps(event.to_dict())))
    assert back.metrics == {"loss": 0.5, "v": [0, 1, 2]} and back.step == 3 and isinstance(back, ev.Progress)


def test_takeover_fields_round_trip_and_default_to_none_for_older_senders():
    progress = ev.Progress("i", waiting_for="lockstep takeover by alice")
    assert ev.event_from_dict(wire.loads(wire.dumps(progress.to_dict()))) == progress
    cleared = ev.OverrideChanged("i", override_id="o", active=False, reason="takeover lease expired")
    assert ev.event_from_dict(wire.loads(wire.dumps(cleared.to_dict()))) == cleared
    old = {k: v for k, v in ev.Progress("i").to_dict().items() if k != "waiting_for"}
    assert ev.event_from_dict(old).waiting_for is None  # type: ignore[attr-defined]
    act = cmd.Act("i", value=1)
    old_act = {k: v for k, v in act.to_dict().items() if k != "sent_at"}
    assert cmd.command_from_dict(old_act) == act


def test_unknown_or_malformed_messages_are_invalid_input():
    with pytest.raises(InvalidInput, match="unknown command kind 'Explode'"):
        cmd.command_from_dict({"kind": "Explode", "instance_id": "i"})
    with pytest.raises(InvalidInput, match="malformed Pause"):
        cmd.command_from_dict({"kind": "Pause", "instance_id": "i", "bogus": 1})
    with pytest.raises(InvalidInput):
        ev.event_from_dict({"kind": "Nope"})


def test_modes_parse_case_insensitively_and_name_the_choices_when_wrong():
    assert parse_mode("train").value == "TRAIN"
    with pytest.raises(InvalidInput, match="TRAIN, INFER, BOTH, NONE"):
        parse_mode("sprint")


def test_ended_instances_refuse_commands_with_a_hint():
    require_controllable("a", InstanceStatus.RUNNING, "pause")
    with pytest.raises(Conflict, match="FAILED.*restore its last checkpoint"):
        require_controllable("a", InstanceStatus.FAILED, "pause")


def test_log_lines_round_trip_through_the_wire_format():
    lines = [{"time": 1.5, "stream": "stdout", "text": "hello"}, {"time": 2.0, "stream": "traceback", "text": "T\nE"}]
    event = ev.LogLines("i1", seq=3, lines=lines, final=True)
    back = ev.event_from_dict(wire.loads(wire.dumps(event.to_dict())))
    assert back == event
    assert ev.EVENT_TYPES["LogLines"] is ev.LogLines


@pytest.mark.parametrize(
    "command", [cmd.SetPace("i", pace=20.0), cmd.SetPace("i", realtime=True), cmd.SetPace("i", pace=None)]
)
def test_set_pace_round_trips_through_the_wire_format(command):
    assert cmd.command_from_dict(wire.loads(wire.dumps(command.to_dict()))) == command


def test_pacing_and_budget_fields_of_events_round_trip():
    for event in (
        ev.Progress("i", step=3, pace=20.0),
        ev.InstanceTerminated("i", step=5, reason="budget: 5 steps"),
        ev.CheckpointSaved("i", checkpoint_id="c", tag="scheduled@5", keep=3),
    ):
        assert ev.event_from_dict(wire.loads(wire.dumps(event.to_dict()))) == event
