"""InMemoryCompute: a ComputeProvider that starts nothing; the test plays the workers.

It keeps every spec it was given (`specs`, `spec(id)`) and every stop asked (`stops`); a test
ends a worker with `exit(id, code)` (it ended by itself) or `kill(id)` (it died), and exits are
reported to the `on_exit` callbacks once, in the caller's thread. A worker asked to stop ignores
the request unless `obey_stop` (or the test ends it meanwhile): after `grace_seconds` on the
clock it is killed, reported with code -15 (SIGTERM), as the local provider's would be.
"""

from __future__ import annotations

import logging
import signal
import threading

from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.ports.compute import ExitCallback, WorkerSpec

log = logging.getLogger(__name__)

#: The code a worker killed by its provider is reported with (a signal, negated, as Popen does).
KILLED = -int(signal.SIGTERM)


class InMemoryCompute:
    """Implements `ComputeProvider` with pretend workers a test starts, ends and kills."""

    def __init__(self, clock: Clock | None = None, obey_stop: bool = False) -> None:
        self.clock = clock or SYSTEM_CLOCK
        #: When True a worker asked to stop ends at once with code 0, as a healthy worker does.
        self.obey_stop = obey_stop
        self.specs: list[WorkerSpec] = []
        self.stops: list[tuple[str, float]] = []
        self._running: dict[str, threading.Event] = {}
        self._callbacks: list[ExitCallback] = []
        self._lock = threading.Lock()
        self._silent = False

    # ComputeProvider
    def start(self, spec: WorkerSpec) -> None:
        with self._lock:
            self.specs.append(spec)
            self._running[spec.instance_id] = threading.Event()

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        with self._lock:
            self.stops.append((instance_id, grace_seconds))
            ended = self._running.get(instance_id)
        if ended is None or ended.is_set():
            return
        if self.obey_stop:
            self.exit(instance_id, 0)
            return
        if not self.clock.wait(ended, max(0.0, grace_seconds)):
            self._end(instance_id, KILLED)

    def is_alive(self, instance_id: str) -> bool | None:
        with self._lock:
            return instance_id in self._running

    def on_exit(self, callback: ExitCallback) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def close(self) -> None:
        # Like the local provider: workers ended by the close are not reported.
        self._silent = True
        with self._lock:
            running = list(self._running)
        for instance_id in running:
            self._end(instance_id, KILLED)

    # the test's side: what the worker does
    def exit(self, instance_id: str, code: int | None = 0) -> None:
        """The worker ends by itself with `code` (0: success); reported to the exit callbacks."""
        self._end(instance_id, code)

    def kill(self, instance_id: str, code: int = -int(signal.SIGKILL)) -> None:
        """The worker dies (by default of SIGKILL, code -9)."""
        self._end(instance_id, code)

    def spec(self, instance_id: str) -> WorkerSpec:
        """The last spec started for `instance_id` (KeyError when never started)."""
        with self._lock:
            for spec in reversed(self.specs):
                if spec.instance_id == instance_id:
                    return spec
        raise KeyError(f"no worker was started for {instance_id!r}")

    def running(self) -> list[str]:
        """The instances whose worker runs now, sorted."""
        with self._lock:
            return sorted(self._running)

    def _end(self, instance_id: str, code: int | None) -> None:
        with self._lock:
            ended = self._running.pop(instance_id, None)
            callbacks = list(self._callbacks)
        if ended is None:
            return  # never started, or already ended: reported once
        ended.set()
        if self._silent:
            return
        for callback in callbacks:
            try:
                callback(instance_id, code)
            except Exception:  # like the real providers: a failing callback stops nothing
                log.exception("exit callback failed for %s", instance_id)
