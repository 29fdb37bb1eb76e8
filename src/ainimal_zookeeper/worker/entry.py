"""Start a worker from its spec: build the ports it was told to use, then run the loop."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from typing import Any

from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.lifeline import die_with_parent, watch_server
from ainimal_zookeeper.worker.log_capture import LogCapture
from ainimal_zookeeper.worker.runtime import WorkerRuntime


def run_worker_spec(spec_data: dict[str, Any], parent_pid: int | None = None) -> None:
    """Process target: run the instance described by `spec_data` until it ends.

    Exits the process with the runtime's code (0 terminated on request, 1 failed).
    """
    from ainimal_zookeeper.bootstrap import worker_ports
    from ainimal_zookeeper.bootstrap.ports import worker_log_outbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(process)d %(levelname)s %(message)s")
    # The control plane stops workers by command; a terminal's Ctrl-C is for the server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:  # started by a local server (containers have theirs stopped by the cluster)
        _die_with_server()
    spec = WorkerSpec(**spec_data)
    os.environ.setdefault("OMP_NUM_THREADS", str(spec.torch_threads))
    # Logs: captured before user code runs, published through an outbox of their own (log_capture.py).
    log_outbox = worker_log_outbox(spec.connection)
    capture = LogCapture(spec.instance_id, log_outbox).start()
    inbox, outbox, blobs = worker_ports(spec.connection, spec.instance_id)
    try:
        code = WorkerRuntime(spec, inbox, outbox, blobs, parent_pid=parent_pid).run()
    finally:
        capture.stop()  # after the runtime: a failure's traceback is among the last lines
        inbox.close()
        outbox.close()
        log_outbox.close()
    os._exit(code)  # skip the fork server's inherited atexit handlers


def _die_with_server() -> None:
    """End this worker when its server ends, even if it is stuck in user code (lifeline.py)."""
    # The parent is the fork server, which itself dies with the server.
    die_with_parent()
    server = multiprocessing.parent_process()  # the server, through a pipe it holds open
    if server is not None and server.sentinel is not None:
        watch_server(server.sentinel)
