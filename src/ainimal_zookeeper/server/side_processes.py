"""`launch_etc`: other processes the operator wants running beside the server."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence

from ainimal_zookeeper.config import ZookeeperConfig, load_environment
from ainimal_zookeeper.server.secret_names import config_secrets, without_secrets
from ainimal_zookeeper.service.side_processes import SideProcessState, SideProcessStatus

log = logging.getLogger(__name__)


class SideProcesses:
    """Starts each configured command (through the shell, as the operator wrote it), reports
    one that ends by itself, and stops the whole process group of each when the server stops."""

    def __init__(
        self,
        commands: Sequence[str],
        env: Mapping[str, str] | None = None,
        shown: Sequence[str] | None = None,
        on_exit: Callable[[SideProcessState], None] | None = None,
    ) -> None:
        """
        Args:
            commands: the commands to run, as the shell gets them.
            env: the commands' environment (the server's when None).
            shown: how each command is reported (the config's text, before `${env.X}` is
                filled in, which may hold secrets); the commands themselves when None.
            on_exit: called (from a watcher thread) with the state of a command that ended.
        """
        self.commands = list(commands)
        self.shown = list(shown) if shown is not None else list(self.commands)
        if len(self.shown) != len(self.commands):
            raise ValueError("shown needs one text per command")
        self.env = dict(env) if env is not None else None
        self.on_exit = on_exit
        self.processes: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._states = [SideProcessState(text, "NOT_STARTED") for text in self.shown]
        self._stopping = False
        self._watchers: list[threading.Thread] = []

    def start(self) -> None:
        """Start every command; one that cannot start is logged, the others still start."""
        for index, command in enumerate(self.commands):
            try:
                # The config is the operator's own: its commands may use shell syntax ($VARS).
                process = subprocess.Popen(command, shell=True, start_new_session=True, env=self.env)
            except OSError as exc:
                log.error("launch_etc: could not start %r: %s", self.shown[index], exc)
                continue
            self.processes.append(process)
            self._set(index, "RUNNING", None)
            log.info("launch_etc: started %r (pid %d)", self.shown[index], process.pid)
            # A thread blocked in wait() learns of the exit at once, without polling.
            watcher = threading.Thread(
                target=self._watch, args=(index, process), name=f"zk-launch-etc-{index}", daemon=True
            )
            self._watchers.append(watcher)
            watcher.start()

    def states(self) -> list[SideProcessState]:
        """Each command's state, in the config's order."""
        with self._lock:
            return list(self._states)

    def wait_reported(self, timeout: float | None = None) -> bool:
        """Wait until every started command has ended and been reported; whether they all were."""
        for watcher in self._watchers:
            watcher.join(timeout)
        return not any(watcher.is_alive() for watcher in self._watchers)

    def stop(self, grace_seconds: float = 5.0) -> None:
        """Terminate each process group, killing what outlives the grace period."""
        with self._lock:
            self._stopping = True
        for process in self.processes:
            _signal_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(2)
        self.wait_reported(2)

    def _watch(self, index: int, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        with self._lock:
            stopped = self._stopping
        status: SideProcessStatus = "STOPPED" if stopped else "EXITED"
        state = self._set(index, status, code)
        if stopped:
            log.info("launch_etc: %r stopped (exit code %d)", self.shown[index], code)
        else:
            # It was meant to run as long as the server: say so, where the operator looks.
            log.warning("launch_etc: %r exited with code %d; it is not restarted", self.shown[index], code)
        if self.on_exit is not None:
            self.on_exit(state)

    def _set(self, index: int, status: SideProcessStatus, code: int | None) -> SideProcessState:
        state = SideProcessState(self.shown[index], status, code)
        with self._lock:
            self._states[index] = state
        return state


def side_process_environment(config: ZookeeperConfig) -> dict[str, str]:
    """What `launch_etc` commands run with: the variables `${env.X}` sees (the environment over
    `.env.local` beside the config and in the current folder) without the server's secrets."""
    providers, names, values = config_secrets(config)
    return without_secrets(load_environment(config.source_dir), providers, names, values)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
