"""Doorbell folders of hubs that died without closing them (kill -9) go when the next hub starts."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from ainimal_zookeeper.adapters.local.doorbell import Doorbells, remove_orphaned_folders

#: A hub in another process: prints its doorbell folder, then runs until it is killed.
HUB = """
import sys, time
from ainimal_zookeeper.adapters.local.doorbell import Doorbells
bells = Doorbells()
bells.path(b"worker-1")
print(bells.folder, flush=True)
time.sleep(600)
"""


def start_hub(temp: Path) -> tuple[subprocess.Popen, Path]:
    hub = subprocess.Popen(
        [sys.executable, "-c", HUB], stdout=subprocess.PIPE, text=True, env={"TMPDIR": str(temp), "PATH": ""}
    )
    assert hub.stdout is not None
    return hub, Path(hub.stdout.readline().strip())


def test_a_starting_hub_removes_the_folders_of_killed_hubs_and_keeps_the_running(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed, killed_folder = start_hub(tmp_path)
    running, running_folder = start_hub(tmp_path)
    older = tmp_path / "zk-doorbells-made-by-an-older-version"  # no lock file: left alone
    older.mkdir()
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert (killed_folder / "776f726b65722d31").exists(), "kill -9 left its folder behind"
        bells = Doorbells()
        try:
            assert not killed_folder.exists()
            assert running_folder.exists() and older.exists()
            assert bells.folder.parent == tmp_path and bells.folder.exists()
            assert remove_orphaned_folders() == [], "its own folder, and the running hub's, are claimed"
        finally:
            bells.close()
        assert not bells.folder.exists()
    finally:
        running.kill()
        running.wait()
        for hub in (killed, running):
            assert hub.stdout is not None
            hub.stdout.close()
