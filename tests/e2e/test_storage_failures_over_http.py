"""Storage failures over real HTTP: a clear STORAGE_ERROR, a server that keeps answering and
recovers, and a start-up that refuses storage it cannot write."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from support import REPO, ServerProcess, free_port

HERE = Path(__file__).parent
LAUNCH = 'mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id status } }'


def _limit_file_size(pid: int, limit: int) -> None:
    """Writes of `pid` past `limit` bytes fail with EFBIG from now on: the disk is "full"."""
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))


def test_a_full_disk_fails_launches_and_checkpoints_with_a_storage_error_the_server_keeps_answering_and_recovers(
    tmp_path,
):
    data = tmp_path / "data"
    server = ServerProcess(HERE / "zoo.yaml", data)
    try:
        first = server.gql(LAUNCH)["launch"]
        save = f'mutation {{ saveCheckpoint(id: "{first["id"]}", tag: "t") {{ id }} }}'
        # No regular file of the server may grow any more (its database and its write-ahead log).
        _limit_file_size(server.process.pid, 1)
        errors = server.errors(LAUNCH)
        assert [e["extensions"]["code"] for e in errors] == ["STORAGE_ERROR"], errors
        # SQLite reports a refused write (EFBIG, as ENOSPC) as an I/O error.
        assert "could not save the server's state: the storage had an I/O error" in errors[0]["message"]
        assert "sqlite" not in errors[0]["message"].lower() and str(data) not in errors[0]["message"]
        # Reads, the health check and other requests still answer.
        assert server.gql("{ __typename }") == {"__typename": "Query"}
        assert server.http.get("/healthz").status_code == 200
        assert first["id"] in [i["id"] for i in server.gql("{ instances { id } }")["instances"]]
        assert server.errors(LAUNCH)[0]["extensions"]["code"] == "STORAGE_ERROR"
        assert [e["extensions"]["code"] for e in server.errors(save)] == ["STORAGE_ERROR"]
        # The disk has room again: the same request works.
        _limit_file_size(server.process.pid, resource.RLIM_INFINITY)
        again = server.gql(LAUNCH)["launch"]
        assert again["status"] == "RUNNING"
        assert server.gql(save)["saveCheckpoint"]["id"]
        for instance in (first, again):
            server.gql(f'mutation {{ terminate(id: "{instance["id"]}") {{ status }} }}')
    finally:
        _limit_file_size(server.process.pid, resource.RLIM_INFINITY)
        assert server.stop() == 0, server.log()


def test_a_server_refuses_to_start_on_a_database_file_it_cannot_use_and_says_which(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "zookeeper.sqlite3-shm").mkdir()  # SQLite maps this file: a folder there is unusable
    args = [sys.executable, "-m", "ainimal_zookeeper.server", "--port", str(free_port()), "--data", str(data)]
    args += ["--config", str(HERE / "zoo.yaml")]
    done = subprocess.run(args, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "zookeeper.sqlite3-shm is not a regular file the server can read and write" in said, said
    assert "Traceback" not in said
