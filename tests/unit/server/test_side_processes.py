"""launch_etc commands start with the server and stop with it, children included."""

import time

from ainimal_zookeeper.server.side_processes import SideProcesses

from support import pid_alive


def test_side_processes_start_and_are_stopped_with_their_children(tmp_path):
    marker = tmp_path / "started"
    side = SideProcesses([f"touch {marker} && sleep 60 & wait", "exit 3"])
    side.start()
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()
    shell = side.processes[0]
    assert pid_alive(shell.pid)
    side.stop(grace_seconds=2)
    assert shell.poll() is not None and not pid_alive(shell.pid)
