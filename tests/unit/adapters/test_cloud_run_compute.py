"""CloudRunCompute at the client-library boundary.

Cloud Run cannot run here (no emulator exists, and no real project is reachable), so this
test checks the requests the provider sends: the exact CreateJobRequest / RunJobRequest /
DeleteJobRequest / GetJobRequest messages handed to `run_v2.JobsClient`, and the
ListExecutionsRequest / CancelExecutionRequest handed to `run_v2.ExecutionsClient`. This is
the one place where a fake stands in for GCP: `FakeJobsClient` plays both clients, records
every call in one list (so the order across them shows) and keeps just enough state (which
Jobs exist, their executions and the latest one's status) to answer like Cloud Run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud import run_v2
from google.protobuf import duration_pb2, timestamp_pb2

from ainimal_zookeeper.adapters.gcp.cloud_run_compute import CloudRunCompute, job_id
from ainimal_zookeeper.adapters.worker_paths import WorkerPaths
from ainimal_zookeeper.errors import ConfigError, InvalidInput, Unavailable
from ainimal_zookeeper.ports.compute import WorkerSpec

Status = run_v2.ExecutionReference.CompletionStatus
PARENT = "projects/zk-project/locations/europe-west4"
IMAGE = "europe-docker.pkg.dev/zk/workers/worker:1.2.3"
NAME = f"{PARENT}/jobs/zk-worker-a1b2c3d4e5f6"


class FakeOperation:
    """A finished long-running operation."""

    def __init__(self, result: Any = None) -> None:
        self._result = result

    def result(self, timeout: float | None = None) -> Any:
        return self._result


class FakeJobsClient:
    """Records calls like `run_v2.JobsClient` and `run_v2.ExecutionsClient` receive them; `fail[method]` raises."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.jobs: dict[str, run_v2.Job] = {}
        self.executions: dict[str, list[run_v2.Execution]] = {}
        self.fail: dict[str, Exception] = {}

    def _record(self, method: str, request: Any) -> None:
        self.calls.append((method, request))
        if method in self.fail:
            raise self.fail[method]

    def create_job(self, *, request: run_v2.CreateJobRequest) -> FakeOperation:
        self._record("create_job", request)
        name = f"{request.parent}/jobs/{request.job_id}"
        if name in self.jobs:
            raise gexc.AlreadyExists(f"Resource '{request.job_id}' already exists.")
        self.jobs[name] = run_v2.Job(request.job, name=name)
        self.executions[name] = []
        return FakeOperation(self.jobs[name])

    def run_job(self, *, request: run_v2.RunJobRequest) -> FakeOperation:
        self._record("run_job", request)
        runs = self.executions[request.name]
        runs.append(run_v2.Execution(name=f"{request.name}/executions/x{len(runs) + 1}"))
        self.set_status(request.name, Status.EXECUTION_PENDING)
        return FakeOperation()

    def delete_job(self, *, request: run_v2.DeleteJobRequest) -> FakeOperation:
        self._record("delete_job", request)
        if self.jobs.pop(request.name, None) is None:
            raise gexc.NotFound(f"Resource '{request.name}' was not found")
        self.executions.pop(request.name, None)
        return FakeOperation()

    def get_job(self, *, request: run_v2.GetJobRequest) -> run_v2.Job:
        self._record("get_job", request)
        if request.name not in self.jobs:
            raise gexc.NotFound(f"Resource '{request.name}' was not found")
        return self.jobs[request.name]

    def list_executions(self, *, request: run_v2.ListExecutionsRequest) -> list[run_v2.Execution]:
        self._record("list_executions", request)
        if request.parent not in self.jobs:
            raise gexc.NotFound(f"Resource '{request.parent}' was not found")
        return list(self.executions[request.parent])

    def cancel_execution(self, *, request: run_v2.CancelExecutionRequest) -> FakeOperation:
        self._record("cancel_execution", request)
        job = request.name.split("/executions/")[0]
        self.set_status(job, Status.EXECUTION_CANCELLED)
        return FakeOperation()

    def set_status(self, name: str, status: Status) -> None:
        """Play Cloud Run: move the latest execution to `status` (a final one completes it)."""
        latest = self.executions[name][-1]
        if status not in (Status.EXECUTION_PENDING, Status.EXECUTION_RUNNING):
            latest.completion_time = timestamp_pb2.Timestamp(seconds=1_700_000_000)
        self.jobs[name].latest_created_execution = run_v2.ExecutionReference(name=latest.name, completion_status=status)

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]


def make_spec(instance_id: str = "a1b2c3d4e5f6", **overrides: Any) -> WorkerSpec:
    values: dict[str, Any] = {
        "instance_id": instance_id,
        "model": {"class": "agents.Walker", "params": {"lr": 0.001}},
        "environment": {"id": "CartPole-v1"},
        "init_params": {"hidden": 32},
        "env_init_params": {},
        "mode": "train",
        "connection": {"bus": {"type": "pubsub"}, "blobs": {"type": "gcs", "bucket": "b"}},
        "seed": 7,
        "torch_threads": 2,
        "resources": {"cpu": "2", "memory": "4Gi", "gpu": 0},
    }
    values.update(overrides)
    return WorkerSpec(**values)


@pytest.fixture
def fake() -> FakeJobsClient:
    return FakeJobsClient()


@pytest.fixture
def compute(fake: FakeJobsClient):
    provider = CloudRunCompute(
        "zk-project",
        "europe-west4",
        IMAGE,
        client=fake,
        executions_client=fake,
        service_account="worker@zk.iam",
        poll_seconds=0.02,
    )
    yield provider
    provider.close()


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_start_creates_then_runs_the_job(fake, compute):
    spec = make_spec()
    compute.start(spec)
    expected_job = run_v2.Job(
        labels={"app": "ainimal-zookeeper-worker", "ainimal-zookeeper-instance": "a1b2c3d4e5f6"},
        template=run_v2.ExecutionTemplate(
            task_count=1,
            parallelism=1,
            template=run_v2.TaskTemplate(
                containers=[
                    run_v2.Container(
                        name="worker",
                        image=IMAGE,
                        env=[
                            run_v2.EnvVar(
                                name="ZK_WORKER_SPEC", value=json.dumps(spec.to_dict(), separators=(",", ":"))
                            ),
                            run_v2.EnvVar(name="OMP_NUM_THREADS", value="2"),
                        ],
                        resources=run_v2.ResourceRequirements(limits={"cpu": "2", "memory": "4Gi"}),
                    )
                ],
                max_retries=0,
                timeout=duration_pb2.Duration(seconds=24 * 3600),
                service_account="worker@zk.iam",
            ),
        ),
    )
    assert fake.calls == [
        ("create_job", run_v2.CreateJobRequest(parent=PARENT, job_id="zk-worker-a1b2c3d4e5f6", job=expected_job)),
        ("run_job", run_v2.RunJobRequest(name=NAME)),
    ]
    create = fake.calls[0][1]
    task = create.job.template.template
    assert "max_retries" in task  # set, not defaulted (Cloud Run's default is 3 retries)
    assert "node_selector" not in task and "gpu_zonal_redundancy_disabled" not in task
    env = {item.name: item.value for item in task.containers[0].env}
    assert WorkerSpec(**json.loads(env["ZK_WORKER_SPEC"])) == spec


def test_a_gpu_worker_gets_a_gpu_and_an_accelerator(fake, compute):
    compute.start(make_spec(resources={"cpu": "4", "memory": "16Gi", "gpu": 1}))
    task = fake.calls[0][1].job.template.template
    assert dict(task.containers[0].resources.limits) == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert task.node_selector == run_v2.NodeSelector(accelerator="nvidia-l4")
    assert task.gpu_zonal_redundancy_disabled is True


def test_job_ids_fit_cloud_run_rules():
    for instance_id in ["a1b2c3d4e5f6", "Run_42", "x" * 80]:
        name = job_id(instance_id)
        assert len(name) <= 63 and name[0].isalpha() and name == name.lower() and not name.endswith("-")
    assert job_id("Run_42") != job_id("run-42")


def test_second_start_of_a_running_instance_is_a_no_op(fake, compute):
    compute.start(make_spec())
    fake.set_status(NAME, Status.EXECUTION_RUNNING)
    compute.start(make_spec())
    assert fake.methods() == ["create_job", "run_job", "create_job", "get_job"]


def test_start_replaces_a_finished_job_of_the_same_instance(fake, compute):
    compute.start(make_spec())
    fake.set_status(NAME, Status.EXECUTION_FAILED)
    fake.calls.clear()
    compute.start(make_spec(checkpoint_id="ck2"))
    assert fake.methods() == ["create_job", "get_job", "list_executions", "delete_job", "create_job", "run_job"]
    assert fake.calls[3][1] == run_v2.DeleteJobRequest(name=NAME)  # nothing to cancel: it had finished
    env = fake.calls[4][1].job.template.template.containers[0].env
    assert json.loads(env[0].value)["checkpoint_id"] == "ck2"


def test_stop_cancels_the_running_execution_then_deletes_the_job(fake, compute):
    compute.start(make_spec())
    fake.set_status(NAME, Status.EXECUTION_RUNNING)
    fake.calls.clear()
    compute.stop("a1b2c3d4e5f6", grace_seconds=0)
    assert fake.calls == [
        ("list_executions", run_v2.ListExecutionsRequest(parent=NAME)),
        ("cancel_execution", run_v2.CancelExecutionRequest(name=f"{NAME}/executions/x1")),
        ("delete_job", run_v2.DeleteJobRequest(name=NAME)),
    ]
    assert NAME not in fake.jobs


def test_a_second_stop_is_fine(fake, compute):
    compute.start(make_spec())
    compute.stop("a1b2c3d4e5f6", grace_seconds=0)
    compute.stop("a1b2c3d4e5f6", grace_seconds=0)  # NotFound: already gone
    assert fake.methods().count("delete_job") == 1 and NAME not in fake.jobs


def test_stop_cancels_only_executions_that_have_not_completed(fake, compute):
    compute.start(make_spec())
    fake.set_status(NAME, Status.EXECUTION_FAILED)
    fake.run_job(request=run_v2.RunJobRequest(name=NAME))  # a second execution, still pending
    fake.calls.clear()
    compute.stop("a1b2c3d4e5f6", grace_seconds=0)
    cancels = [request.name for method, request in fake.calls if method == "cancel_execution"]
    assert cancels == [f"{NAME}/executions/x2"]


def test_an_execution_that_ends_before_its_cancel_does_not_stop_the_delete(fake, compute):
    compute.start(make_spec())
    fake.fail["cancel_execution"] = gexc.FailedPrecondition("execution already completed")
    compute.stop("a1b2c3d4e5f6", grace_seconds=0)
    assert fake.methods()[-2:] == ["cancel_execution", "delete_job"] and NAME not in fake.jobs


def test_a_failed_cancel_keeps_the_job_for_a_retry(fake, compute):
    compute.start(make_spec())
    fake.fail["cancel_execution"] = gexc.ServiceUnavailable("try later")
    with pytest.raises(Unavailable, match="cancelling execution"):
        compute.stop("a1b2c3d4e5f6", grace_seconds=0)
    assert "delete_job" not in fake.methods() and NAME in fake.jobs


def test_stop_gives_a_running_worker_its_grace(fake, compute):
    compute.start(make_spec())
    fake.set_status(NAME, Status.EXECUTION_RUNNING)
    began = time.monotonic()
    compute.stop("a1b2c3d4e5f6", grace_seconds=0.3)
    assert time.monotonic() - began >= 0.3
    assert fake.methods()[-1] == "delete_job"


@pytest.mark.parametrize(
    ("status", "alive"),
    [
        (Status.EXECUTION_PENDING, True),
        (Status.EXECUTION_RUNNING, True),
        (Status.EXECUTION_SUCCEEDED, False),
        (Status.EXECUTION_FAILED, False),
        (Status.EXECUTION_CANCELLED, False),
        (Status.COMPLETION_STATUS_UNSPECIFIED, None),
    ],
)
def test_is_alive_follows_the_latest_execution(fake, compute, status, alive):
    compute.start(make_spec())
    fake.set_status(NAME, status)
    assert compute.is_alive("a1b2c3d4e5f6") is alive
    assert fake.calls[-1] == ("get_job", run_v2.GetJobRequest(name=NAME))


def test_is_alive_without_a_job_or_an_api(fake, compute):
    assert compute.is_alive("a1b2c3d4e5f6") is False
    fake.fail["get_job"] = gexc.ServiceUnavailable("try later")
    assert compute.is_alive("a1b2c3d4e5f6") is None


def test_exit_callbacks_report_failure_success_cancellation_and_deletion(fake, compute):
    exits: list[tuple[str, int | None]] = []
    compute.on_exit(lambda instance_id, code: exits.append((instance_id, code)))
    outcomes = {
        "failing": Status.EXECUTION_FAILED,
        "done": Status.EXECUTION_SUCCEEDED,
        "cancelled": Status.EXECUTION_CANCELLED,
    }
    for instance_id in [*outcomes, "deleted", "running"]:
        compute.start(make_spec(instance_id))
    for instance_id, status in outcomes.items():
        fake.set_status(f"{PARENT}/jobs/{job_id(instance_id)}", status)
    fake.set_status(f"{PARENT}/jobs/{job_id('running')}", Status.EXECUTION_RUNNING)
    del fake.jobs[f"{PARENT}/jobs/{job_id('deleted')}"]
    eventually(lambda: len(exits) == 4)
    assert sorted(exits, key=str) == sorted(
        [("failing", 1), ("done", 0), ("cancelled", None), ("deleted", None)], key=str
    )
    time.sleep(0.1)  # a few more polls: each exit is reported once, the running one not at all
    assert len(exits) == 4


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (gexc.ServiceUnavailable("down"), Unavailable),
        (gexc.DeadlineExceeded("slow"), Unavailable),
        (gexc.PermissionDenied("no run.jobs.create"), ConfigError),
        (gexc.InvalidArgument("bad memory"), InvalidInput),
    ],
)
def test_api_errors_are_translated(fake, compute, error, expected):
    fake.fail["create_job"] = error
    with pytest.raises(expected):
        compute.start(make_spec())
    assert fake.methods() == ["create_job"]  # nothing is run after a failed create


def test_missing_credentials_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        CloudRunCompute("zk-project", "europe-west4", IMAGE)


def test_catalog_paths_are_sent_as_paths_in_the_worker_image(fake, tmp_path):
    paths = WorkerPaths(tmp_path, "/app/catalog")
    compute = CloudRunCompute(
        "zk-project", "europe-west4", IMAGE, client=fake, executions_client=fake, worker_paths=paths
    )
    try:
        spec = make_spec(model={"name": "Walker", "path": str(tmp_path / "walker.py"), "class_name": "Walker"})
        compute.start(spec)
        with pytest.raises(ConfigError, match="outside the catalog root"):
            compute.start(make_spec("b2", model={"name": "Stray", "path": "/srv/stray.py", "class_name": "S"}))
    finally:
        compute.close()
    creates = [request for method, request in fake.calls if method == "create_job"]
    assert len(creates) == 1  # the stray one never reached Cloud Run
    env = {item.name: item.value for item in creates[0].job.template.template.containers[0].env}
    assert json.loads(env["ZK_WORKER_SPEC"])["model"]["path"] == "/app/catalog/walker.py"
