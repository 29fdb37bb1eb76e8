"""The worker's observer leases and interventions (overrides, takeovers), without a process."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ainimal_zookeeper.domain.commands import SetOverride
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.observers import ObserverLeases

DISCRETE = {"action": {"kind": "discrete", "n": 3, "start": 0}}
BOX = {"observation": {"kind": "box", "shape": [2], "dtype": "float32", "low": [-1.0, -1.0], "high": [1.0, 1.0]}}


def test_leases_union_their_streams_take_the_fastest_rate_and_expire():
    leases = ObserverLeases()
    assert not leases.active and not leases.due(time.monotonic())
    assert leases.set("a", ["inputs"], 10, 60) is True
    assert leases.set("b", ["activations/policy.0"], 50, 0.1) is True
    assert leases.set("a", ["inputs"], 10, 60) is False  # a renewal
    assert leases.selection.simple == {"inputs"} and leases.selection.layers == {"policy.0"}
    assert leases.period == pytest.approx(1 / 50)
    assert leases.due(time.monotonic())  # a new observer is sampled at once
    leases.expire(time.monotonic() + 1)  # b's lease ran out
    assert leases.selection.layers == frozenset() and leases.period == pytest.approx(1 / 10)
    leases.set("a", [], 10, 60)  # a ends its lease
    assert not leases.active


def test_sampling_keeps_its_phase_but_never_bursts_after_a_pause():
    leases = ObserverLeases()
    leases.set("a", ["inputs"], 10, 60)
    start = leases.next_sample
    leases.sampled(start + 0.01)
    assert leases.next_sample == pytest.approx(start + 0.1)
    leases.sampled(start + 5.0)  # a long pause: the next sample a period on, not fifty at once
    assert leases.next_sample == pytest.approx(start + 5.1)


def test_frames_never_come_faster_than_asked_after_pauses():
    """A simulated clock: 50 µs steps at 60 Hz, paused for 0.2 s after every 0.2 s of steps
    (as a paused instance, or a benchmark's bare segments, has), for 20,000 frames (over half
    an hour of stepping). Every pause used to be followed by two frames one step apart."""
    step, now = 50e-6, [0.0]
    leases = ObserverLeases(clock=lambda: now[0])
    leases.set("a", ["inputs"], 60, 10**6)
    frames: list[float] = []
    segments = 0
    while len(frames) < 20_000:
        segments += 1
        end = now[0] + 0.2
        while now[0] < end:
            if leases.due(now[0]):
                frames.append(now[0])
                leases.sampled(now[0])
            now[0] += step
        now[0] += 0.2  # paused
    gaps = np.diff(frames)
    # On time it keeps its phase, so a frame a step late may be followed by one on time.
    assert gaps.min() >= 1 / 60 - step - 1e-9
    assert len(frames) / (segments * 0.2) <= 60 + 5  # 12 or 13 a 0.2 s segment, not 13 or 14


def override(target, value, mode="set", takeover=None, **extra):
    return SetOverride(
        "i",
        override_id=f"{target}-{mode}-{takeover}",
        target=target,
        value=value,
        mode=mode,
        takeover=takeover,
        **extra,
    )


def test_output_and_input_overrides_replace_values_and_mark_the_step():
    interventions = Interventions(BOX, DISCRETE, {})
    interventions.set(override("outputs/action", 2))
    interventions.set(override("inputs/observation", [0.5, 2.0], mode="add"))
    used: list[str] = []
    inputs = interventions.apply_inputs({"observation": np.array([0.0, 0.0], np.float32)}, used)
    outputs = interventions.apply_outputs({"action": 0}, used)
    assert outputs["action"] == 2 and isinstance(outputs["action"], int)
    np.testing.assert_allclose(inputs["observation"], [0.5, 1.0])  # added, then clipped into the box
    assert sorted(used) == ["inputs/observation-add-None", "outputs/action-set-None"]
    assert interventions.clear("outputs/action-set-None") and not interventions.clear("nope")
    used.clear()
    assert interventions.apply_outputs({"action": 0}, used) == {"action": 0} and used == []


def test_a_realtime_takeover_uses_the_latest_action_until_it_is_released_or_too_old():
    interventions = Interventions(BOX, DISCRETE, {})
    interventions.set(override("outputs/action", 1, takeover="realtime", hold_seconds=0.5))
    used: list[str] = []
    assert interventions.apply_outputs({"action": 0}, used)["action"] == 1 and used
    time.sleep(0.6)
    assert interventions.apply_outputs({"action": 0}, [])["action"] == 0  # older than hold_seconds
    interventions.act("outputs/action", 2)
    assert interventions.apply_outputs({"action": 0}, [])["action"] == 2
    interventions.act("outputs/action", None)  # released: the AInimal acts
    assert interventions.apply_outputs({"action": 0}, [])["action"] == 0
    with pytest.raises(InvalidInput, match="action"):
        interventions.act("outputs/action", 9)


def test_a_lockstep_takeover_waits_for_each_action_and_uses_each_once():
    interventions = Interventions(BOX, DISCRETE, {})
    interventions.set(override("outputs/action", 1, takeover="lockstep"))
    assert interventions.lockstep_waiting() is None  # the first action is queued
    assert interventions.apply_outputs({"action": 0}, [])["action"] == 1
    waiting = interventions.lockstep_waiting()
    assert waiting is not None
    interventions.act("outputs/action", 2)
    interventions.act("outputs/action", 1)
    assert interventions.lockstep_waiting() is None
    assert [interventions.apply_outputs({"action": 0}, [])["action"] for _ in range(3)] == [2, 1, 0]


def test_bad_overrides_are_refused_and_leave_nothing_in_force():
    interventions = Interventions(BOX, DISCRETE, {})
    for bad, message in [
        (override("outputs/action", 5), "action"),
        (override("outputs/steer", 1), "steer"),
        (override("inputs/observation", 1.0, takeover="realtime"), "takeover"),
        (override("outputs/action", 1, takeover="sometimes"), "takeover"),
        (override("activations/policy.0", 1.0), "no torch layers"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            interventions.set(bad)
    assert not interventions.active
    with pytest.raises(InvalidInput, match="no takeover"):
        interventions.act("outputs/action", 1)
