"""ComputeProvider on GKE: one `batch/v1` Job per instance, watched by polling the API.

A Job rather than a bare Pod: the cluster keeps the outcome after the pod is gone and
cleans up by itself (ttlSecondsAfterFinished). backoffLimit 0, because a crashed worker
must be reported to the control plane (which owns the instance's state), not restarted
behind its back with a fresh AInimal.

The worker's spec (its bus key among it) goes in a Secret of the Job's name, which the Job's
pod reads into ZK_WORKER_SPEC: a Job's spec is readable by anyone who may list Jobs, a Secret
only by those who may read Secrets. The Secret is owned by its Job, so the cluster deletes it
with the Job (the provider deletes it too when it deletes the Job).

The API is found, in this order: the GKE cluster named by `cluster` (looked up through the
GKE API, as a Cloud Function must: see gke_credentials), the in-cluster service account,
the kube config file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from ainimal_zookeeper.adapters.compute_support import JobTracker, fit_name, wait_while_alive
from ainimal_zookeeper.adapters.worker_paths import WorkerPaths
from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, NotFound, Unavailable, ZookeeperError
from ainimal_zookeeper.ports.compute import ExitCallback, WorkerSpec

__all__ = ["GkeCompute", "job_manifest", "job_name", "job_phase", "label_value", "spec_secret"]

log = logging.getLogger(__name__)

APP_LABEL = "app.kubernetes.io/name"
APP_NAME = "ainimal-zookeeper-worker"
INSTANCE_LABEL = "ainimal-zookeeper/instance"
#: The exact instance id (a label value may have been shortened or cleaned to fit).
INSTANCE_ANNOTATION = "ainimal-zookeeper/instance-id"
GPU_RESOURCE = "nvidia.com/gpu"
ACCELERATOR_SELECTOR = "cloud.google.com/gke-accelerator"

#: The key of the worker's spec (JSON) in its Secret.
SPEC_KEY = "spec"

Phase = Literal["running", "succeeded", "failed"]


def job_name(instance_id: str) -> str:
    """The Job's name: `zk-worker-{instance_id}`, DNS-1123 safe (lowercase, at most 63 chars)."""
    return fit_name(instance_id, "a-z0-9-", prefix="zk-worker-", lower=True)


def label_value(instance_id: str) -> str:
    """The instance id as a valid label value (at most 63 chars, alphanumeric at both ends)."""
    return fit_name(instance_id, "A-Za-z0-9_.-")


def job_manifest(
    spec: WorkerSpec,
    *,
    image: str,
    service_account: str | None = None,
    labels: dict[str, str] | None = None,
    ttl_seconds_after_finished: int = 3600,
    accelerator: str | None = None,
) -> k8s.V1Job:
    """The Job that hosts `spec`'s instance (pure: no API call)."""
    job_labels = {**(labels or {}), APP_LABEL: APP_NAME, INSTANCE_LABEL: label_value(spec.instance_id)}
    annotations = {INSTANCE_ANNOTATION: spec.instance_id}
    resources = dict(spec.resources)
    quantities = {key: str(resources[key]) for key in ("cpu", "memory", "ephemeral-storage") if resources.get(key)}
    gpus = int(resources.get("gpu") or 0)
    node_selector = None
    if gpus > 0:
        quantities[GPU_RESOURCE] = str(gpus)
        accelerator = resources.get("accelerator") or accelerator
        # Autopilot picks the GPU node from this selector; without a type the cluster's GPU pools decide.
        node_selector = {ACCELERATOR_SELECTOR: str(accelerator)} if accelerator else None
    container = k8s.V1Container(
        name="worker",
        image=image,
        env=[
            # From the Secret `spec_secret` makes: the Job itself does not carry the spec.
            k8s.V1EnvVar(
                name="ZK_WORKER_SPEC",
                value_from=k8s.V1EnvVarSource(
                    secret_key_ref=k8s.V1SecretKeySelector(name=job_name(spec.instance_id), key=SPEC_KEY)
                ),
            ),
            k8s.V1EnvVar(name="OMP_NUM_THREADS", value=str(spec.torch_threads)),
        ],
        # Limits equal requests: Autopilot enforces that anyway, and GPUs may only be limits.
        resources=k8s.V1ResourceRequirements(requests=quantities or None, limits=quantities or None),
    )
    pod_annotations = {
        **annotations,
        # A long-running agent holds state in memory: scale-down must not evict it to save a node.
        "cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
    }
    return k8s.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=k8s.V1ObjectMeta(name=job_name(spec.instance_id), labels=job_labels, annotations=annotations),
        spec=k8s.V1JobSpec(
            backoff_limit=0,
            ttl_seconds_after_finished=ttl_seconds_after_finished,
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=job_labels, annotations=pod_annotations),
                spec=k8s.V1PodSpec(
                    restart_policy="Never",
                    service_account_name=service_account,
                    node_selector=node_selector,
                    containers=[container],
                ),
            ),
        ),
    )


def spec_secret(spec: WorkerSpec, labels: dict[str, str] | None = None) -> k8s.V1Secret:
    """The Secret holding `spec` for its Job's pod, named as the Job (pure: no API call)."""
    secret_labels = {**(labels or {}), APP_LABEL: APP_NAME, INSTANCE_LABEL: label_value(spec.instance_id)}
    return k8s.V1Secret(
        api_version="v1",
        kind="Secret",
        metadata=k8s.V1ObjectMeta(
            name=job_name(spec.instance_id),
            labels=secret_labels,
            annotations={INSTANCE_ANNOTATION: spec.instance_id},
        ),
        type="Opaque",
        string_data={SPEC_KEY: json.dumps(spec.to_dict(), separators=(",", ":"))},
    )


def job_phase(job: k8s.V1Job) -> Phase:
    """Where the Job stands; one without status yet is pending, which counts as running."""
    status = job.status
    if status is None:
        return "running"
    for condition in status.conditions or []:
        if condition.status != "True":
            continue
        if condition.type in ("Failed", "FailureTarget"):
            return "failed"
        if condition.type in ("Complete", "SuccessCriteriaMet"):
            return "succeeded"
    # Counters too, since conditions lag them; with backoffLimit 0 one failed pod fails the Job.
    if status.failed:
        return "failed"
    if status.succeeded:
        return "succeeded"
    return "running"


def _translate(exc: ApiException, action: str) -> ZookeeperError:
    """The zookeeper error for a Kubernetes API error."""
    detail = f"Kubernetes API answered {exc.status} {exc.reason} while {action}"
    if exc.status == 404:
        return NotFound(detail)
    if exc.status == 409:
        return Conflict(detail)
    if exc.status in (401, 403):
        return ConfigError(
            f"{detail}: the control plane's credentials may not manage Jobs; grant it create/get/list/delete on batch/v1 jobs "
            "and create/update/patch/delete on secrets"
        )
    if exc.status in (400, 422):
        return InvalidInput(f"{detail}: {exc.body}")
    return Unavailable(detail)


@contextmanager
def _api_errors(action: str) -> Iterator[None]:
    """Raise the zookeeper's errors for API errors and for an API that cannot be reached."""
    try:
        yield
    except ApiException as exc:
        raise _translate(exc, action) from exc
    except HTTPError as exc:  # urllib3 gave up: connection refused, timeout, TLS
        raise Unavailable(f"Kubernetes API unreachable while {action}: {exc}") from exc


def _default_api_client(cluster: str | None, timeout: float) -> k8s.ApiClient:
    """An API client for the named GKE cluster, else from the in-cluster service account or kube config."""
    if cluster:
        from ainimal_zookeeper.adapters.gcp.gke_credentials import gke_api_client

        return gke_api_client(cluster, timeout=timeout)
    configuration = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except k8s_config.ConfigException:
        try:
            # Explicit path: the library reads $KUBECONFIG once, at import time.
            k8s_config.load_kube_config(config_file=os.environ.get("KUBECONFIG"), client_configuration=configuration)
        except (k8s_config.ConfigException, OSError) as exc:
            raise ConfigError(
                "GkeCompute needs a Kubernetes configuration: expected a GKE cluster to look up (ZK_GKE_CLUSTER "
                "and ZK_GKE_LOCATION), the in-cluster config (running in a pod with a service account) or a "
                f"kube config file at $KUBECONFIG or ~/.kube/config; found none ({exc}). Fix: set those two "
                "variables, run `gcloud container clusters get-credentials CLUSTER`, or pass api_client="
            ) from exc
    return k8s.ApiClient(configuration)


class GkeCompute:
    """One Job per instance; a thread polls the Jobs it started and reports their exits.

    `service_account` is the Kubernetes service account of the worker pods (with Workload
    Identity, the one bound to the workers' Google service account); `cluster` names the GKE
    cluster to look up (`projects/P/locations/L/clusters/C`) when `api_client` is not given;
    `worker_paths` maps the catalog's paths to where the worker image has them.
    """

    def __init__(
        self,
        namespace: str = "ainimal-zookeeper",
        *,
        image: str,
        api_client: k8s.ApiClient | None = None,
        service_account: str | None = None,
        labels: dict[str, str] | None = None,
        poll_seconds: float = 5.0,
        accelerator: str | None = None,
        ttl_seconds_after_finished: int = 3600,
        request_timeout: float = 30.0,
        cluster: str | None = None,
        worker_paths: WorkerPaths | None = None,
    ) -> None:
        self._namespace = namespace
        self._worker_paths = worker_paths
        self._manifest_options: dict[str, Any] = {
            "image": image,
            "service_account": service_account,
            "labels": labels,
            "ttl_seconds_after_finished": ttl_seconds_after_finished,
            "accelerator": accelerator,
        }
        self._owns_client = api_client is None
        self._api_client = api_client if api_client is not None else _default_api_client(cluster, request_timeout)
        self._batch = k8s.BatchV1Api(self._api_client)
        self._core = k8s.CoreV1Api(self._api_client)
        self._poll_seconds = poll_seconds
        self._timeout = request_timeout
        self._jobs = JobTracker(self._ended, poll_seconds, name="zk-gke-watch")

    def manifest(self, spec: WorkerSpec) -> k8s.V1Job:
        """The Job `start` would create for `spec` (no API call).

        Raises:
            ConfigError: a catalog path the worker image does not carry.
        """
        if self._worker_paths is not None:
            spec = self._worker_paths.for_worker(spec)
        return job_manifest(spec, **self._manifest_options)

    def secret(self, spec: WorkerSpec) -> k8s.V1Secret:
        """The Secret holding the spec the worker reads, as `start` would create it (no API call)."""
        if self._worker_paths is not None:
            spec = self._worker_paths.for_worker(spec)
        return spec_secret(spec, self._manifest_options["labels"])

    def start(self, spec: WorkerSpec) -> None:
        manifest = self.manifest(spec)
        name = job_name(spec.instance_id)
        self._put_secret(self.secret(spec), name, spec.instance_id)
        try:
            job = self._call(f"creating Job {name}", self._batch.create_namespaced_job, self._namespace, manifest)
        except Conflict:
            job = self._take_over(spec.instance_id, name, manifest)
        self._own_secret(name, job)
        self._jobs.track(spec.instance_id)

    def _put_secret(self, secret: k8s.V1Secret, name: str, instance_id: str) -> None:
        """Create the spec's Secret, or update one left by an earlier run of the same instance.

        Raises:
            Conflict: a Secret of that name belongs to another instance (it is left as it is).
        """
        try:
            self._call(f"creating Secret {name}", self._core.create_namespaced_secret, self._namespace, secret)
        except Conflict:
            existing = self._call(f"reading Secret {name}", self._core.read_namespaced_secret, name, self._namespace)
            owner = ((existing.metadata and existing.metadata.annotations) or {}).get(INSTANCE_ANNOTATION)
            if owner != instance_id:
                raise Conflict(
                    f"Secret {name} in namespace {self._namespace} belongs to instance {owner!r}, not {instance_id!r}; "
                    "delete it or give this zookeeper its own namespace"
                ) from None
            patch = {"stringData": secret.string_data}
            self._call(f"updating Secret {name}", self._core.patch_namespaced_secret, name, self._namespace, patch)

    def _own_secret(self, name: str, job: k8s.V1Job) -> None:
        """Make `job` the Secret's owner, so the cluster deletes the Secret with the Job."""
        uid = job.metadata.uid if job.metadata is not None else None
        if not uid:  # an API without object ids (a stand-in): `stop` deletes the Secret anyway
            return
        owner = {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid}
        patch = {"metadata": {"ownerReferences": [owner]}}
        self._call(f"patching Secret {name}", self._core.patch_namespaced_secret, name, self._namespace, patch)

    def _take_over(self, instance_id: str, name: str, manifest: k8s.V1Job) -> k8s.V1Job:
        """Handle an existing Job of that name: this instance's running one is a repeated start.

        Returns the Job that runs the instance now."""
        try:
            existing = self._call(f"reading Job {name}", self._batch.read_namespaced_job, name, self._namespace)
        except NotFound:  # deleted in between: create it after all
            existing = None
        if existing is not None:
            owner = (existing.metadata.annotations or {}).get(INSTANCE_ANNOTATION)
            if owner != instance_id:
                raise Conflict(
                    f"Job {name} in namespace {self._namespace} belongs to instance {owner!r}, not {instance_id!r}; "
                    "delete that Job or give this zookeeper its own namespace"
                )
            if job_phase(existing) == "running":
                return existing
            # A finished Job of an earlier run would turn this start into a no-op: replace it
            # (not its Secret, which this start has just written).
            self._delete_job(name)
        try:
            return self._call(f"re-creating Job {name}", self._batch.create_namespaced_job, self._namespace, manifest)
        except Conflict as exc:
            raise Conflict(f"Job {name} from an earlier run of {instance_id} is still being deleted; retry") from exc

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        # The worker was asked to stop by itself; deleting the Job is the fallback after the grace.
        wait_while_alive(self.is_alive, instance_id, grace_seconds, step=0.5)
        self._delete(job_name(instance_id))

    def _delete(self, name: str) -> None:
        """Delete a Job, its Secret and, in the background, its pods; a missing one is already gone."""
        self._delete_job(name)
        try:
            self._call(f"deleting Secret {name}", self._core.delete_namespaced_secret, name, self._namespace)
        except NotFound:
            pass

    def _delete_job(self, name: str) -> None:
        """Delete a Job and, in the background, its pods (its Secret stays: see `_take_over`)."""
        try:
            delete = self._batch.delete_namespaced_job
            self._call(f"deleting Job {name}", delete, name, self._namespace, propagation_policy="Background")
        except NotFound:
            pass

    def is_alive(self, instance_id: str) -> bool | None:
        name = job_name(instance_id)
        try:
            job = self._call(f"reading Job {name}", self._batch.read_namespaced_job, name, self._namespace)
        except NotFound:
            return False
        except ZookeeperError as exc:
            log.warning("cannot tell whether %s is alive: %s", instance_id, exc)
            return None
        return job_phase(job) == "running"

    def on_exit(self, callback: ExitCallback) -> None:
        self._jobs.exits.register(callback)

    def close(self) -> None:
        # Jobs are left running on purpose: they outlive this process, and any replica can stop them by name.
        self._jobs.close(timeout=self._timeout + self._poll_seconds)
        if self._owns_client:
            self._api_client.close()

    def _call(self, action: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the API with a timeout, translating its errors."""
        with _api_errors(action):
            return method(*args, _request_timeout=self._timeout, **kwargs)

    def _ended(self, tracked: set[str]) -> dict[str, int | None]:
        """The tracked instances whose Job has finished or vanished, with their exit codes."""
        try:
            selector = f"{APP_LABEL}={APP_NAME}"
            jobs = self._call("listing Jobs", self._batch.list_namespaced_job, self._namespace, label_selector=selector)
        except ZookeeperError as exc:
            log.warning("cannot poll the worker Jobs: %s", exc)
            return {}
        by_owner = {
            (job.metadata.annotations or {}).get(INSTANCE_ANNOTATION): job for job in jobs.items if job.metadata
        }
        ended: dict[str, int | None] = {}
        for instance_id in tracked:
            job = by_owner.get(instance_id)
            phase = job_phase(job) if job is not None else None
            if phase != "running":
                ended[instance_id] = None if phase is None else 0 if phase == "succeeded" else 1
        return ended
