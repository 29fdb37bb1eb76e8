"""Worker entry for containers: `python -m ainimal_zookeeper.worker` with the spec in ZK_WORKER_SPEC."""

from __future__ import annotations

import json
import os
import sys

from ainimal_zookeeper.worker.entry import run_worker_spec


def main() -> None:
    """Read the WorkerSpec JSON from the ZK_WORKER_SPEC environment variable and run it."""
    raw = os.environ.get("ZK_WORKER_SPEC")
    if not raw:
        sys.exit("ZK_WORKER_SPEC is not set: it must hold the worker's spec as JSON (set by the compute provider)")
    run_worker_spec(json.loads(raw))


if __name__ == "__main__":
    main()
