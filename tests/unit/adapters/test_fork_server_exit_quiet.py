"""The fork server and resource tracker that the local compute starts (through the environment
scrubber, with a Popen kept for each) end with their parent without a "still running" warning."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import multiprocessing.forkserver, os
from ainimal_zookeeper.adapters.local.worker_environment import spawn_fork_server_with
spawn_fork_server_with(lambda: dict(os.environ))
multiprocessing.forkserver.ensure_running()
print("started")
# What interpreter exit does, in an order that shows it: exit handlers run, then the module's
# list of kept Popen objects is freed while the fork server (which ends with us) still runs.
import atexit, gc
from ainimal_zookeeper.adapters.local import worker_environment
atexit._run_exitfuncs()
worker_environment._KEPT.clear()
gc.collect()
"""


def test_a_process_that_started_the_fork_server_exits_without_a_resource_warning():
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", PROGRAM], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"
    assert "ResourceWarning" not in result.stderr, result.stderr
