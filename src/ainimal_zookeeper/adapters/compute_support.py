"""Pieces every ComputeProvider shares: exit callbacks, and names that fit cloud limits."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable

from ainimal_zookeeper.ports.compute import ExitCallback

log = logging.getLogger(__name__)


class ExitCallbacks:
    """The callbacks registered through `on_exit`; a failing one never stops a watcher."""

    def __init__(self) -> None:
        self._callbacks: list[ExitCallback] = []

    def register(self, callback: ExitCallback) -> None:
        """Call `callback` for every worker that ends from now on."""
        self._callbacks.append(callback)

    def fire(self, instance_id: str, code: int | None) -> None:
        """Tell every callback that the worker of `instance_id` ended with `code`."""
        for callback in list(self._callbacks):
            try:
                callback(instance_id, code)
            except Exception:  # a failing callback must not stop the watcher
                log.exception("exit callback failed for %s", instance_id)


def fit_name(value: str, allowed: str, prefix: str = "", lower: bool = False, strip: str = "-_.") -> str:
    """`prefix + value` cleaned to `allowed` characters and 63 chars, hashed when anything changed."""
    cleaned = re.sub(f"[^{allowed}]+", "-", value.lower() if lower else value).strip(strip)
    fitted = prefix + cleaned
    if cleaned == value and len(fitted) <= 63:
        return fitted
    # Cleaning or cutting could map two ids onto one name: a hash of the original keeps them apart.
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{fitted[: 63 - 9].rstrip(strip)}-{digest}".lstrip("-")


class JobTracker:
    """The workers a cloud provider started, and a thread that polls for the ones that ended.

    `poll(tracked)` returns {instance_id: exit code, or None when unknown} for the tracked
    instances whose job has ended or vanished; each is reported once to the exit callbacks.
    """

    def __init__(self, poll: Callable[[set[str]], dict[str, int | None]], interval: float, name: str) -> None:
        self.exits = ExitCallbacks()
        self._poll, self._interval = poll, interval
        self._tracked: set[str] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def track(self, instance_id: str) -> None:
        """Watch `instance_id` from now on."""
        with self._lock:
            self._tracked.add(instance_id)

    @property
    def closing(self) -> bool:
        """Whether `close` was called (a long poll may stop early)."""
        return self._closing.is_set()

    def close(self, timeout: float) -> None:
        """Stop polling; the jobs themselves are left alone."""
        self._closing.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._closing.wait(self._interval):
            with self._lock:
                # Taken before polling, so that a job started meanwhile is not taken for a vanished one.
                tracked = set(self._tracked)
            if not tracked:
                continue
            try:
                ended = self._poll(tracked)
            except Exception:  # the watcher must survive anything a poll raises
                log.exception("polling the worker jobs failed")
                continue
            for instance_id, code in sorted(ended.items()):
                with self._lock:
                    if instance_id not in self._tracked:
                        continue
                    self._tracked.discard(instance_id)
                if not self._closing.is_set():
                    self.exits.fire(instance_id, code)


def wait_while_alive(
    is_alive: Callable[[str], bool | None], instance_id: str, grace_seconds: float, step: float
) -> None:
    """Give a worker asked to stop `grace_seconds` to do so, checking every `step` seconds."""
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and is_alive(instance_id):
        time.sleep(min(step, max(0.0, deadline - time.monotonic())))
