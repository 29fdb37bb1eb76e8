"""A Kubernetes API client for a GKE cluster, found through the GKE API rather than a kube config.

A Cloud Function has neither an in-cluster service account nor a kube config file; what it
has is Google credentials (its service account) and the cluster's name (ZK_GKE_CLUSTER,
ZK_GKE_LOCATION). This module does what `gcloud container clusters get-credentials` does:
read the cluster's endpoint and CA certificate with google-cloud-container, and authenticate
to the Kubernetes API with a Google OAuth access token, refreshed before it expires.

The endpoint: a cluster whose IP endpoints are disabled (infra/terraform/gke.tf) is reached
through its DNS endpoint, which serves a publicly trusted certificate and checks IAM
(container.clusters.connect); otherwise through its IP endpoint, verified against the
cluster's own CA.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import google.auth
import google.auth.transport.requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.cloud import container_v1
from kubernetes import client as k8s

from ainimal_zookeeper.errors import ConfigError, Unavailable

__all__ = ["cluster_configuration", "gke_api_client"]

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def gke_api_client(
    cluster_name: str,
    cluster_manager: container_v1.ClusterManagerClient | None = None,
    credentials: Credentials | None = None,
    timeout: float = 30.0,
) -> k8s.ApiClient:
    """A Kubernetes API client for the GKE cluster `projects/P/locations/L/clusters/C`.

    Args:
        cluster_name: the cluster's full resource name.
        cluster_manager: the GKE API client (default: one with `credentials`).
        credentials: Google credentials (default: Application Default Credentials).
        timeout: seconds to wait for the GKE API.

    Raises:
        ConfigError: no credentials, no such cluster, or no permission to read it.
        Unavailable: the GKE API did not answer.
    """
    if credentials is None:
        try:
            credentials, _ = google.auth.default(scopes=SCOPES)
        except auth_exceptions.DefaultCredentialsError as exc:
            raise ConfigError(
                f"GKE cluster {cluster_name}: no Google credentials to find it with ({exc}); set "
                "GOOGLE_APPLICATION_CREDENTIALS or run on Google Cloud with a service account"
            ) from exc
    manager = cluster_manager or container_v1.ClusterManagerClient(credentials=credentials)
    try:
        cluster = manager.get_cluster(name=cluster_name, timeout=timeout)
    except gexc.NotFound as exc:
        raise ConfigError(
            f"GKE cluster {cluster_name} does not exist; check ZK_GKE_CLUSTER and ZK_GKE_LOCATION "
            "(config gcp.gke_cluster, gcp.gke_location) and the project"
        ) from exc
    except (gexc.PermissionDenied, gexc.Unauthenticated) as exc:
        raise ConfigError(
            f"may not read GKE cluster {cluster_name}: {exc.message}; the control plane's service account "
            "needs container.clusters.get (roles/container.developer)"
        ) from exc
    except (gexc.GoogleAPIError, TimeoutError) as exc:
        raise Unavailable(f"the GKE API did not answer for cluster {cluster_name}: {exc}") from exc
    return k8s.ApiClient(cluster_configuration(cluster, credentials))


def cluster_configuration(cluster: container_v1.Cluster, credentials: Credentials) -> k8s.Configuration:
    """The kubernetes client's Configuration for `cluster`, authenticated by `credentials` (pure)."""
    configuration = k8s.Configuration()
    endpoints = cluster.control_plane_endpoints_config
    dns_endpoint = endpoints.dns_endpoint_config.endpoint
    ip_disabled = "ip_endpoints_config" in endpoints and not endpoints.ip_endpoints_config.enabled
    if dns_endpoint and (ip_disabled or not cluster.endpoint):
        configuration.host = f"https://{dns_endpoint}"  # a public certificate: the system's CAs verify it
    elif cluster.endpoint:
        configuration.host = f"https://{cluster.endpoint}"
        configuration.ca_cert_data = base64.b64decode(cluster.master_auth.cluster_ca_certificate).decode()
    else:
        raise ConfigError(f"GKE cluster {cluster.name} has no endpoint yet (status {cluster.status.name}); retry")
    configuration.api_key_prefix["BearerToken"] = "Bearer"
    # The client sends a bearer token only when this key exists; the hook fills in the value.
    configuration.api_key["BearerToken"] = ""
    # The client's stubs type the hook as None, though any callable taking the Configuration works.
    configuration.refresh_api_key_hook = _TokenRefresher(credentials)  # type: ignore[assignment]
    return configuration


class _TokenRefresher:
    """The Configuration's refresh hook: a fresh access token before any request that needs one.

    The kubernetes client calls it before every request, from whichever thread sends it (the
    provider's calls and its watcher thread), hence the lock around the refresh.
    """

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._lock = threading.Lock()
        self._request = google.auth.transport.requests.Request()

    def __call__(self, configuration: Any) -> None:
        with self._lock:
            if not self._credentials.valid:  # no token yet, or about to expire
                try:
                    self._credentials.refresh(self._request)
                except auth_exceptions.GoogleAuthError as exc:
                    raise Unavailable(f"cannot get a Google access token for the GKE API: {exc}") from exc
            configuration.api_key["BearerToken"] = self._credentials.token
