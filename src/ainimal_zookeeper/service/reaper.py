"""The reaper: an ended instance's worker is gone within a grace period, killed if need be.

A worker stuck in user code (a `forward` that never returns) does not read its commands: it
neither stops on `terminate` nor sends heartbeats. Once its instance has ended (terminated,
or FAILED by the liveness watch) the worker gets `grace` seconds to stop by itself; then
the compute provider stops it (locally SIGTERM, then SIGKILL) and the instance's error says so.
One thread serves every instance, whatever their number.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

from ainimal_zookeeper.ports.compute import ComputeProvider

log = logging.getLogger(__name__)

#: Called with the instance id after its worker had to be killed.
KilledCallback = Callable[[str], None]


class WorkerReaper:
    """Stops the workers of ended instances that outstay `grace` seconds."""

    def __init__(
        self,
        compute: ComputeProvider,
        grace: float,
        on_killed: KilledCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        """`background=False`: no thread of its own; the caller runs `run_due` (tests on a clock)."""
        self.compute, self.grace, self.on_killed = compute, grace, on_killed
        self._background = background
        self._clock = clock
        self._due: list[tuple[float, str]] = []
        self._scheduled: set[str] = set()
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def reap(self, instance_id: str, grace: float | None = None) -> None:
        """Make sure the worker of `instance_id` is gone `grace` seconds from now (default: the reaper's)."""
        with self._wake:
            if self._closed or instance_id in self._scheduled:
                return
            self._scheduled.add(instance_id)
            heapq.heappush(self._due, (self._clock() + (self.grace if grace is None else grace), instance_id))
            if self._thread is None and self._background:
                self._thread = threading.Thread(target=self._run, name="zk-reaper", daemon=True)
                self._thread.start()
            self._wake.notify()

    def pending(self) -> int:
        """How many workers are waited for."""
        with self._wake:
            return len(self._due)

    def close(self) -> None:
        """Stop reaping (the workers left are the compute provider's to stop)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def run_due(self) -> list[str]:
        """Stop the workers whose grace is over now; returns the ids of those that were killed."""
        killed = []
        while (instance_id := self._next_due()) is not None:
            if self._stop(instance_id):
                killed.append(instance_id)
        return killed

    def _next_due(self) -> str | None:
        with self._wake:
            if not self._due or self._due[0][0] > self._clock():
                return None
            _, instance_id = heapq.heappop(self._due)
            self._scheduled.discard(instance_id)
            return instance_id

    def _stop(self, instance_id: str) -> bool:
        try:
            if self.compute.is_alive(instance_id) is False:
                return False  # stopped by itself, as it should
            log.warning("worker of %s did not stop within %.1fs; stopping it", instance_id, self.grace)
            self.compute.stop(instance_id, grace_seconds=0)
        except Exception:  # a provider hiccup must not end the reaper
            log.exception("could not stop the worker of %s", instance_id)
            return False
        if self.on_killed is not None:
            try:
                self.on_killed(instance_id)
            except Exception:
                log.exception("killed-worker callback failed for %s", instance_id)
        return True

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._closed:
                    return
                wait = self._due[0][0] - self._clock() if self._due else None
                if wait is None or wait > 0:
                    self._wake.wait(wait)
                    continue
            self.run_due()
