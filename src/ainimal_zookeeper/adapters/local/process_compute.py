"""ComputeProvider on local worker processes, forked from a warm fork server.

A fresh interpreter per launch would pay the heavy imports (numpy, gymnasium, torch: about a
second) every time; the fork server imports them once and forks each worker from it, so a
launch reaches RUNNING in a fraction of that.

Nothing outlives the server: the fork server is started from one thread that lives as long
as the process, and asks the kernel to kill it when its parent ends
(`fork_server_guard.py`); each worker dies with the fork server and watches the server
itself (`lifeline.py`). Nothing accumulates per launch: a worker's process object
(two pipe ends) is closed once its exit is reported.

What a worker process runs is given, not imported: the composition root names the worker's
entry point ("module:function"), which this provider preloads in the fork server and calls in
each worker with the spec and the server's pid.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from importlib import import_module
from multiprocessing.process import BaseProcess
from typing import Any

from ainimal_zookeeper.adapters.compute_support import ExitCallbacks
from ainimal_zookeeper.adapters.local.fork_server_guard import PARENT_VARIABLE
from ainimal_zookeeper.adapters.local.lifeline import die_with_parent, watch_server
from ainimal_zookeeper.adapters.local.worker_environment import spawn_fork_server_with, worker_environment
from ainimal_zookeeper.ports.compute import ExitCallback, WorkerSpec

log = logging.getLogger(__name__)

#: Imported once in the fork server so that every worker starts warm (the worker entry's module
#: too). The guard comes first: it ties the fork server to its server before the slow imports.
DEFAULT_PRELOAD = ("numpy", "gymnasium")
_GUARD = "ainimal_zookeeper.adapters.local.fork_server_guard"
#: How long a worker has to die after SIGTERM before it gets SIGKILL.
KILL_AFTER_SECONDS = 2.0


class _Worker:
    """A started worker process and whether its exit was seen."""

    __slots__ = ("ended", "pid", "process")

    def __init__(self, process: BaseProcess) -> None:
        self.process = process
        self.pid = process.pid
        self.ended = threading.Event()


class _ForkServerKeeper:
    """Starts the fork server from one thread that lives as long as this process.

    The kernel's parent-death signal fires when the thread that created a child ends, so the
    fork server must not be started from a request's thread (those come and go).
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[threading.Event, list[BaseException]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the fork server unless it runs; returns once it does."""
        with self._lock:
            if self._thread is None:
                os.environ[PARENT_VARIABLE] = str(os.getpid())
                self._thread = threading.Thread(target=self._serve, name="zk-fork-server", daemon=True)
                self._thread.start()
        done, errors = threading.Event(), list[BaseException]()
        self._requests.put((done, errors))
        done.wait()
        if errors:
            raise errors[0]

    def _serve(self) -> None:
        from multiprocessing import forkserver

        while True:
            done, errors = self._requests.get()
            try:
                forkserver.ensure_running()
            except BaseException as exc:  # noqa: BLE001  # handed to the caller
                errors.append(exc)
            finally:
                done.set()


#: One per process, like the fork server itself.
_KEEPER = _ForkServerKeeper()


class LocalProcessCompute:
    """One worker process per instance, watched by a thread that reports exits."""

    def __init__(
        self,
        worker_entry: str,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        threads_per_worker: int = 1,
        environment: Sequence[str] = (),
        cloud_credentials: bool = False,
    ) -> None:
        """`worker_entry`: what each worker process runs, as "module:function"; the function gets
        the spec (`WorkerSpec.to_dict()`) and this server's pid. `environment`: names passed to
        workers beyond the allow-list (worker_environment.py); `cloud_credentials`: pass Google
        credentials too (the workers' ports are on Google Cloud)."""
        self._entry = worker_entry
        entry_module = _entry_module(worker_entry)
        # Math libraries size their thread pools when first imported, which for workers is in
        # the fork server: set the limits before it starts (many threads per worker thrash).
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, str(threads_per_worker))
        # Workers get an allow-listed environment, read when the fork server is executed.
        extra = tuple(environment)
        spawn_fork_server_with(lambda: worker_environment(os.environ, extra, cloud_credentials))
        self._ctx = multiprocessing.get_context("forkserver")
        warm = [_GUARD, __name__, entry_module, *preload]
        self._ctx.set_forkserver_preload(list(dict.fromkeys(warm)))
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self._exits = ExitCallbacks()
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        self._closing = False
        self._silent = False
        self._watcher = threading.Thread(target=self._watch, name="zk-compute-watch", daemon=True)
        self._watcher.start()

    def warm_up(self) -> None:
        """Start the fork server now (it imports the preload), rather than at first launch."""
        _KEEPER.ensure_running()

    def start(self, spec: WorkerSpec) -> None:
        _KEEPER.ensure_running()  # so that Process.start finds it running (see _ForkServerKeeper)
        process = self._ctx.Process(
            target=_run_worker,
            args=(self._entry, spec.to_dict(), os.getpid()),
            name=f"zk-worker-{spec.instance_id}",
            daemon=True,
        )
        process.start()
        with self._lock:
            self._workers[spec.instance_id] = _Worker(process)
        self._wake_writer.send_bytes(b"new")

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        with self._lock:
            worker = self._workers.get(instance_id)
        if worker is None or worker.ended.wait(max(0.0, grace_seconds)):
            return
        log.warning("worker %s did not stop in %.1fs; terminating it", instance_id, grace_seconds)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if worker.ended.is_set():
                return
            try:
                os.kill(worker.pid, sig)  # type: ignore[arg-type]  # set once started
            except ProcessLookupError:
                pass  # ended; the watcher reports it
            if worker.ended.wait(KILL_AFTER_SECONDS):
                return
        log.error("worker %s (pid %s) did not end after SIGKILL", instance_id, worker.pid)

    def is_alive(self, instance_id: str) -> bool | None:
        with self._lock:
            worker = self._workers.get(instance_id)
        # Workers die with the control plane, so one this provider never started is gone.
        return worker is not None and not worker.ended.is_set()

    def pid(self, instance_id: str) -> int | None:
        """The worker's process id (for tests and diagnostics); None once it ended."""
        with self._lock:
            worker = self._workers.get(instance_id)
        return worker.pid if worker and not worker.ended.is_set() else None

    def on_exit(self, callback: ExitCallback) -> None:
        self._exits.register(callback)

    def close(self) -> None:
        # Exits from here on are this close's doing: not reported (the service stopped its
        # instances before, or the process is going away).
        self._silent = True
        with self._lock:
            workers = list(self._workers.items())
        for _, worker in workers:
            if not worker.ended.is_set():
                _signal(worker, signal.SIGTERM)
        for instance_id, worker in workers:
            if not worker.ended.wait(3):
                log.warning("worker %s did not end on SIGTERM; killing it", instance_id)
                _signal(worker, signal.SIGKILL)
                worker.ended.wait(KILL_AFTER_SECONDS)
        self._closing = True
        self._wake_writer.send_bytes(b"stop")
        self._watcher.join(timeout=2)
        if not self._watcher.is_alive():
            self._wake_reader.close()
            self._wake_writer.close()

    def _watch(self) -> None:
        while not self._closing:
            with self._lock:
                by_sentinel = {w.process.sentinel: (i, w) for i, w in self._workers.items() if not w.ended.is_set()}
            ready = multiprocessing.connection.wait([self._wake_reader, *by_sentinel], timeout=1.0)
            for item in ready:
                if item is self._wake_reader:
                    self._wake_reader.recv_bytes()
                    continue
                instance_id, worker = by_sentinel[item]  # type: ignore[index]
                self._ended(instance_id, worker)

    def _ended(self, instance_id: str, worker: _Worker) -> None:
        """Report a worker's exit, then forget it and close its process object (its pipes)."""
        worker.process.join(0)
        exitcode = worker.process.exitcode
        worker.ended.set()
        with self._lock:
            if self._workers.get(instance_id) is worker:
                del self._workers[instance_id]
        try:
            worker.process.close()
        except ValueError:  # not ended after all (cannot happen once the sentinel fired)
            log.warning("worker %s: process object not closed", instance_id)
        if not self._silent:
            self._exits.fire(instance_id, exitcode)


def _signal(worker: _Worker, sig: int) -> None:
    try:
        os.kill(worker.pid, sig)  # type: ignore[arg-type]  # set once started
    except ProcessLookupError:
        pass


def _entry_module(entry: str) -> str:
    """The module of a "module:function" entry, checked for form (it is imported in the workers)."""
    module, colon, function = entry.partition(":")
    if not colon or not module or not function.isidentifier():
        raise ValueError(f"worker_entry must be 'module:function', got {entry!r}")
    return module


def _run_worker(entry: str, spec_data: dict[str, Any], server_pid: int) -> None:
    """Worker process target: tie this process to its fork server and server, then run `entry`."""
    _die_with_server()
    module, _, function = entry.partition(":")
    run: Callable[[dict[str, Any], int | None], None] = getattr(import_module(module), function)
    run(spec_data, server_pid)


def _die_with_server() -> None:
    """End this worker when its server ends, even if it is stuck in user code (lifeline.py)."""
    # The parent is the fork server, which itself dies with the server.
    die_with_parent()
    server = multiprocessing.parent_process()  # the server, through a pipe it holds open
    if server is not None and server.sentinel is not None:
        watch_server(server.sentinel)
