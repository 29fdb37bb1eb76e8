"""Which adapter serves each port, and the Google Cloud settings the gcp adapters need.

    backends: {documents: firestore, blobs: gcs, bus: pubsub, compute: gke}
    gcp: {project: my-project, bucket: my-zoo-bucket, region: europe-west1, worker_image: …}

Every port defaults to its local adapter, so a config without these keys is the embedded
server; any mix is allowed (say, Firestore state with local workers while trying it out).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["BackendsConfig", "GcpSettings"]


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


class GcpSettings(BaseModel):
    """Google Cloud settings; with the emulators, their *_EMULATOR_HOST variables apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str | None = None
    #: Prefix of Firestore collections, Pub/Sub topics and subscriptions, and blob names.
    prefix: str = "zk-"
    bucket: str | None = None
    #: Create the bucket when missing (for the emulators and first runs).
    create_bucket: bool = False
    region: str | None = None
    worker_image: str | None = None
    namespace: str = "ainimal-zookeeper"

    @model_validator(mode="after")
    def _prefix_is_safe(self) -> GcpSettings:
        # The prefix becomes part of resource names: keep it to what every service accepts.
        if not all(c.isalnum() or c in "-_" for c in self.prefix):
            raise ValueError(f"prefix may hold letters, digits, '-' and '_', got {self.prefix!r}")
        return self


def missing_gcp_settings(backends: BackendsConfig, gcp: GcpSettings) -> list[str]:
    """The `gcp.*` keys the chosen backends need but the config lacks."""
    needed = []
    if backends.blobs == "gcs" and not gcp.bucket:
        needed.append("gcp.bucket (the Cloud Storage bucket for checkpoints)")
    if backends.compute in ("gke", "cloud_run") and not gcp.worker_image:
        needed.append("gcp.worker_image (the worker container image)")
    if backends.compute == "cloud_run" and not gcp.region:
        needed.append("gcp.region (where Cloud Run jobs run)")
    return needed
