"""Which adapter serves each port, and the Google Cloud settings the gcp adapters need.

    backends: {documents: firestore, blobs: gcs, bus: pubsub, compute: gke}
    gcp: {project: my-project, bucket: my-zoo-bucket, region: europe-west1, worker_image: …}

Every port defaults to its local adapter, so a config without these keys is the embedded
server; any mix is allowed (say, Firestore state with local workers while trying it out).

The settings Terraform hands the function as environment variables (ZK_RECORDINGS_BUCKET,
ZK_WORKER_KSA, ...) are read from there when the config leaves them out, as `project` falls
back to GOOGLE_CLOUD_PROJECT; an empty variable counts as unset (Terraform sets the GKE ones
to "" when the workers run on Cloud Run).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = ["BackendsConfig", "GcpSettings", "missing_gcp_settings"]

#: Where the worker image (worker/Dockerfile) keeps its copy of the catalog.
DEFAULT_WORKER_CATALOG_ROOT = "/app/catalog"


class BackendsConfig(BaseModel):
    """The adapter behind each port."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    documents: Literal["sqlite", "firestore"] = "sqlite"
    blobs: Literal["local", "gcs"] = "local"
    bus: Literal["local", "pubsub"] = "local"
    compute: Literal["local", "gke", "cloud_run"] = "local"

    @property
    def uses_gcp(self) -> bool:
        """Whether any port is served by a Google Cloud adapter."""
        return (self.documents, self.blobs, self.bus, self.compute) != ("sqlite", "local", "local", "local")


def _from_env(name: str, default: str | None = None) -> Callable[[], str | None]:
    """A default factory: the variable's value at load time, `default` when unset or empty."""
    return lambda: os.environ.get(name) or default


class GcpSettings(BaseModel):
    """Google Cloud settings; with the emulators, their *_EMULATOR_HOST variables apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str | None = None
    #: Prefix of Firestore collections, Pub/Sub topics and subscriptions, and blob names.
    prefix: str = "zk-"
    # Signs each worker's Pub/Sub events with a key of its own derived from this secret, so an
    # event about instance X counts only from X's worker (set it from Secret Manager / ${env.X}).
    bus_signing_secret: str | None = Field(default_factory=_from_env("ZK_BUS_SIGNING_SECRET"))
    bucket: str | None = None
    #: Where recordings and exports go; unset means `bucket` (env ZK_RECORDINGS_BUCKET).
    recordings_bucket: str | None = Field(default_factory=_from_env("ZK_RECORDINGS_BUCKET"))
    #: Create the bucket when missing (for the emulators and first runs).
    create_bucket: bool = False
    region: str | None = None
    worker_image: str | None = None
    namespace: str = "ainimal-zookeeper"
    #: The Kubernetes service account worker pods run as (Workload Identity; env ZK_WORKER_KSA).
    worker_ksa: str | None = Field(default_factory=_from_env("ZK_WORKER_KSA"))
    #: The service account Cloud Run worker jobs run as (env ZK_WORKER_SERVICE_ACCOUNT).
    worker_service_account: str | None = Field(default_factory=_from_env("ZK_WORKER_SERVICE_ACCOUNT"))
    #: The GKE cluster and its location, looked up when there is no in-cluster or kube config.
    gke_cluster: str | None = Field(default_factory=_from_env("ZK_GKE_CLUSTER"))
    gke_location: str | None = Field(default_factory=_from_env("ZK_GKE_LOCATION"))
    #: The folder whose files the worker image carries; model and env paths under it are sent
    #: to workers as paths under `worker_catalog_root`. Default: the config file's folder.
    catalog_root: str | None = Field(default=None, validate_default=True)
    #: Where the worker image keeps that folder (env ZK_WORKER_CATALOG_ROOT).
    worker_catalog_root: str = Field(
        default_factory=lambda: os.environ.get("ZK_WORKER_CATALOG_ROOT") or DEFAULT_WORKER_CATALOG_ROOT
    )

    @field_validator(
        "recordings_bucket", "worker_ksa", "worker_service_account", "gke_cluster", "gke_location", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `${env.X}` of a variable set to "" (Terraform's "not used here") means "not set".
        return None if value == "" else value

    @field_validator("catalog_root", mode="after")
    @classmethod
    def _catalog_root_is_absolute(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Relative to the config file, like every other path in it; absent: that folder itself.
        base = (info.context or {}).get("base_dir")
        if base is None:
            return value
        return str((Path(base) / Path(value or ".").expanduser()).resolve())

    @field_validator("worker_catalog_root", mode="after")
    @classmethod
    def _worker_root_is_absolute(cls, value: str) -> str:
        # A relative root would depend on the worker's working directory.
        if not value.startswith("/"):
            raise ValueError(f"worker_catalog_root must be an absolute path in the worker image, got {value!r}")
        return value

    @model_validator(mode="after")
    def _prefix_is_safe(self) -> GcpSettings:
        # The prefix becomes part of resource names: keep it to what every service accepts.
        if not all(c.isalnum() or c in "-_" for c in self.prefix):
            raise ValueError(f"prefix may hold letters, digits, '-' and '_', got {self.prefix!r}")
        return self

    @property
    def recordings_bucket_name(self) -> str | None:
        """The bucket recordings and exports go to: `recordings_bucket`, else `bucket`."""
        return self.recordings_bucket or self.bucket

    @property
    def gke_cluster_name(self) -> str | None:
        """`projects/P/locations/L/clusters/C` when cluster and location are set (and a project is known)."""
        project = self.project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not (self.gke_cluster and self.gke_location and project):
            return None
        return f"projects/{project}/locations/{self.gke_location}/clusters/{self.gke_cluster}"


def missing_gcp_settings(backends: BackendsConfig, gcp: GcpSettings) -> list[str]:
    """The `gcp.*` keys the chosen backends need but the config lacks."""
    needed = []
    if backends.blobs == "gcs" and not gcp.bucket:
        needed.append("gcp.bucket (the Cloud Storage bucket for checkpoints)")
    if backends.compute in ("gke", "cloud_run") and not gcp.worker_image:
        needed.append("gcp.worker_image (the worker container image)")
    if backends.compute == "cloud_run" and not gcp.region:
        needed.append("gcp.region (where Cloud Run jobs run)")
    if backends.compute == "gke" and bool(gcp.gke_cluster) != bool(gcp.gke_location):
        needed.append("gcp.gke_cluster and gcp.gke_location together (ZK_GKE_CLUSTER, ZK_GKE_LOCATION)")
    return needed
