"""ComputeProvider on local worker processes, forked from a warm fork server.

A fresh interpreter per launch would pay the heavy imports (numpy, gymnasium, torch: about a
second) every time; the fork server imports them once and forks each worker from it, so a
launch reaches RUNNING in a fraction of that.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Sequence
from multiprocessing.process import BaseProcess

from ainimal_zookeeper.adapters.compute_support import ExitCallbacks
from ainimal_zookeeper.ports.compute import ExitCallback, WorkerSpec

log = logging.getLogger(__name__)

#: Imported once in the fork server so that every worker starts warm.
DEFAULT_PRELOAD = ("ainimal_zookeeper.worker.entry", "numpy", "gymnasium")


class LocalProcessCompute:
    """One worker process per instance, watched by a thread that reports exits."""

    def __init__(self, preload: Sequence[str] = DEFAULT_PRELOAD, threads_per_worker: int = 1) -> None:
        # Math libraries size their thread pools when first imported, which for workers is in
        # the fork server: set the limits before it starts (many threads per worker thrash).
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, str(threads_per_worker))
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(list(preload))
        self._processes: dict[str, BaseProcess] = {}
        self._lock = threading.Lock()
        self._exits = ExitCallbacks()
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        self._closing = False
        self._watcher = threading.Thread(target=self._watch, name="zk-compute-watch", daemon=True)
        self._watcher.start()

    def warm_up(self) -> None:
        """Start the fork server now (it imports the preload), rather than at first launch."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def start(self, spec: WorkerSpec) -> None:
        from ainimal_zookeeper.worker.entry import run_worker_spec

        process = self._ctx.Process(
            target=run_worker_spec,
            args=(spec.to_dict(), os.getpid()),
            name=f"zk-worker-{spec.instance_id}",
            daemon=True,
        )
        process.start()
        with self._lock:
            self._processes[spec.instance_id] = process
        self._wake_writer.send_bytes(b"new")

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        with self._lock:
            process = self._processes.get(instance_id)
        if process is None:
            return
        process.join(grace_seconds)
        if process.is_alive():
            log.warning("worker %s did not stop in %.1fs; terminating it", instance_id, grace_seconds)
            process.terminate()
            process.join(2)
        if process.is_alive():
            process.kill()
            process.join(2)

    def is_alive(self, instance_id: str) -> bool | None:
        with self._lock:
            process = self._processes.get(instance_id)
        # Workers die with the control plane, so one this provider never started is gone.
        return process is not None and process.is_alive()

    def pid(self, instance_id: str) -> int | None:
        """The worker's process id (for tests and diagnostics)."""
        with self._lock:
            process = self._processes.get(instance_id)
        return process.pid if process else None

    def on_exit(self, callback: ExitCallback) -> None:
        self._exits.register(callback)

    def close(self) -> None:
        self._closing = True
        with self._lock:
            processes = list(self._processes.items())
        for _, process in processes:
            if process.is_alive():
                process.terminate()
        for _, process in processes:
            process.join(3)
            if process.is_alive():
                process.kill()
        self._wake_writer.send_bytes(b"stop")
        self._watcher.join(timeout=2)

    def _watch(self) -> None:
        while not self._closing:
            with self._lock:
                by_sentinel = {p.sentinel: (i, p) for i, p in self._processes.items() if p.exitcode is None}
            ready = multiprocessing.connection.wait([self._wake_reader, *by_sentinel], timeout=1.0)
            for item in ready:
                if item is self._wake_reader:
                    self._wake_reader.recv_bytes()
                    continue
                instance_id, process = by_sentinel[item]  # type: ignore[index]
                process.join(0)
                self._report_exit(instance_id, process.exitcode)

    def _report_exit(self, instance_id: str, exitcode: int | None) -> None:
        if self._closing:
            return
        self._exits.fire(instance_id, exitcode)
