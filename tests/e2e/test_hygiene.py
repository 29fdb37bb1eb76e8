"""End to end: a server left running does not leak, and no worker outlives its welcome.

The grace periods are short by configuration (hygiene_zoo.yaml: `workers.stop_grace_seconds: 1`);
the hanging model loops forever in `forward`, and when stubborn also ignores SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pytest

from support import ServerProcess, launch_running, pid_alive, terminate, wait_for

HERE = Path(__file__).parent
GRACE = 1.0  # hygiene_zoo.yaml's workers.stop_grace_seconds
KILL_AFTER = 2.0  # LocalProcessCompute: SIGTERM, then SIGKILL after this long
SLACK = 4.0  # a loaded machine: scheduling, polls


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("zk") / "data"
    srv = ServerProcess(HERE / "hygiene_zoo.yaml", data)
    srv.data_dir = data  # type: ignore[attr-defined]
    yield srv
    assert srv.stop() == 0, srv.log()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


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


def test_fifty_launch_terminate_cycles_leave_the_servers_fds_threads_and_memory_flat(server):
    pid = server.process.pid

    def cycles(count: int) -> None:
        for _ in range(count):
            instance = launch_running(server, {"model": "Counter", "environment": "CartPole"})
            # The same query text each time, as a client sends it (each new text is parsed and cached).
            server.gql("mutation($id: ID!) { terminate(id: $id) { status } }", {"id": instance["id"]})

    cycles(10)  # warm: the fork server, thread pools and connections exist from here on
    fds, tasks, memory = open_fds(pid), threads(pid), rss_kib(pid)
    cycles(40)
    # A leak grows with the cycles (it was two pipes each: +80 here); allow a little noise.
    assert open_fds(pid) - fds <= 6, (fds, open_fds(pid), sorted(os.listdir(f"/proc/{pid}/fd")))
    assert threads(pid) - tasks <= 3, (tasks, threads(pid))
    assert rss_kib(pid) - memory < 8 * 1024, (memory, rss_kib(pid))  # under 200 kB a launch
    # No worker is left: only the fork server (and multiprocessing's resource tracker) remain.
    # The last worker may still be on its way out (it publishes TERMINATED, then its last log lines).
    wait_for(lambda: len(descendants(pid)) <= 2, timeout=10, what=f"no worker left (descendants {descendants(pid)})")


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
    config.write_text(text.replace("recording_retry_seconds: 3", "heartbeat_timeout: 3"))
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


# Recordings through a storage outage. Tests run as root, for whom chmod does not stop writes:
# the recording's folder is made immutable instead (chattr +i, which binds root too).

RECORDING_FIELDS = "id status steps chunks error cutShort downloadUrl minariUrl"
RETRY = 3.0  # hygiene_zoo.yaml's workers.recording_retry_seconds


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """Nothing can be created in `folder` while inside."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a folder unwritable for root here (chattr +i: {made.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def recording(server: ServerProcess, recording_id: str) -> dict:
    return server.gql(f'{{ recording(id: "{recording_id}") {{ {RECORDING_FIELDS} }} }}')["recording"]


def start_recording(server: ServerProcess) -> tuple[str, dict]:
    instance = launch_running(server, {"model": "Counter", "environment": "CartPole"})
    started = server.gql(f'mutation {{ startRecording(id: "{instance["id"]}") {{ {RECORDING_FIELDS} }} }}')
    return instance["id"], started["startRecording"]


def chunks_on_disk(server: ServerProcess, recording_id: str) -> list[Path]:
    return sorted((server.data_dir / "blobs" / "recordings" / recording_id).glob("chunk-*.arrow"))  # type: ignore[attr-defined]


def download(server: ServerProcess, url: str) -> pa.Table:
    response = server.http.get(url)
    assert response.status_code == 200, response.text
    return pa.ipc.open_stream(response.content).read_all()


def test_a_recording_rides_out_a_short_storage_outage_and_loses_nothing(server):
    instance_id, started = start_recording(server)
    folder = server.data_dir / "blobs" / "recordings" / started["id"]  # type: ignore[attr-defined]
    wait_for(lambda: recording(server, started["id"])["chunks"] >= 2, what="two chunks")
    with unwritable(folder):
        time.sleep(RETRY / 2)  # a chunk is due every second: at least one write fails meanwhile
    assert f"of recording {started['id']} not stored" in server.log()  # and is retried
    counted = recording(server, started["id"])["chunks"]
    wait_for(lambda: recording(server, started["id"])["chunks"] >= counted + 2, what="chunks after the outage")
    stopped = server.gql(f'mutation {{ stopRecording(recording: "{started["id"]}") {{ {RECORDING_FIELDS} }} }}')
    stopped = stopped["stopRecording"]
    assert stopped["status"] == "complete" and stopped["error"] is None
    assert stopped["chunks"] == len(chunks_on_disk(server, started["id"]))
    table = download(server, stopped["downloadUrl"])
    steps = table.column("step").to_pylist()
    assert table.num_rows == stopped["steps"] and steps == list(range(steps[0], steps[0] + len(steps)))
    terminate(server, instance_id)


def test_a_recording_that_cannot_store_a_chunk_fails_with_the_error_and_serves_what_was_stored(server):
    instance_id, started = start_recording(server)
    folder = server.data_dir / "blobs" / "recordings" / started["id"]  # type: ignore[attr-defined]
    wait_for(lambda: recording(server, started["id"])["chunks"] >= 2, what="two chunks")
    with unwritable(folder):
        failed = wait_for(
            lambda: (r := recording(server, started["id"]))["status"] != "recording" and r,
            timeout=RETRY + SLACK + 2,
            what="the recording to give up",
        )
    assert failed["status"] == "failed" and "could not be written" in failed["error"]
    assert "not stored after retrying for 3s" in failed["error"]
    # The count is what is stored, and both downloads serve it.
    on_disk = chunks_on_disk(server, started["id"])
    assert failed["chunks"] == len(on_disk) >= 2
    table = download(server, failed["downloadUrl"])
    assert table.num_rows == failed["steps"] > 0
    assert server.http.get(failed["minariUrl"]).status_code == 200
    # The instance runs on.
    assert server.gql(f'{{ instance(id: "{instance_id}") {{ status }} }}')["instance"]["status"] == "RUNNING"
    # A chunk lost afterwards is skipped, not the whole download; with none left: 404.
    first_rows = pa.ipc.open_stream(on_disk[0].read_bytes()).read_all().num_rows
    on_disk[0].unlink()
    assert download(server, failed["downloadUrl"]).num_rows == failed["steps"] - first_rows
    for chunk in on_disk[1:]:
        chunk.unlink()
    assert server.http.get(failed["downloadUrl"]).status_code == 404
    assert server.http.get(failed["minariUrl"]).status_code == 404
    terminate(server, instance_id)


def test_a_server_stopped_with_sigterm_stops_a_stuck_worker_too(tmp_path):
    server = ServerProcess(HERE / "hygiene_zoo.yaml", tmp_path / "data")
    _, stuck = launch_hanging(server, stubborn=True)
    below = descendants(server.process.pid)
    began = time.monotonic()
    assert server.stop(signal.SIGTERM) == 0, server.log()
    # Its grace, then SIGTERM (ignored) and SIGKILL: well before the test's patience ends.
    assert time.monotonic() - began < GRACE + 3 + KILL_AFTER + SLACK * 2
    assert not pid_alive(stuck)
    wait_for(lambda: not any(pid_alive(pid) for pid in below), timeout=10, what="every process of the server gone")
