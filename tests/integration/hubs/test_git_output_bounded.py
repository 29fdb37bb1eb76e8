"""What git prints is bounded: a remote cannot fill the server's memory through git's output.

Real processes throughout: `sh` standing in for a git that prints without end, and real git
against a bare repository that advertises thousands of refs matching the pattern asked for.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ainimal_zookeeper.adapters.hubs.git_process import STDERR_TAIL_BYTES, Finished, run_bounded
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient
from ainimal_zookeeper.errors import Unavailable
from hub_support import MODEL_FILES, make_git_repo


def sh(script: str, allowed: float = 20.0, **settings: Any) -> Finished:
    """Run `script` as a bounded git would be run, with `allowed` seconds."""
    deadline = time.monotonic() + allowed
    return run_bounded(
        ["sh", "-c", script], cwd=None, env=dict(os.environ), deadline=deadline, allowed=20.0, what="test", **settings
    )


def test_only_the_end_of_a_flood_of_error_output_is_kept():
    # 20 MB of error lines, then the line that says what went wrong.
    done = sh("yes 'remote: noise' | head -c 20000000 >&2; echo 'fatal: the reason' >&2; exit 3")
    assert done.returncode == 3
    assert len(done.stderr_tail) == STDERR_TAIL_BYTES
    assert done.stderr_tail.endswith(b"fatal: the reason\n")


def test_output_past_the_bound_stops_the_process_and_is_refused():
    # `yes` prints without end: refused for its output, not for the deadline it would reach.
    with pytest.raises(Unavailable, match="test: git printed more than 65536 bytes; refused"):
        sh("exec yes", max_stdout=65536)


def test_a_process_past_its_deadline_is_stopped_and_the_message_gives_the_limit():
    with pytest.raises(Unavailable, match="test: git did not finish within 20 s"):
        sh("exec sleep 60", allowed=0.3)


def test_a_tick_that_raises_stops_the_process():
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(time.monotonic())
        if len(ticks) == 3:
            raise Unavailable("too large")

    with pytest.raises(Unavailable, match="too large"):
        sh("exec sleep 60", on_tick=tick, tick_seconds=0.05)
    assert len(ticks) == 3


def test_ls_remote_of_a_remote_advertising_thousands_of_matching_refs_is_refused(tmp_path: Path):
    url, commit = make_git_repo(tmp_path / "remote", "zoo", MODEL_FILES)
    bare = Path(url.removeprefix("file://"))
    refs = "".join(f"create refs/heads/n{i}/HEAD {commit}\n" for i in range(3000))
    subprocess.run(["git", "update-ref", "--stdin"], cwd=bare, input=refs.encode(), check=True)
    git = GitClient(max_output=64 * 1024)
    with pytest.raises(Unavailable, match="model hub test: git printed more than 65536 bytes; refused"):
        git.resolve(url, "HEAD", "model hub test")
    # The same remote asked for one branch answers within the bound.
    assert git.resolve(url, "main", "model hub test") == commit
