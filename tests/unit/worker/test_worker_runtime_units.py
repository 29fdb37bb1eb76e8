"""The worker runtime in one thread, on a scripted inbox and a clock the test owns (no server, no bus).

The inbox delivers each command at its time on the test's clock; waiting for commands moves
that clock (to the next command or the wait's end), and a running loop's clock reads move it a
little each (`tick`), so leases, timeouts and schedules run for many periods in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scripted_worker import FIXTURES, START, Clock, Outbox, ScriptedInbox

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.housekeeping import HOUSEKEEPING_EVERY_SECONDS
from ainimal_zookeeper.worker.lean_loop import COMMAND_POLL_EVERY_SECONDS
from ainimal_zookeeper.worker.runtime import WorkerRuntime


def counter_spec(episode_steps: int, **extra: Any) -> WorkerSpec:
    """A CountingAgent on EchoEnv, whose episodes last `episode_steps`."""
    return WorkerSpec(
        instance_id="w",
        model={
            "name": "Counter",
            "type": "ainimal",
            "path": str(FIXTURES / "agents.py"),
            "class_name": "CountingAgent",
        },
        environment={"name": "Echo", "type": "ainimal", "path": str(FIXTURES / "envs.py"), "class_name": "EchoEnv"},
        init_params={},
        env_init_params={"episode_steps": episode_steps},
        mode="INFER",
        connection={},
        seed=1,
        **extra,
    )


def run(
    tmp_path: Path, script: list[tuple[float, cmd.Command]], tick: float = 0.0, episode_steps: int = 20
) -> tuple[WorkerRuntime, Outbox, ScriptedInbox, int]:
    """Run a CountingAgent on EchoEnv through `script` (which ends with Terminate); returns the exit code too."""
    clock = Clock(tick)
    spec = counter_spec(episode_steps)
    inbox, outbox = ScriptedInbox(clock, script), Outbox(clock)
    runtime = WorkerRuntime(spec, inbox, outbox, LocalBlobStore(tmp_path / "blobs"), clock=clock)  # type: ignore[arg-type]
    code = runtime.run()
    return runtime, outbox, inbox, code


def applied(outbox: Outbox) -> list[str]:
    return [event.command_id for event in outbox.of(ev.CommandApplied)]


def test_a_command_the_bus_delivers_twice_is_applied_once_and_confirmed_each_time(tmp_path):
    save = cmd.SaveCheckpoint("w", checkpoint_id="c1", tag="once")
    script = [(0.0, cmd.Pause("w")), (0.2, save), (0.4, save), (0.6, cmd.Terminate("w"))]
    _, outbox, inbox, code = run(tmp_path, script)
    assert code == 0
    assert len(outbox.of(ev.CheckpointSaved)) == 1
    assert applied(outbox).count(save.command_id) == 2  # the repeat is confirmed again, not redone
    assert inbox.acked.count(save.command_id) == 2


def test_an_emergency_stop_applies_before_the_commands_that_came_with_it(tmp_path):
    first = cmd.SetOverride("w", override_id="o1", target="outputs/action", value=1)
    second = cmd.SetOverride("w", override_id="o2", target="inputs/observation", value=[0.0, 1.0])
    stop = cmd.EmergencyStop("w")
    script = [(0.0, first), (0.5, second), (0.5, stop), (1.0, cmd.Terminate("w"))]
    runtime, outbox, _, code = run(tmp_path, script, tick=0.0001)
    assert code == 0
    order = applied(outbox)
    assert order.index(stop.command_id) < order.index(second.command_id)
    ended = [e for e in outbox.of(ev.OverrideChanged) if not e.active]
    assert [(e.override_id, e.reason) for e in ended] == [("o1", "emergency stop")]
    assert runtime.interventions.describe("o2") == ("inputs", "observation")  # came after the stop
    confirmation = next(e for e in outbox.of(ev.CommandApplied) if e.command_id == stop.command_id)
    assert confirmation.status == "PAUSED"


def test_a_command_that_fails_is_rejected_with_its_reason_and_the_instance_runs_on(tmp_path):
    record = cmd.StartRecording("w", recording_id="r1", streams=["activations/nope"])
    pause = cmd.Pause("w")
    script = [(0.0, record), (0.1, pause), (0.3, cmd.Terminate("w"))]
    runtime, outbox, _, code = run(tmp_path, script, tick=0.0001)
    assert code == 0
    [rejected] = outbox.of(ev.CommandRejected)
    assert rejected.command_id == record.command_id
    assert "unknown layers nope" in rejected.error and "calls" in rejected.error  # what exists, to fix it
    assert pause.command_id in applied(outbox)
    assert runtime.step_count > 0  # it stepped on between the refusal and the pause
    assert not outbox.of(ev.InstanceFailed)


def test_a_takeover_nobody_renews_gives_control_back_after_its_hold_and_not_before(tmp_path):
    takeover = cmd.SetOverride("w", override_id="t1", target="outputs/action", takeover="realtime", hold_seconds=2.0)
    script = [
        (0.0, cmd.Pause("w")),
        (0.1, takeover),
        (1.0, cmd.RenewTakeover("w", override_id="t1")),
        (2.5, cmd.RenewTakeover("w", override_id="t1")),  # the lease runs to 4.5
        (12.0, cmd.Terminate("w")),  # several holds past the end
    ]
    runtime, outbox, _, code = run(tmp_path, script)
    assert code == 0
    changes = [(at, e) for at, e in outbox.timed if isinstance(e, ev.OverrideChanged)]
    assert [(e.active, e.reason) for _, e in changes] == [(True, None), (False, "takeover lease expired")]
    ended_at = changes[1][0]
    assert 4.5 <= ended_at <= 4.5 + 0.11  # at the first poll after the lease ran out (paused: every 0.1 s)
    assert not runtime.interventions.active


def test_an_observer_lease_not_renewed_ends_and_its_frames_stop(tmp_path):
    def observe() -> cmd.ObserveStreams:
        return cmd.ObserveStreams("w", observer_id="o", streams=["reward"], max_hz=20, lease_seconds=1.0)

    script = [(0.0, observe()), (0.8, observe()), (1.6, observe()), (6.0, cmd.Terminate("w"))]  # to 2.6
    runtime, outbox, _, code = run(tmp_path, script, tick=0.0005)
    assert code == 0
    frames = outbox.times(ev.TelemetryFrame)
    assert len([at for at in frames if at <= 2.5]) >= 40  # 20 a second while leased
    # Leases expire at progress time (every 0.25 s): nothing after that and one more period.
    assert max(frames) <= 2.6 + 0.25 + 0.05
    assert not runtime.sampling.leases.active


def test_a_lockstep_takeover_without_actions_lets_the_ainimal_act_after_each_timeout(tmp_path):
    takeover = cmd.SetOverride(
        "w", override_id="t1", target="outputs/action", takeover="lockstep", timeout_seconds=0.5, hold_seconds=100
    )
    script = [(0.0, takeover), (3.0, cmd.Terminate("w"))]
    runtime, outbox, _, code = run(tmp_path, script)
    assert code == 0
    # One step per timeout: the person never acts, and the AInimal is never left waiting for ever.
    assert 5 <= runtime.step_count <= 7


@pytest.mark.parametrize("budget", [{"steps": 50}, {"episodes": 3}, {"seconds": 2.0}])
def test_a_budget_ends_the_run_at_its_limit_and_says_why(tmp_path, budget):
    clock = Clock(tick=0.0001)
    spec = counter_spec(10, stop_after=budget)
    inbox, outbox = ScriptedInbox(clock, [(60.0, cmd.Terminate("w"))]), Outbox(clock)
    runtime = WorkerRuntime(spec, inbox, outbox, LocalBlobStore(tmp_path / "blobs"), clock=clock)  # type: ignore[arg-type]
    assert runtime.run() == 0
    [ended] = outbox.of(ev.InstanceTerminated)
    assert ended.reason
    if "steps" in budget:
        assert runtime.step_count == 50
    elif "episodes" in budget:
        assert runtime.episode == 3 and runtime.step_count == 30
    else:  # stopped at the first poll past 2 s of the test's clock, long before the script's end
        assert 2.0 <= clock.elapsed <= 2.01


class LookingInbox(ScriptedInbox):
    """Notes the test clock's time of each look for commands."""

    def __init__(self, clock: Clock, script: list[tuple[float, cmd.Command]]) -> None:
        super().__init__(clock, script)
        self.looks: list[float] = []

    def receive(self, timeout: float = 0.0) -> list[cmd.Command]:
        self.looks.append(self.clock.elapsed)
        return super().receive(timeout)


def gaps(times: list[float], start: float, end: float) -> list[float]:
    inside = [t for t in times if start <= t < end]
    return [later - earlier for earlier, later in zip(inside, inside[1:], strict=False)]


def test_commands_are_looked_for_every_half_millisecond_and_the_rest_of_a_poll_at_its_own_interval(tmp_path):
    clock = Clock(tick=0.00001)  # a step reads the clock once: 10 µs of the test's time
    pause = cmd.Pause("w")
    inbox = LookingInbox(clock, [(0.5, pause), (0.6, cmd.Terminate("w"))])
    outbox = Outbox(clock)
    runtime = WorkerRuntime(counter_spec(9), inbox, outbox, LocalBlobStore(tmp_path / "blobs"), clock=clock)  # type: ignore[arg-type]
    housekeeping: list[float] = []
    flush = runtime.recording.maybe_flush  # called once by each housekeeping
    runtime.recording.maybe_flush = lambda now: (housekeeping.append(clock.elapsed), flush(now))[1]  # type: ignore[method-assign]
    assert runtime.run() == 0
    looks = gaps(inbox.looks, 0.01, 0.5)
    assert len(looks) > 800
    assert 0.0005 <= min(looks) and max(looks) <= 0.0005 + 0.00005, "every 0.5 ms, never more often"
    kept = gaps(housekeeping, 0.01, 0.5)
    assert len(kept) > 0.45 / HOUSEKEEPING_EVERY_SECONDS
    # Without a doorbell the loop leaves for it at the first look after it is due.
    assert HOUSEKEEPING_EVERY_SECONDS <= min(kept), "not at each look"
    assert max(kept) <= HOUSEKEEPING_EVERY_SECONDS + COMMAND_POLL_EVERY_SECONDS + 0.00005
    [applied] = [at for at, event in outbox.timed if isinstance(event, ev.CommandApplied)][:1]
    assert 0.5 <= applied <= 0.5 + 0.0005 + 0.00005, "a command applies within half a millisecond"
    assert runtime.step_count < 0.5 / 0.00001, "no step after the pause"


class ArrivalCount:
    """A doorbell's count: how many of the script's commands have arrived by the test clock's
    time (read without moving the clock, as a memory read takes no time)."""

    def __init__(self, clock: Clock, times: list[float]) -> None:
        self.clock, self.times = clock, times

    def __getitem__(self, index: int) -> int:
        assert index == 0
        return sum(1 for at in self.times if START + at <= self.clock.now)


class ScriptDoorbell:
    def __init__(self, count: ArrivalCount) -> None:
        self.count, self.received = count, 0


class RingingInbox(LookingInbox):
    """A LookingInbox with a doorbell that rings as each command arrives."""

    def __init__(self, clock: Clock, script: list[tuple[float, cmd.Command]]) -> None:
        super().__init__(clock, script)
        self.doorbell = ScriptDoorbell(ArrivalCount(clock, [at for at, _ in script]))  # type: ignore[assignment]

    def receive(self, timeout: float = 0.0) -> list[cmd.Command]:
        due = super().receive(timeout)
        self.doorbell.received += len(due)  # type: ignore[union-attr]
        return due


def test_with_a_doorbell_the_inbox_is_asked_only_when_it_rang_and_a_command_applies_at_the_next_step(tmp_path):
    clock = Clock(tick=0.00001)  # a step reads the clock once: 10 µs of the test's time
    inbox = RingingInbox(clock, [(0.5, cmd.Pause("w")), (0.6, cmd.Terminate("w"))])
    outbox = Outbox(clock)
    runtime = WorkerRuntime(counter_spec(9), inbox, outbox, LocalBlobStore(tmp_path / "blobs"), clock=clock)  # type: ignore[arg-type]
    assert runtime.run() == 0
    looks = gaps(inbox.looks, 0.01, 0.5)
    assert len(looks) > 0.45 / HOUSEKEEPING_EVERY_SECONDS
    assert HOUSEKEEPING_EVERY_SECONDS <= min(looks) <= max(looks) <= HOUSEKEEPING_EVERY_SECONDS + 0.00005, (
        "only the housekeeping's: none on a timer"
    )
    [applied] = [at for at, event in outbox.timed if isinstance(event, ev.CommandApplied)][:1]
    assert 0.5 <= applied <= 0.5 + 0.00002 + 0.00001, "the step after the bell rang takes the command"
    assert runtime.step_count < 0.5 / 0.00001, "no step after the pause"


def test_a_metric_logged_in_forward_carries_the_step_it_was_logged_at_across_many_polls(tmp_path):
    # The lean loop keeps its counters in locals between polls; a point logged from `forward`
    # took the step count of the last poll (up to 10 ms of steps earlier).
    clock = Clock(tick=2e-6)
    spec = counter_spec(7)
    spec.model.update(path=str(FIXTURES / "metric_agents.py"), class_name="StepLoggingAgent", name="StepLogger")
    inbox, outbox = ScriptedInbox(clock, [(0.3, cmd.Terminate("w"))]), Outbox(clock)
    runtime = WorkerRuntime(spec, inbox, outbox, LocalBlobStore(tmp_path / "blobs"), clock=clock)  # type: ignore[arg-type]
    assert runtime.run() == 0
    points = [
        (step, value)
        for event in outbox.of(ev.MetricPoints)
        for series in event.series
        if series["name"] == "steps_before"
        for step, value in zip(series["steps"], series["values"], strict=True)
    ]
    # Thousands of steps over many housekeeping periods; the sink keeps a thinned sample of them.
    assert runtime.step_count > 10_000 and clock.elapsed > 20 * HOUSEKEEPING_EVERY_SECONDS and len(points) >= 10
    assert all(step == value for step, value in points), [p for p in points if p[0] != p[1]][:5]
