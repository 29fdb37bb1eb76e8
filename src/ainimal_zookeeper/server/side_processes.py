"""`launch_etc`: other processes the operator wants running beside the server."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)


class SideProcesses:
    """Starts each configured command (through the shell, as the operator wrote it) and
    stops the whole process group of each when the server stops."""

    def __init__(self, commands: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        """`env`: the commands' environment (the server's when None)."""
        self.commands = list(commands)
        self.env = dict(env) if env is not None else None
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Start every command; one that cannot start is logged, the others still start."""
        for command in self.commands:
            try:
                # The config is the operator's own: its commands may use shell syntax ($VARS).
                self.processes.append(subprocess.Popen(command, shell=True, start_new_session=True, env=self.env))
                log.info("launch_etc: started %r", command)
            except OSError as exc:
                log.error("launch_etc: could not start %r: %s", command, exc)

    def stop(self, grace_seconds: float = 5.0) -> None:
        """Terminate each process group, killing what outlives the grace period."""
        for process in self.processes:
            _signal_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(2)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
