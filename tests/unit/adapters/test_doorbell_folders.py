"""Doorbell folders of hubs that died without closing them (kill -9) go when the next hub starts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from ainimal_zookeeper.adapters.local.doorbell import Doorbells, remove_orphaned_folders


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_starting_hub_removes_the_folders_of_dead_hubs_and_keeps_the_living(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    orphan = tmp_path / f"zk-doorbells-{dead_pid()}-abc123"
    orphan.mkdir()
    (orphan / "00ff").write_bytes(bytes(8))
    alive = tmp_path / f"zk-doorbells-{os.getppid()}-def456"  # a running process's
    alive.mkdir()
    unrelated = tmp_path / "zk-doorbells-notapid"  # not this format: left alone
    unrelated.mkdir()
    bells = Doorbells()
    try:
        assert not orphan.exists()
        assert alive.exists() and unrelated.exists()
        assert bells.folder.parent == tmp_path and bells.folder.exists()
        assert bells.folder.name.startswith(f"zk-doorbells-{os.getpid()}-")
        assert remove_orphaned_folders() == [], "its own folder is a living hub's"
    finally:
        bells.close()
    assert not bells.folder.exists()
