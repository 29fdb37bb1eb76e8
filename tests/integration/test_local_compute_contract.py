"""LocalProcessCompute passes the ComputeProvider contract with real worker processes.

Each worker hosts the counting test agent on CartPole and talks to a real local bus; it ends
by itself when sent Terminate (exit code 0) and dies when killed (SIGKILL, code -9).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ainimal_zookeeper.adapters.local.process_compute import LocalProcessCompute
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub
from ainimal_zookeeper.bootstrap.ports import WORKER_ENTRY
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.ports.compute import WorkerSpec

from contracts.compute import ComputeContract

AGENTS = str(Path(__file__).resolve().parents[1] / "fixtures" / "agents.py")


class TestLocalProcessCompute(ComputeContract):
    report_timeout = 10.0

    @pytest.fixture(autouse=True)
    def _bus(self, tmp_path):
        # Autouse, so it exists before the contract's `compute` fixture starts workers.
        self.hub = LocalBusHub()
        self.blobs_root = tmp_path / "blobs"
        yield
        self.hub.close()

    def make_compute(self):
        return LocalProcessCompute(WORKER_ENTRY)

    def make_spec(self, instance_id):
        return WorkerSpec(
            instance_id=instance_id,
            model={"name": "Counter", "type": "ainimal", "path": AGENTS, "class_name": "CountingAgent"},
            environment={"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"},
            init_params={},
            env_init_params={},
            mode="INFER",
            connection={
                "bus": self.hub.worker_connection(instance_id),
                "blobs": {"type": "local", "root": str(self.blobs_root)},
            },
            seed=1,
        )

    def finish(self, compute, instance_id):
        self.hub.send(cmd.Terminate(instance_id))

    def crash(self, compute, instance_id):
        os.kill(compute.pid(instance_id), signal.SIGKILL)
