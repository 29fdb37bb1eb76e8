"""GkeCompute passes the ComputeProvider contract against kmock (a Kubernetes API stand-in).

kmock runs no controllers, so no pod ever runs: here a worker is its Job. It is alive while
the Job exists without a final status; it "ends by itself" when the test writes the status
the Job controller would (Complete: code 0; Failed: code 1); a stop that outlives its grace
deletes the Job (reported with code None: the provider cannot know how a deleted Job ended).

The contract suite is synchronous, so kmock serves from its own thread and event loop here
(the async tests in test_gke_compute.py run it on the test's loop instead).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import kmock as km
import pytest
from kubernetes import client as k8s

from ainimal_zookeeper.adapters.gcp.gke_compute import GkeCompute, job_name
from ainimal_zookeeper.ports.compute import WorkerSpec

from contracts.compute import ComputeContract

NAMESPACE = "zk-contract"
IMAGE = "europe-docker.pkg.dev/zk/workers/worker:contract"


class KmockThread:
    """kmock's Kubernetes API on 127.0.0.1, served from a background event loop."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.url = ""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="kmock", daemon=True)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with km.KubernetesEmulator() as emulator, km.Server(emulator):
            self.url = str(emulator.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> KmockThread:
        self._thread.start()
        assert self._ready.wait(10), "kmock did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="module")
def kube_api() -> Iterator[str]:
    with KmockThread() as server:
        yield server.url


class TestGkeComputeOnKmock(ComputeContract):
    report_timeout = 5.0

    @pytest.fixture(autouse=True)
    def _api(self, kube_api, unique):
        # One namespace per test: the module's kmock keeps every Job it was given.
        self.namespace = f"{NAMESPACE}-{unique}"
        self.api_client = k8s.ApiClient(k8s.Configuration(host=kube_api))
        yield
        self.api_client.close()

    def make_compute(self):
        return GkeCompute(namespace=self.namespace, image=IMAGE, api_client=self.api_client, poll_seconds=0.05)

    def make_spec(self, instance_id):
        return WorkerSpec(
            instance_id=instance_id,
            model={"name": "Counter", "type": "ainimal", "path": "/app/catalog/agents.py", "class_name": "Counter"},
            environment={"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"},
            init_params={},
            env_init_params={},
            mode="INFER",
            connection={},
            seed=1,
            resources={"cpu": "1", "memory": "1Gi"},
        )

    def _set_status(self, instance_id: str, status: dict[str, Any]) -> None:
        """Play the Job controller: write the Job's final status through the API."""
        batch = k8s.BatchV1Api(self.api_client)
        batch.patch_namespaced_job_status(job_name(instance_id), self.namespace, {"status": status})

    def finish(self, compute, instance_id):
        self._set_status(instance_id, {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})

    def crash(self, compute, instance_id):
        self._set_status(instance_id, {"failed": 1, "conditions": [{"type": "Failed", "status": "True"}]})
