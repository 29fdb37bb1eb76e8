"""End to end: a server left running does not leak, and no worker outlives its welcome.

The grace periods are short by configuration (hygiene_zoo.yaml: `workers.stop_grace_seconds: 1`);
the hanging model loops forever in `forward`, and when stubborn also ignores SIGTERM.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from support import ServerProcess, launch_running, pid_alive, terminate, wait_for

HERE = Path(__file__).parent
GRACE = 1.0  # hygiene_zoo.yaml's workers.stop_grace_seconds
KILL_AFTER = 2.0  # LocalProcessCompute: SIGTERM, then SIGKILL after this long
SLACK = 4.0  # a loaded machine: scheduling, polls


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "hygiene_zoo.yaml", tmp_path_factory.mktemp("zk") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def descendants(pid: int) -> set[int]:
    """The live processes below `pid` (children, their children ...)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def worker_pid(server: ServerProcess, instance_id: str) -> int:
    instance = wait_for(
        lambda: (i := server.gql(f'{{ instance(id: "{instance_id}") {{ worker }} }}')["instance"])["worker"] and i,
        what="the worker's pid",
    )
    return int(instance["worker"]["pid"])


def launch_hanging(server: ServerProcess, stubborn: bool) -> tuple[str, int]:
    parameters = {"hang_after": 10, "stubborn": stubborn}
    instance = launch_running(server, {"model": "Hanging", "environment": "CartPole", "parameters": parameters})
    return instance["id"], worker_pid(server, instance["id"])


def test_fifty_launch_terminate_cycles_leave_the_servers_fds_and_threads_flat(server):
    pid = server.process.pid

    def cycles(count: int) -> None:
        for _ in range(count):
            instance = launch_running(server, {"model": "Counter", "environment": "CartPole"})
            terminate(server, instance["id"])

    cycles(10)  # warm: the fork server, thread pools and connections exist from here on
    fds, tasks = open_fds(pid), threads(pid)
    cycles(40)
    # A leak grows with the cycles (it was two pipes each: +80 here); allow a little noise.
    assert open_fds(pid) - fds <= 6, (fds, open_fds(pid), sorted(os.listdir(f"/proc/{pid}/fd")))
    assert threads(pid) - tasks <= 3, (tasks, threads(pid))


@pytest.mark.parametrize("stubborn", [False, True], ids=["obeys-sigterm", "ignores-sigterm"])
def test_terminate_kills_a_worker_stuck_in_user_code_after_the_grace(server, stubborn):
    instance_id, pid = launch_hanging(server, stubborn)
    began = time.monotonic()
    ended = server.gql(f'mutation {{ terminate(id: "{instance_id}") {{ status error }} }}')["terminate"]
    assert ended["status"] == "TERMINATED"
    assert "did not stop within 1s of terminate and was killed" in ended["error"]
    wait_for(lambda: not pid_alive(pid), timeout=GRACE + KILL_AFTER + SLACK, what="the stuck worker gone")
    assert time.monotonic() - began < GRACE + 2 * KILL_AFTER + SLACK


def test_a_worker_failed_for_silence_is_killed_after_the_grace(tmp_path):
    config = tmp_path / "zoo.yaml"
    text = (HERE / "hygiene_zoo.yaml").read_text().replace("../fixtures/", f"{HERE.parent / 'fixtures'}/")
    config.write_text(text.replace("workers:\n", "workers:\n  heartbeat_timeout: 3\n"))
    server = ServerProcess(config, tmp_path / "data")
    try:
        instance_id, pid = launch_hanging(server, stubborn=True)
        lookup = f'{{ instance(id: "{instance_id}") {{ status error }} }}'
        failed = wait_for(
            lambda: (i := server.gql(lookup)["instance"])["status"] == "FAILED" and i,
            timeout=3 + 1 + SLACK,  # the timeout, a liveness check (every timeout / 4), slack
            what="the silent instance FAILED",
        )
        assert "no heartbeat" in failed["error"]
        wait_for(lambda: not pid_alive(pid), timeout=GRACE + KILL_AFTER + SLACK, what="the stuck worker gone")
        error = wait_for(lambda: "was killed" in (e := server.gql(lookup)["instance"]["error"]) and e)
        assert "no heartbeat" in error and "did not stop within 1s and was killed" in error
        # A terminate of the FAILED instance changes nothing.
        assert server.gql(f'mutation {{ terminate(id: "{instance_id}") {{ status }} }}')["terminate"] == {
            "status": "FAILED"
        }
    finally:
        assert server.stop() == 0, server.log()


def test_kill_9_of_the_server_leaves_no_worker_and_no_fork_server_behind(tmp_path):
    server = ServerProcess(HERE / "hygiene_zoo.yaml", tmp_path / "data")
    try:
        _, stuck = launch_hanging(server, stubborn=True)
        normal = launch_running(server, {"model": "Counter", "environment": "CartPole"})
        running = worker_pid(server, normal["id"])
        below = descendants(server.process.pid)
        # The two workers, and the fork server they were forked from (and its resource tracker).
        assert {stuck, running} < below and len(below) >= 3, below
    finally:
        server.stop(signal.SIGKILL)
    wait_for(lambda: not any(pid_alive(pid) for pid in below), timeout=10, what="every process of the server gone")
