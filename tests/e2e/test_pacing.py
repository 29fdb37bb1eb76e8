"""End to end over HTTP: paced instances sleep at their pace; budgets end runs; schedules keep N.

Timings are short by choice of pace and budget (a pace of 20 steps a second, budgets of a
few hundred steps or 1.5 s), not by luck: each wait has seconds of slack for a loaded machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from support import ServerProcess, launch_running, terminate, wait_for

HERE = Path(__file__).parent
FIELDS = "id status pace stepsPerSecond step stopReason worker"
TICKS = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "pacing_zoo.yaml", tmp_path_factory.mktemp("zk") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def launch(server: ServerProcess, **extra) -> dict:
    return launch_running(server, {"model": "Counter", "environment": "CartPole", **extra}, FIELDS)


def look(server: ServerProcess, instance_id: str) -> dict:
    return server.gql(f'{{ instance(id: "{instance_id}") {{ {FIELDS} checkpoints {{ id tag step }} }} }}')["instance"]


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def measured(server: ServerProcess, instance_id: str, pid: int, seconds: float = 2.0) -> tuple[float, float]:
    """(steps a second, CPU share of one core) of the instance over `seconds`."""
    before, cpu_before, start = look(server, instance_id)["step"], cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    after, cpu_after, took = look(server, instance_id)["step"], cpu_seconds(pid), time.monotonic() - start
    return (after - before) / took, (cpu_after - cpu_before) / took


def set_pace(server: ServerProcess, instance_id: str, args: str) -> dict:
    return server.gql(f'mutation {{ setPace(id: "{instance_id}", {args}) {{ {FIELDS} }} }}')["setPace"]


def test_a_paced_instance_sleeps_at_its_pace_and_setpace_changes_it(server):
    instance = launch(server, pace=20)
    iid = instance["id"]
    assert instance["pace"] == 20
    pid = int(wait_for(lambda: look(server, iid)["worker"], what="the worker pid")["pid"])
    wait_for(lambda: look(server, iid)["stepsPerSecond"], what="a measured rate")
    rate, cpu = measured(server, iid, pid)
    assert 15 <= rate <= 25, rate  # the step count moves at the pace (progress is sent 4x a second)
    assert cpu < 0.25, f"a paced worker should sleep, used {cpu:.0%} of a core"
    reported = wait_for(lambda: 17 <= (look(server, iid)["stepsPerSecond"] or 0) <= 23 and look(server, iid))
    assert reported["pace"] == 20

    assert set_pace(server, iid, "pace: 60")["pace"] == 60
    wait_for(lambda: 52 <= (look(server, iid)["stepsPerSecond"] or 0) <= 68, timeout=10, what="the new rate")
    assert set_pace(server, iid, "realtime: true")["pace"] == 50  # CartPole's render_fps
    assert set_pace(server, iid, "pace: null")["pace"] is None
    wait_for(lambda: (look(server, iid)["stepsPerSecond"] or 0) > 500, timeout=10, what="flat out again")
    terminate(server, iid)


def test_realtime_at_launch_is_the_envs_render_fps(server):
    iid = launch(server, realtime=True)["id"]
    wait_for(lambda: 40 <= (look(server, iid)["stepsPerSecond"] or 0) <= 60, timeout=10, what="the realtime rate")
    assert look(server, iid)["pace"] == 50  # CartPole's render_fps
    terminate(server, iid)


def test_bad_paces_and_budgets_are_refused_with_what_was_expected(server):
    cases = [
        ({"pace": -1}, "pace expects steps per second above 0"),
        ({"pace": 1e9}, "at most 100000"),
        ({"pace": 10, "realtime": True}, "either a number or realtime"),
        ({"stopAfter": {"steps": 0}}, "stopAfter.steps expects a whole number from 1"),
        ({"stopAfter": {"seconds": -1.0}}, "stopAfter.seconds expects seconds above 0"),
        ({"checkpointEvery": {"steps": 10, "keep": 0}}, "keep expects a whole number from 1"),
    ]
    query = "mutation($input: LaunchInput!) { launch(input: $input) { id } }"
    for extra, message in cases:
        errors = server.errors(query, {"input": {"model": "Counter", "environment": "CartPole", **extra}})
        assert message in errors[0]["message"], (extra, errors)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    instance = launch(server, pace=5)
    errors = server.errors(f'mutation {{ setPace(id: "{instance["id"]}", pace: 0) {{ id }} }}')
    assert "pace expects" in errors[0]["message"]
    assert look(server, instance["id"])["status"] == "RUNNING"  # bad input loses nothing
    terminate(server, instance["id"])


@pytest.mark.parametrize(
    ("budget", "reason"),
    [
        ({"steps": 300}, "budget: 300 steps"),
        ({"episodes": 3}, "budget: 3 episodes"),
        ({"seconds": 1.5}, "budget: 1.5 seconds"),
    ],
)
def test_a_budget_ends_the_instance_with_its_reason(server, budget, reason):
    instance = launch(server, stopAfter=budget, pace=400)
    ended = wait_for(
        lambda: (i := look(server, instance["id"]))["status"] in ("TERMINATED", "FAILED") and i,
        timeout=20,
        what="the budget ending the run",
    )
    assert ended["status"] == "TERMINATED" and ended["stopReason"] == reason, ended
    if "steps" in budget:
        assert ended["step"] == 300


def test_scheduled_checkpoints_keep_the_newest_and_leave_manual_ones(server):
    instance = launch(server, pace=400, checkpointEvery={"steps": 100, "keep": 2})
    iid = instance["id"]
    manual = server.gql(f'mutation {{ saveCheckpoint(id: "{iid}", tag: "mine") {{ id }} }}')["saveCheckpoint"]
    # Several periods: every 100 steps at 400 steps a second is a save each quarter second.
    wait_for(lambda: look(server, iid)["step"] >= 1200, timeout=20, what="a dozen periods")
    checkpoints = look(server, iid)["checkpoints"]
    scheduled = [c for c in checkpoints if c["tag"].startswith("scheduled@")]
    assert manual["id"] in [c["id"] for c in checkpoints]
    assert len(scheduled) == 2, checkpoints
    assert min(c["step"] for c in scheduled) >= 800  # the old ones are gone, the newest stay
    terminate(server, iid)


def test_a_takeover_runs_at_realtime_unless_a_pace_was_chosen(server):
    override = "mutation($id: ID!, $input: OverrideInput!) { override(id: $id, input: $input) { id } }"
    takeover = {"target": "outputs/action", "value": 1, "takeover": "realtime"}
    iid = launch(server)["id"]  # no pace: flat out
    wait_for(lambda: (look(server, iid)["stepsPerSecond"] or 0) > 500, timeout=10, what="flat out")
    held = server.gql(override, {"id": iid, "input": takeover})["override"]
    wait_for(lambda: look(server, iid)["pace"] == 50, timeout=10, what="realtime during the takeover")
    wait_for(lambda: 40 <= (look(server, iid)["stepsPerSecond"] or 0) <= 60, timeout=10, what="the realtime rate")
    assert set_pace(server, iid, "pace: 10")["pace"] == 10  # a person's choice wins over realtime
    server.gql(f'mutation {{ clearOverride(id: "{iid}", override: "{held["id"]}") }}')
    assert look(server, iid)["pace"] == 10  # still chosen after the takeover ends
    terminate(server, iid)
