"""Liveness: instances whose worker stopped reporting are marked FAILED, never left RUNNING.

Workers send progress (their heartbeat) four times a second. A worker that died without a
word (a pod evicted, a machine lost) is found here; the local compute provider also reports
process exits directly, so locally this is the safety net, in the cloud the main mechanism.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ainimal_zookeeper.domain.instance import ACTIVE_STATUSES, InstanceStatus
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.records import INSTANCES, Instance, now_iso
from ainimal_zookeeper.service.repository import read_all

log = logging.getLogger(__name__)

#: The stored values of the statuses a live worker is expected to report from.
_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)


def fail_silent_instances(documents: DocumentStore, max_silence: float, now: float | None = None) -> list[str]:
    """Mark FAILED each active instance with no heartbeat for `max_silence` seconds.

    An instance that never reported counts from its creation, so one whose worker never
    started is caught too. Returns the ids marked.
    """
    now = time.time() if now is None else now
    marked = []
    # Read as records: a heartbeat stored as something else than a number reads as none (the
    # instance then counts from its creation) instead of failing the check of every instance.
    for instance in read_all(
        documents.find(INSTANCES, [("status", "in", _ACTIVE)]), Instance.from_document, "instance"
    ):
        last = instance.last_heartbeat or instance.created_epoch or now
        if now - last <= max_silence:
            continue

        def fail(store: DocumentStore, instance_id: str = instance.id, silent: float = now - last) -> bool:
            current = store.get(INSTANCES, instance_id)
            if current is None or current["status"] not in _ACTIVE:
                return False
            error = f"no heartbeat from its worker for {silent:.0f}s: the worker is presumed lost"
            fields = {"status": InstanceStatus.FAILED.value, "error": error, "endedAt": now_iso()}
            store.update(INSTANCES, instance_id, fields)
            return True

        if documents.run_in_transaction(fail):
            marked.append(instance.id)
    return marked


class LivenessWatch:
    """A thread that runs `fail_silent_instances` every `interval` seconds."""

    def __init__(
        self,
        documents: DocumentStore,
        notifier: Notifier,
        max_silence: float = 30.0,
        interval: float = 5.0,
        on_failed: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`clock`: where the intervals and heartbeat ages are measured (a test's FakeClock)."""
        self.documents, self.notifier = documents, notifier
        self.clock = clock or SYSTEM_CLOCK
        self.max_silence, self.interval = max_silence, interval
        # Told each instance marked FAILED: its worker may still run (stuck), to be stopped.
        self.on_failed = on_failed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zk-liveness", daemon=True)

    def start(self) -> None:
        """Begin watching."""
        self._thread.start()

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 1)

    def _run(self) -> None:
        while not self.clock.wait(self._stop, self.interval):
            try:
                marked = fail_silent_instances(self.documents, self.max_silence, now=self.clock.time())
            except Exception:  # a store hiccup must not end the watch
                log.exception("liveness check failed")
                continue
            if marked:
                log.warning("no heartbeat: marked FAILED %s", ", ".join(marked))
                self.notifier.notify()
            for instance_id in marked:
                if self.on_failed is not None:
                    try:
                        self.on_failed(instance_id)
                    except Exception:  # one instance's cleanup must not end the watch
                        log.exception("stopping the worker of %s failed", instance_id)
