"""ComputeProvider on Cloud Run Jobs: one Job per instance, run once, watched by polling.

The request building lives in pure functions (`job_for`, `create_job_request`, ...) so that
what is sent to Cloud Run can be checked without Cloud Run. A task gets no retries: a
crashed worker must be reported to the control plane (which owns the instance's state),
not restarted behind its back with a fresh AInimal.

Stopping cancels the Job's unfinished executions before deleting the Job. Cloud Run's
reference documents cancelling as the way to stop an execution (executions.cancel) and
says nothing of what deleting a Job does to one that runs, so the provider does not rely on
the delete to end a worker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions
from google.cloud import run_v2
from google.protobuf import duration_pb2

from ainimal_zookeeper.adapters.compute_support import JobTracker, fit_name, wait_while_alive
from ainimal_zookeeper.adapters.worker_paths import WorkerPaths
from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, NotFound, Unavailable, ZookeeperError
from ainimal_zookeeper.ports.compute import ExitCallback, WorkerSpec

__all__ = [
    "CloudRunCompute",
    "cancel_execution_request",
    "create_job_request",
    "delete_job_request",
    "exit_code",
    "get_job_request",
    "job_for",
    "job_id",
    "list_executions_request",
    "liveness",
    "run_job_request",
]

log = logging.getLogger(__name__)

GPU_RESOURCE = "nvidia.com/gpu"
#: The GPU Cloud Run offers; used when a spec asks for a GPU without naming one.
DEFAULT_ACCELERATOR = "nvidia-l4"
Status = run_v2.ExecutionReference.CompletionStatus
_RUNNING = (Status.EXECUTION_RUNNING, Status.EXECUTION_PENDING)
_EXIT_CODES = {Status.EXECUTION_SUCCEEDED: 0, Status.EXECUTION_FAILED: 1, Status.EXECUTION_CANCELLED: None}


def job_id(instance_id: str) -> str:
    """The Job id: `zk-worker-{instance_id}`, lowercase, starting with a letter, at most 63 chars."""
    return fit_name(instance_id, "a-z0-9-", prefix="zk-worker-", lower=True, strip="-_")


def job_for(
    spec: WorkerSpec,
    *,
    image: str,
    service_account: str | None = None,
    labels: dict[str, str] | None = None,
    task_timeout_seconds: int = 24 * 3600,
    accelerator: str | None = None,
) -> run_v2.Job:
    """The Job that hosts `spec`'s instance (pure: no API call)."""
    resources = dict(spec.resources)
    limits = {key: str(resources[key]) for key in ("cpu", "memory") if resources.get(key)}
    gpus = int(resources.get("gpu") or 0)
    gpu_options: dict[str, Any] = {}
    if gpus > 0:
        limits[GPU_RESOURCE] = str(gpus)
        gpu_options = {
            "node_selector": run_v2.NodeSelector(
                accelerator=resources.get("accelerator") or accelerator or DEFAULT_ACCELERATOR
            ),
            # Jobs get GPUs on the non-zonal-redundant terms; say so rather than rely on the default.
            "gpu_zonal_redundancy_disabled": True,
        }
    container = run_v2.Container(
        name="worker",
        image=image,
        env=[
            run_v2.EnvVar(name="ZK_WORKER_SPEC", value=json.dumps(spec.to_dict(), separators=(",", ":"))),
            run_v2.EnvVar(name="OMP_NUM_THREADS", value=str(spec.torch_threads)),
        ],
        resources=run_v2.ResourceRequirements(limits=limits),
    )
    task = run_v2.TaskTemplate(
        containers=[container],
        max_retries=0,  # explicit: an unset max_retries means 3
        # Cloud Run ends a task at its timeout (default 10 min): a long-lived agent needs hours (24 h is GA).
        timeout=duration_pb2.Duration(seconds=task_timeout_seconds),
        service_account=service_account or "",
        **gpu_options,
    )
    job_labels = {
        **(labels or {}),
        "app": "ainimal-zookeeper-worker",
        "ainimal-zookeeper-instance": fit_name(spec.instance_id, "a-z0-9_-", lower=True, strip="-_"),
    }
    return run_v2.Job(
        labels=job_labels,
        template=run_v2.ExecutionTemplate(task_count=1, parallelism=1, template=task),
    )


def create_job_request(spec: WorkerSpec, *, parent: str, **job_options: Any) -> run_v2.CreateJobRequest:
    """CreateJob for `spec` under `parent` (projects/P/locations/R)."""
    return run_v2.CreateJobRequest(parent=parent, job_id=job_id(spec.instance_id), job=job_for(spec, **job_options))


def run_job_request(name: str) -> run_v2.RunJobRequest:
    """RunJob: start one execution of the Job `name`."""
    return run_v2.RunJobRequest(name=name)


def delete_job_request(name: str) -> run_v2.DeleteJobRequest:
    """DeleteJob: remove the Job `name` with its executions."""
    return run_v2.DeleteJobRequest(name=name)


def get_job_request(name: str) -> run_v2.GetJobRequest:
    """GetJob: read the Job `name`, including its latest execution."""
    return run_v2.GetJobRequest(name=name)


def list_executions_request(job_name: str) -> run_v2.ListExecutionsRequest:
    """ListExecutions: the executions of the Job `job_name`."""
    return run_v2.ListExecutionsRequest(parent=job_name)


def cancel_execution_request(name: str) -> run_v2.CancelExecutionRequest:
    """CancelExecution: stop the execution `name` and its tasks."""
    return run_v2.CancelExecutionRequest(name=name)


def liveness(job: run_v2.Job) -> bool | None:
    """True while the latest execution runs or waits, False once it ended, None when unknown."""
    status = job.latest_created_execution.completion_status
    if status in _RUNNING:
        return True
    if status in _EXIT_CODES:
        return False
    return None


def exit_code(job: run_v2.Job) -> int | None:
    """0 for a succeeded execution, 1 for a failed one, None for a cancelled one."""
    return _EXIT_CODES.get(job.latest_created_execution.completion_status)


class _NotNow(InvalidInput):
    """FailedPrecondition: the request does not fit the resource's state (a finished execution)."""


#: What cancelling an execution that has ended or vanished meanwhile raises.
_ALREADY_OVER = (NotFound, _NotNow)


@contextmanager
def _api_errors(action: str) -> Iterator[None]:
    """Raise the zookeeper's errors for Cloud Run API errors."""
    try:
        yield
    except gexc.FailedPrecondition as exc:
        raise _NotNow(f"Cloud Run rejected {action} in the resource's current state: {exc.message}") from exc
    except gexc.NotFound as exc:
        raise NotFound(f"Cloud Run: not found while {action}: {exc.message}") from exc
    except gexc.Conflict as exc:
        raise Conflict(f"Cloud Run: conflict while {action}: {exc.message}") from exc
    except (gexc.Unauthorized, gexc.Forbidden) as exc:
        raise ConfigError(
            f"Cloud Run refused {action}: {exc.message}; the control plane's service account needs roles/run.developer "
            "(and roles/iam.serviceAccountUser on the workers' service account)"
        ) from exc
    except gexc.BadRequest as exc:
        raise InvalidInput(f"Cloud Run rejected {action}: {exc.message}") from exc
    except (gexc.GoogleAPIError, TimeoutError) as exc:  # server errors, retries given up, slow operations
        raise Unavailable(f"Cloud Run did not answer while {action}: {exc}") from exc


def _make_client(factory: Any) -> Any:
    """A Cloud Run API client from Application Default Credentials; ConfigError without them."""
    try:
        return factory()
    except auth_exceptions.DefaultCredentialsError as exc:
        raise ConfigError(
            f"CloudRunCompute needs Google credentials: {exc}. Fix: set GOOGLE_APPLICATION_CREDENTIALS, "
            "run `gcloud auth application-default login`, or run on Google Cloud with a service account"
        ) from exc


class CloudRunCompute:
    """One Cloud Run Job per instance; a thread polls the Jobs it started and reports their exits.

    `service_account` is the Google service account the jobs run as (the control plane needs
    iam.serviceAccountUser on it); `worker_paths` maps the catalog's paths to where the worker
    image has them.
    """

    def __init__(
        self,
        project: str,
        region: str,
        job_template_image: str,
        client: run_v2.JobsClient | None = None,
        *,
        service_account: str | None = None,
        labels: dict[str, str] | None = None,
        task_timeout_seconds: int = 24 * 3600,
        accelerator: str | None = None,
        poll_seconds: float = 10.0,
        operation_timeout: float = 120.0,
        executions_client: run_v2.ExecutionsClient | None = None,
        worker_paths: WorkerPaths | None = None,
    ) -> None:
        self._client = client if client is not None else _make_client(run_v2.JobsClient)
        self._executions = executions_client if executions_client is not None else _make_client(run_v2.ExecutionsClient)
        self._worker_paths = worker_paths
        self._parent = f"projects/{project}/locations/{region}"
        self._job_options: dict[str, Any] = {
            "image": job_template_image,
            "service_account": service_account,
            "labels": labels,
            "task_timeout_seconds": task_timeout_seconds,
            "accelerator": accelerator,
        }
        self._poll_seconds = poll_seconds
        self._operation_timeout = operation_timeout
        self._jobs = JobTracker(self._ended, poll_seconds, name="zk-cloud-run-watch")

    def job_name(self, instance_id: str) -> str:
        """The Job's full resource name."""
        return f"{self._parent}/jobs/{job_id(instance_id)}"

    def create_request(self, spec: WorkerSpec) -> run_v2.CreateJobRequest:
        """The CreateJob request `start` sends for `spec` (no API call).

        Raises:
            ConfigError: a catalog path the worker image does not carry.
        """
        if self._worker_paths is not None:
            spec = self._worker_paths.for_worker(spec)
        return create_job_request(spec, parent=self._parent, **self._job_options)

    def start(self, spec: WorkerSpec) -> None:
        name = self.job_name(spec.instance_id)
        request = self.create_request(spec)
        try:
            with _api_errors(f"creating Job {name}"):
                self._client.create_job(request=request).result(timeout=self._operation_timeout)
        except Conflict:
            if self.is_alive(spec.instance_id):
                self._jobs.track(spec.instance_id)  # its Job already runs: a repeated start
                return
            # A Job of an earlier run would run its old spec (checkpoint, params): replace it.
            self._delete(name)
            with _api_errors(f"re-creating Job {name}"):
                self._client.create_job(request=request).result(timeout=self._operation_timeout)
        with _api_errors(f"running Job {name}"):
            # Not waited for: this operation ends only when the execution does.
            self._client.run_job(request=run_job_request(name))
        self._jobs.track(spec.instance_id)

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        # The worker was asked to stop by itself; cancelling and deleting is the fallback after the grace.
        wait_while_alive(self.is_alive, instance_id, grace_seconds, step=1.0)
        self._delete(self.job_name(instance_id))

    def _delete(self, name: str) -> None:
        """Cancel the Job's unfinished executions, then delete the Job; a missing Job is already gone."""
        try:
            self._cancel_executions(name)
            with _api_errors(f"deleting Job {name}"):
                self._client.delete_job(request=delete_job_request(name)).result(timeout=self._operation_timeout)
        except NotFound:
            pass

    def _cancel_executions(self, job_name: str) -> None:
        """Cancel every execution of the Job that has not completed, waiting for each cancellation."""
        with _api_errors(f"listing the executions of Job {job_name}"):
            executions = list(self._executions.list_executions(request=list_executions_request(job_name)))
        for execution in executions:
            if "completion_time" in execution:
                continue
            request = cancel_execution_request(execution.name)
            try:
                with _api_errors(f"cancelling execution {execution.name}"):
                    self._executions.cancel_execution(request=request).result(timeout=self._operation_timeout)
            except _ALREADY_OVER as exc:
                log.debug("execution %s needs no cancelling: %s", execution.name, exc)

    def is_alive(self, instance_id: str) -> bool | None:
        name = self.job_name(instance_id)
        try:
            with _api_errors(f"reading Job {name}"):
                job = self._client.get_job(request=get_job_request(name))
        except NotFound:
            return False
        except ZookeeperError as exc:
            log.warning("cannot tell whether %s is alive: %s", instance_id, exc)
            return None
        return liveness(job)

    def on_exit(self, callback: ExitCallback) -> None:
        self._jobs.exits.register(callback)

    def close(self) -> None:
        # Jobs are left running on purpose: they outlive this process, and any replica can stop them by name.
        self._jobs.close(timeout=self._poll_seconds + 5)

    def _ended(self, tracked: set[str]) -> dict[str, int | None]:
        """The tracked instances whose Job ended (or is gone); a Job that runs or cannot be read waits."""
        ended: dict[str, int | None] = {}
        for instance_id in sorted(tracked):
            if self._jobs.closing:
                break
            name = self.job_name(instance_id)
            try:
                with _api_errors(f"reading Job {name}"):
                    job = self._client.get_job(request=get_job_request(name))
            except NotFound:
                ended[instance_id] = None
            except ZookeeperError as exc:
                log.warning("cannot poll %s: %s", instance_id, exc)
            else:
                if liveness(job) is False:
                    ended[instance_id] = exit_code(job)
        return ended
