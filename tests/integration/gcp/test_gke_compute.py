"""GkeCompute against kmock: a real HTTP Kubernetes API stand-in, driven by the real kubernetes client.

kmock stores, serves, patches and deletes Jobs but runs no controllers, so these tests play
the Job controller themselves by patching a Job's status through the API. It runs on the
test's event loop while the kubernetes client blocks, so every provider call goes through
`asyncio.to_thread` (and so does close(), whose watcher thread may be mid-request).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import kmock as km
import pytest
import pytest_asyncio
from kubernetes import client as k8s

from ainimal_zookeeper.adapters.gcp.gke_compute import GkeCompute, job_name
from ainimal_zookeeper.adapters.worker_paths import WorkerPaths
from ainimal_zookeeper.errors import ConfigError, Conflict, Unavailable
from ainimal_zookeeper.ports.compute import WorkerSpec

pytestmark = pytest.mark.asyncio

NAMESPACE = "zk-test"
IMAGE = "europe-docker.pkg.dev/zk/workers/worker:1.2.3"
JOBS = "batch/v1/jobs"
SECRETS = "v1/secrets"


def make_spec(instance_id: str = "a1b2c3d4e5f6", **overrides: Any) -> WorkerSpec:
    """A spec with every kind of field, so the JSON round trip is meaningful."""
    values: dict[str, Any] = {
        "instance_id": instance_id,
        "model": {"class": "agents.Walker", "params": {"lr": 0.001, "layers": [64, 64]}},
        "environment": {"id": "CartPole-v1", "kwargs": {"render_mode": None}},
        "init_params": {"hidden": 32},
        "env_init_params": {},
        "mode": "train",
        "connection": {"bus": {"type": "pubsub", "project": "p"}, "blobs": {"type": "gcs", "bucket": "b"}},
        "seed": 7,
        "checkpoint_id": "ck1",
        "checkpoint_blob_key": "checkpoints/a1/ck1.safetensors",
        "torch_threads": 3,
        "resources": {"cpu": "2", "memory": "4Gi", "gpu": 0},
    }
    values.update(overrides)
    return WorkerSpec(**values)


@pytest.fixture
def api_client(kmock: km.KubernetesEmulator) -> Any:
    """The real kubernetes client, pointed at kmock."""
    api = k8s.ApiClient(k8s.Configuration(host=str(kmock.url).rstrip("/")))
    yield api
    api.close()


@pytest_asyncio.fixture
async def compute(api_client: k8s.ApiClient) -> AsyncIterator[GkeCompute]:
    provider = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, poll_seconds=0.05)
    yield provider
    await asyncio.to_thread(provider.close)


def stored_job(kmock: km.KubernetesEmulator, instance_id: str) -> dict[str, Any]:
    """The Job as kmock holds it (what the provider sent, plus any status patches)."""
    return kmock.objects[JOBS, NAMESPACE, job_name(instance_id)].raw


def sent_spec(kmock: km.KubernetesEmulator, instance_id: str) -> dict[str, Any]:
    """The spec the worker's pod would read: from its Secret, which its Job's env names."""
    (container,) = stored_job(kmock, instance_id)["spec"]["template"]["spec"]["containers"]
    [variable] = [item for item in container["env"] if item["name"] == "ZK_WORKER_SPEC"]
    assert "value" not in variable  # the Job does not carry it: anyone who may read Jobs would see it
    reference = variable["valueFrom"]["secretKeyRef"]
    secret = kmock.objects[SECRETS, NAMESPACE, reference["name"]].raw
    return json.loads(secret["stringData"][reference["key"]])


async def set_status(api_client: k8s.ApiClient, instance_id: str, status: dict[str, Any]) -> None:
    """Play the Job controller: patch the Job's status subresource through the API."""
    batch = k8s.BatchV1Api(api_client)
    await asyncio.to_thread(batch.patch_namespaced_job_status, job_name(instance_id), NAMESPACE, {"status": status})


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


FAILED = {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}
SUCCEEDED = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}


async def test_start_creates_the_job_the_worker_needs(kmock, compute):
    spec = make_spec(resources={"cpu": "4", "memory": "16Gi", "gpu": 1, "accelerator": "nvidia-l4"})
    await asyncio.to_thread(compute.start, spec)

    creates = [r for r in kmock if r.method == "POST"]
    assert [r.url.path for r in creates] == [
        f"/api/v1/namespaces/{NAMESPACE}/secrets",
        f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs",
    ]
    job = stored_job(kmock, spec.instance_id)
    assert job["metadata"]["name"] == "zk-worker-a1b2c3d4e5f6"
    labels = {"app.kubernetes.io/name": "ainimal-zookeeper-worker", "ainimal-zookeeper/instance": "a1b2c3d4e5f6"}
    assert job["metadata"]["labels"] == labels
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    pod = job["spec"]["template"]
    assert pod["metadata"]["labels"] == labels
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    (container,) = pod["spec"]["containers"]
    assert container["image"] == IMAGE
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["OMP_NUM_THREADS"] == "3"
    assert WorkerSpec(**sent_spec(kmock, spec.instance_id)) == spec
    secret = kmock.objects[SECRETS, NAMESPACE, job_name(spec.instance_id)].raw
    assert secret["metadata"]["labels"] == labels and secret["type"] == "Opaque"
    quantities = {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert container["resources"] == {"requests": quantities, "limits": quantities}


async def test_cpu_only_worker_asks_for_no_gpu(kmock, compute):
    await asyncio.to_thread(compute.start, make_spec(resources={"cpu": "1", "memory": "2Gi", "gpu": 0}))
    pod = stored_job(kmock, "a1b2c3d4e5f6")["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod
    assert pod["containers"][0]["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}


async def test_job_names_are_dns_safe_and_distinct():
    ids = ["a1b2c3d4e5f6", "Run_42", "run-42", "x" * 80, "x" * 81, "--", "ÄÖÜ"]
    names = [job_name(i) for i in ids]
    assert names[0] == "zk-worker-a1b2c3d4e5f6"
    for name in names:
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
    assert len(set(names)) == len(ids)


async def test_second_start_of_a_running_instance_is_a_no_op(kmock, compute):
    spec = make_spec()
    await asyncio.to_thread(compute.start, spec)
    await asyncio.to_thread(compute.start, spec)
    # The Job's and the Secret's, then both again: each met 409 AlreadyExists.
    assert len([r for r in kmock if r.method == "POST"]) == 4
    assert len(kmock.objects[JOBS, NAMESPACE, job_name(spec.instance_id), :]) == 1  # one version: untouched


async def test_start_replaces_a_finished_job_of_the_same_instance(kmock, compute, api_client):
    spec = make_spec()
    await asyncio.to_thread(compute.start, spec)
    await set_status(api_client, spec.instance_id, FAILED)
    again = make_spec(seed=8)  # the same instance started again, with a spec of its own
    await asyncio.to_thread(compute.start, again)
    assert "status" not in stored_job(kmock, spec.instance_id)
    assert await asyncio.to_thread(compute.is_alive, spec.instance_id) is True
    assert WorkerSpec(**sent_spec(kmock, spec.instance_id)) == again  # its Secret kept, with the new spec


async def test_start_refuses_a_job_of_another_instance(kmock, compute):
    kmock.objects[JOBS, NAMESPACE, job_name("a1b2c3d4e5f6")] = {
        "metadata": {"name": job_name("a1b2c3d4e5f6"), "annotations": {"ainimal-zookeeper/instance-id": "other"}},
    }
    with pytest.raises(Conflict, match="belongs to instance 'other'"):
        await asyncio.to_thread(compute.start, make_spec())


async def test_start_refuses_a_secret_of_another_instance_and_leaves_it_as_it_was(kmock, compute):
    other = {"metadata": {"name": job_name("a1b2c3d4e5f6"), "annotations": {"ainimal-zookeeper/instance-id": "other"}}}
    kmock.objects[SECRETS, NAMESPACE, job_name("a1b2c3d4e5f6")] = {**other, "stringData": {"spec": "theirs"}}
    with pytest.raises(Conflict, match="Secret zk-worker-a1b2c3d4e5f6 .* belongs to instance 'other'"):
        await asyncio.to_thread(compute.start, make_spec())
    assert kmock.objects[SECRETS, NAMESPACE, job_name("a1b2c3d4e5f6")].raw["stringData"] == {"spec": "theirs"}
    assert not [r for r in kmock if r.method in ("PATCH", "PUT")]  # nothing written over it, and no Job made
    assert not [r for r in kmock if r.method == "POST" and r.url.path.endswith("/jobs")]


async def test_stop_deletes_the_job_and_a_second_stop_is_fine(kmock, compute):
    spec = make_spec()
    await asyncio.to_thread(compute.start, spec)
    await asyncio.to_thread(compute.stop, spec.instance_id, 0)
    assert kmock.objects[JOBS, NAMESPACE, job_name(spec.instance_id)].deleted
    await asyncio.to_thread(compute.stop, spec.instance_id, 0)  # 404: already gone
    assert kmock.objects[SECRETS, NAMESPACE, job_name(spec.instance_id)].deleted  # the spec goes with it
    deletes = [r for r in kmock if r.method == "DELETE"]
    assert len(deletes) == 4  # the Job and its Secret, twice
    assert deletes[0].url.path == f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/zk-worker-a1b2c3d4e5f6"
    assert deletes[0].params == {"propagationPolicy": "Background"}
    assert deletes[1].url.path == f"/api/v1/namespaces/{NAMESPACE}/secrets/zk-worker-a1b2c3d4e5f6"


async def test_stop_does_not_wait_out_the_grace_for_a_finished_job(compute, api_client):
    spec = make_spec()
    await asyncio.to_thread(compute.start, spec)
    await set_status(api_client, spec.instance_id, SUCCEEDED)
    began = time.monotonic()
    await asyncio.to_thread(compute.stop, spec.instance_id, 30)
    assert time.monotonic() - began < 5


async def test_is_alive_follows_the_job_status(compute, api_client):
    spec = make_spec()
    assert await asyncio.to_thread(compute.is_alive, spec.instance_id) is False  # never started
    await asyncio.to_thread(compute.start, spec)
    assert await asyncio.to_thread(compute.is_alive, spec.instance_id) is True  # pending
    await set_status(api_client, spec.instance_id, {"active": 1})
    assert await asyncio.to_thread(compute.is_alive, spec.instance_id) is True
    await set_status(api_client, spec.instance_id, SUCCEEDED)
    assert await asyncio.to_thread(compute.is_alive, spec.instance_id) is False
    failed = make_spec("b1b2c3d4e5f6")
    await asyncio.to_thread(compute.start, failed)
    await set_status(api_client, failed.instance_id, {"failed": 1})  # counters before conditions
    assert await asyncio.to_thread(compute.is_alive, failed.instance_id) is False


async def test_exit_callbacks_report_failure_success_and_deletion(compute, api_client):
    exits: list[tuple[str, int | None]] = []
    compute.on_exit(lambda instance_id, code: exits.append((instance_id, code)))
    for instance_id in ("failing", "finishing", "stopped", "running"):
        await asyncio.to_thread(compute.start, make_spec(instance_id))
    await set_status(api_client, "failing", FAILED)
    await set_status(api_client, "finishing", SUCCEEDED)
    await set_status(api_client, "running", {"active": 1})
    await asyncio.to_thread(compute.stop, "stopped", 0)
    await eventually(lambda: len(exits) == 3)
    assert sorted(exits, key=str) == sorted([("failing", 1), ("finishing", 0), ("stopped", None)], key=str)
    await asyncio.sleep(0.2)  # a few more polls: each exit is reported once, the running one not at all
    assert len(exits) == 3


async def test_a_failing_api_surfaces_as_unavailable(kmock, compute):
    kmock[km.resource(JOBS)] << 500
    with pytest.raises(Unavailable, match="500"):
        await asyncio.to_thread(compute.start, make_spec())
    with pytest.raises(Unavailable):
        await asyncio.to_thread(compute.stop, "a1b2c3d4e5f6", 0)
    assert await asyncio.to_thread(compute.is_alive, "a1b2c3d4e5f6") is None


async def test_an_unreachable_api_means_alive_is_unknown():
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configuration = k8s.Configuration(host=f"http://127.0.0.1:{port}")
    configuration.retries = False
    with k8s.ApiClient(configuration) as api:
        provider = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api)
        try:
            assert provider.is_alive("a1b2c3d4e5f6") is None
            with pytest.raises(Unavailable, match="unreachable"):
                provider.start(make_spec())
        finally:
            provider.close()


async def test_missing_kube_config_names_every_way_to_configure(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    with pytest.raises(ConfigError, match="in-cluster") as raised:
        GkeCompute(image=IMAGE)
    assert "KUBECONFIG" in str(raised.value) and "ZK_GKE_CLUSTER" in str(raised.value)


async def test_worker_pods_run_as_the_configured_kubernetes_service_account(kmock, api_client):
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, service_account="worker")
    try:
        await asyncio.to_thread(compute.start, make_spec())
    finally:
        await asyncio.to_thread(compute.close)
    assert stored_job(kmock, "a1b2c3d4e5f6")["spec"]["template"]["spec"]["serviceAccountName"] == "worker"


async def test_catalog_paths_reach_the_worker_as_paths_in_its_image(kmock, api_client, tmp_path):
    paths = WorkerPaths(tmp_path / "catalog", "/app/catalog")
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, worker_paths=paths)
    spec = make_spec(
        model={"name": "Walker", "path": str(tmp_path / "catalog/agents/walker.py"), "class_name": "Walker"},
        environment={"name": "Maze", "path": str(tmp_path / "catalog/envs/maze.py"), "class_name": "Maze"},
    )
    try:
        await asyncio.to_thread(compute.start, spec)
    finally:
        await asyncio.to_thread(compute.close)
    sent = sent_spec(kmock, spec.instance_id)
    assert sent["model"]["path"] == "/app/catalog/agents/walker.py"
    assert sent["environment"]["path"] == "/app/catalog/envs/maze.py"
    assert sent["model"]["class_name"] == "Walker" and sent["instance_id"] == spec.instance_id


async def test_a_catalog_path_outside_the_root_fails_the_launch_before_any_request(kmock, api_client, tmp_path):
    paths = WorkerPaths(tmp_path / "catalog", "/app/catalog")
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, worker_paths=paths)
    spec = make_spec(model={"name": "Stray", "path": str(tmp_path / "elsewhere/stray.py"), "class_name": "Stray"})
    try:
        with pytest.raises(ConfigError, match="outside the catalog root"):
            await asyncio.to_thread(compute.start, spec)
    finally:
        await asyncio.to_thread(compute.close)
    assert list(kmock) == []
