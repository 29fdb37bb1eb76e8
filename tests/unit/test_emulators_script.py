"""local_emulator/emulators.py stops its emulators, children included, on SIGTERM and SIGINT.

The real emulators take seconds to start (tests/integration/gcp/test_real_emulators_stop.py runs
them); here a stand-in plays one: a process (its group's leader) that starts a grandchild,
as the emulators' shell scripts start java.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support import REPO, pid_alive, wait_for

STAND_IN = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(sys.argv[1], "w").write(f"{child.pid}")
    print("ready", flush=True)
    time.sleep(600)
    """
)


def script(pid_file: Path) -> str:
    start = f"emulators._start('standin', [sys.executable, '-c', {STAND_IN!r}, {str(pid_file)!r}], b'ready', {{'STANDIN': '1'}})"
    return textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO / "local_emulator")!r})
        import emulators
        emulators.run_until_signalled([lambda: {start}])
        """
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_every_emulator_and_its_children(tmp_path, sig):
    pid_file = tmp_path / "grandchild.pid"
    runner = subprocess.Popen([sys.executable, "-c", script(pid_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None
        printed = [runner.stdout.readline() for _ in range(2)]
        assert printed == ["export STANDIN=1\n", "export GOOGLE_CLOUD_PROJECT=ainimal-zookeeper-local\n"]
        grandchild = int(pid_file.read_text())
        emulator = next(
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent(entry) == runner.pid
        )
        assert pid_alive(grandchild) and pid_alive(emulator)
        runner.send_signal(sig)
        assert runner.wait(30) == 0
        wait_for(lambda: not pid_alive(emulator) and not pid_alive(grandchild), timeout=10, what="all gone")
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None
