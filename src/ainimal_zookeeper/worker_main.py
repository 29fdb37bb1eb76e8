"""The worker's entry point: build the ports its spec names, then run the loop.

An entry point like `server`, outside the core: it is the one place a worker process wires
adapters (through `bootstrap`) to the runtime (`worker/`). Local workers run `run_worker_spec`
in a process the local compute provider forks (it is named to that provider by `bootstrap`);
containers run `python -m ainimal_zookeeper.worker_main` with the spec in ZK_WORKER_SPEC.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from typing import Any

from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.log_capture import LogCapture
from ainimal_zookeeper.worker.runtime import WorkerRuntime


def run_worker_spec(spec_data: dict[str, Any], parent_pid: int | None = None) -> None:
    """Process target: run the instance described by `spec_data` until it ends.

    `parent_pid`: the local server that started this worker (None in a container); the
    runtime stops when it is gone. Exits the process with the runtime's code (0 terminated
    on request, 1 failed).
    """
    # Imported here, not at module level: the fork server preloads this module, and a
    # worker needs only its ports from the composition root.
    from ainimal_zookeeper.bootstrap.ports import worker_log_outbox, worker_ports

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(process)d %(levelname)s %(message)s")
    # The control plane stops workers by command; a terminal's Ctrl-C is for the server.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def main() -> None:
    """Read the WorkerSpec JSON from the ZK_WORKER_SPEC environment variable and run it."""
    raw = os.environ.get("ZK_WORKER_SPEC")
    if not raw:
        sys.exit("ZK_WORKER_SPEC is not set: it must hold the worker's spec as JSON (set by the compute provider)")
    run_worker_spec(json.loads(raw))


if __name__ == "__main__":
    main()
