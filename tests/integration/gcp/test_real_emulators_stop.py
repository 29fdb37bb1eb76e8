"""`python local_emulator/emulators.py` leaves nothing running after SIGTERM (the java emulators included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO, pid_alive, wait_for


def descendants(pid: int) -> set[int]:
    """The live processes below `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state != "Z":
            parents[int(entry.name)] = int(parent)
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.slow
def test_sigterm_stops_every_emulator_and_all_their_processes():
    runner = subprocess.Popen(
        [sys.executable, str(REPO / "local_emulator" / "emulators.py")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert runner.stdout is not None
        for line in runner.stdout:  # one export per emulator, the project last: all are up
            if line.startswith("export GOOGLE_CLOUD_PROJECT="):
                break
        running = descendants(runner.pid)
        assert len(running) >= 3, running  # at least one process per emulator (java ones: more)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 0
        wait_for(lambda: not any(pid_alive(pid) for pid in running), timeout=15, what="every emulator process gone")
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()
