"""GkeCompute reaching a GKE cluster it looked up through the GKE API, as a Cloud Function does.

The live GKE control plane (the GKE API and a cluster's Kubernetes API with Google auth)
cannot run here, so two things are fakes, and only these: the `ClusterManagerClient` that
answers `get_cluster` (endpoint + CA certificate, as the GKE API returns them) and the Google
credentials (a token that the test can expire). Everything after them is real: the
kubernetes client built from the looked-up cluster talks HTTPS to kmock (a Kubernetes API
stand-in) serving a certificate signed by that CA, and carries the access token as a bearer
token, as GKE expects.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from typing import Any

import kmock as km
import pytest
import pytest_asyncio
from aiohttp.test_utils import RawTestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.cloud import container_v1

from ainimal_zookeeper.adapters.gcp import gke_credentials
from ainimal_zookeeper.adapters.gcp.gke_compute import GkeCompute, job_name
from ainimal_zookeeper.adapters.gcp.gke_credentials import cluster_configuration, gke_api_client
from ainimal_zookeeper.errors import ConfigError, Unavailable
from ainimal_zookeeper.ports.compute import WorkerSpec

CLUSTER = "projects/zk-project/locations/europe-west1/clusters/zk-workers"
NAMESPACE = "zk-test"
IMAGE = "europe-docker.pkg.dev/zk/workers/worker:1.2.3"
JOBS = "batch/v1/jobs"


def make_spec(instance_id: str = "a1b2c3d4e5f6") -> WorkerSpec:
    return WorkerSpec(
        instance_id=instance_id,
        model={"name": "M", "class_name": "Agent"},
        environment=None,
        init_params={},
        env_init_params={},
        mode="INFER",
        connection={},
        seed=1,
    )


# ---- a CA and a server certificate for 127.0.0.1, as a GKE control plane has ----


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "cluster-ca") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital_signature, key_cert_sign, crl_sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key: Any, ca_cert: x509.Certificate) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kubernetes-master"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def ca() -> tuple[Any, x509.Certificate]:
    return make_ca()


@pytest.fixture
def server_tls(ca, tmp_path) -> ssl.SSLContext:
    cert_pem, key_pem = make_server_cert(*ca)
    (tmp_path / "server.pem").write_bytes(cert_pem)
    (tmp_path / "server.key").write_bytes(key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    return context


@pytest_asyncio.fixture
async def cluster_api(server_tls) -> AsyncIterator[tuple[km.KubernetesEmulator, km.Server]]:
    """kmock behind HTTPS with a certificate of the cluster's CA: the cluster's Kubernetes API."""

    class TlsServer(RawTestServer):
        async def start_server(self, loop: Any = None, **kwargs: Any) -> None:
            await super().start_server(loop=loop, ssl=server_tls, **kwargs)

    async with km.KubernetesEmulator() as emulator, km.Server(emulator, server_cls=TlsServer) as server:
        yield emulator, server


# ---- the two fakes: the GKE API client and the Google credentials ----


class FakeCredentials(Credentials):
    """Hands out token-1, token-2, ... on each refresh, valid for an hour unless expired by the test."""

    def __init__(self, fail: Exception | None = None) -> None:
        super().__init__()
        self.refreshes = 0
        self.fail = fail

    def refresh(self, request: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.refreshes += 1
        self.token = f"token-{self.refreshes}"
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)

    def expire(self) -> None:
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)


class FakeClusterManager:
    """Answers `get_cluster` like the GKE API does, or raises `fail`; records the names asked for."""

    def __init__(self, cluster: container_v1.Cluster | None = None, fail: Exception | None = None) -> None:
        self.cluster, self.fail = cluster, fail
        self.asked: list[str] = []

    def get_cluster(self, *, name: str, timeout: float | None = None) -> container_v1.Cluster:
        self.asked.append(name)
        if self.fail is not None:
            raise self.fail
        assert self.cluster is not None
        return self.cluster


def ip_cluster(server: km.Server, ca_cert: x509.Certificate) -> container_v1.Cluster:
    """A cluster whose IP endpoint is the kmock server, with `ca_cert` as its CA."""
    return container_v1.Cluster(
        name="zk-workers",
        endpoint=f"127.0.0.1:{server.port}",
        master_auth=container_v1.MasterAuth(cluster_ca_certificate=base64.b64encode(pem(ca_cert)).decode()),
    )


def bearer_tokens(emulator: km.KubernetesEmulator) -> list[str | None]:
    return [request.headers.get("Authorization") for request in emulator]


# ---- the tests ----


@pytest.mark.asyncio
async def test_the_looked_up_cluster_is_reached_over_its_ca_with_a_bearer_token(cluster_api, ca):
    emulator, server = cluster_api
    manager, credentials = FakeClusterManager(ip_cluster(server, ca[1])), FakeCredentials()
    api_client = gke_api_client(CLUSTER, cluster_manager=manager, credentials=credentials)
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, poll_seconds=60)
    try:
        await asyncio.to_thread(compute.start, make_spec())
        assert await asyncio.to_thread(compute.is_alive, "a1b2c3d4e5f6") is True
    finally:
        await asyncio.to_thread(compute.close)
        api_client.close()
    assert manager.asked == [CLUSTER]
    assert emulator.objects[JOBS, NAMESPACE, job_name("a1b2c3d4e5f6")].raw["spec"]["backoffLimit"] == 0
    # One token, refreshed once, for all three requests: the spec's Secret, the Job, the alive check.
    assert bearer_tokens(emulator) == ["Bearer token-1"] * 3
    assert credentials.refreshes == 1


@pytest.mark.asyncio
async def test_an_expired_token_is_refreshed_before_the_next_request(cluster_api, ca):
    emulator, server = cluster_api
    credentials = FakeCredentials()
    api_client = gke_api_client(CLUSTER, FakeClusterManager(ip_cluster(server, ca[1])), credentials)
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, poll_seconds=60)
    try:
        await asyncio.to_thread(compute.is_alive, "a")
        credentials.expire()
        await asyncio.to_thread(compute.is_alive, "a")
        await asyncio.to_thread(compute.is_alive, "a")
    finally:
        await asyncio.to_thread(compute.close)
        api_client.close()
    assert bearer_tokens(emulator) == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]


@pytest.mark.asyncio
async def test_a_server_not_signed_by_the_cluster_ca_is_refused(cluster_api):
    emulator, server = cluster_api
    _, other_ca = make_ca("some-other-ca")
    api_client = gke_api_client(CLUSTER, FakeClusterManager(ip_cluster(server, other_ca)), FakeCredentials())
    api_client.configuration.retries = False
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, poll_seconds=60)
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await asyncio.to_thread(compute.start, make_spec())
    finally:
        await asyncio.to_thread(compute.close)
        api_client.close()
    assert list(emulator) == []  # no request got through the TLS handshake


@pytest.mark.asyncio
async def test_a_failing_token_refresh_means_alive_is_unknown_and_start_is_unavailable(cluster_api, ca):
    _, server = cluster_api
    credentials = FakeCredentials(fail=auth_exceptions.RefreshError("metadata server said no"))
    api_client = gke_api_client(CLUSTER, FakeClusterManager(ip_cluster(server, ca[1])), credentials)
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, api_client=api_client, poll_seconds=60)
    try:
        assert await asyncio.to_thread(compute.is_alive, "a") is None
        with pytest.raises(Unavailable, match="access token"):
            await asyncio.to_thread(compute.start, make_spec())
    finally:
        await asyncio.to_thread(compute.close)
        api_client.close()


@pytest.mark.asyncio
async def test_gke_compute_looks_the_cluster_up_when_named(cluster_api, ca, monkeypatch):
    # What the Cloud Function does with ZK_GKE_CLUSTER / ZK_GKE_LOCATION: no api_client, no kube config.
    emulator, server = cluster_api
    manager, credentials = FakeClusterManager(ip_cluster(server, ca[1])), FakeCredentials()
    monkeypatch.setattr(gke_credentials.google.auth, "default", lambda scopes=None: (credentials, "zk-project"))
    monkeypatch.setattr(gke_credentials.container_v1, "ClusterManagerClient", lambda credentials=None: manager)
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    compute = GkeCompute(namespace=NAMESPACE, image=IMAGE, cluster=CLUSTER, poll_seconds=60)
    try:
        await asyncio.to_thread(compute.start, make_spec())
    finally:
        await asyncio.to_thread(compute.close)
    # The spec's Secret and the Job: one token.
    assert manager.asked == [CLUSTER] and bearer_tokens(emulator) == ["Bearer token-1"] * 2


def test_a_cluster_with_only_a_dns_endpoint_is_reached_there_with_public_cas():
    cluster = container_v1.Cluster(
        name="zk-workers",
        endpoint="",
        control_plane_endpoints_config=container_v1.ControlPlaneEndpointsConfig(
            dns_endpoint_config=container_v1.ControlPlaneEndpointsConfig.DNSEndpointConfig(
                endpoint="gke-0123abcd.europe-west1.gke.goog", allow_external_traffic=True
            ),
            ip_endpoints_config=container_v1.ControlPlaneEndpointsConfig.IPEndpointsConfig(enabled=False),
        ),
        master_auth=container_v1.MasterAuth(cluster_ca_certificate=base64.b64encode(b"not used").decode()),
    )
    configuration = cluster_configuration(cluster, FakeCredentials())
    assert configuration.host == "https://gke-0123abcd.europe-west1.gke.goog"
    assert configuration.ca_cert_data is None and configuration.ssl_ca_cert is None
    assert configuration.verify_ssl is True


def test_the_ip_endpoint_is_used_while_it_is_enabled():
    cluster = container_v1.Cluster(
        name="zk-workers",
        endpoint="34.1.2.3",
        control_plane_endpoints_config=container_v1.ControlPlaneEndpointsConfig(
            dns_endpoint_config=container_v1.ControlPlaneEndpointsConfig.DNSEndpointConfig(endpoint="gke-x.gke.goog"),
            ip_endpoints_config=container_v1.ControlPlaneEndpointsConfig.IPEndpointsConfig(enabled=True),
        ),
        master_auth=container_v1.MasterAuth(cluster_ca_certificate=base64.b64encode(b"-----PEM-----").decode()),
    )
    configuration = cluster_configuration(cluster, FakeCredentials())
    assert configuration.host == "https://34.1.2.3" and configuration.ca_cert_data == "-----PEM-----"


@pytest.mark.parametrize(
    ("error", "expected", "says"),
    [
        (gexc.NotFound("no cluster"), ConfigError, "ZK_GKE_CLUSTER"),
        (gexc.PermissionDenied("container.clusters.get"), ConfigError, "roles/container.developer"),
        (gexc.ServiceUnavailable("try later"), Unavailable, "did not answer"),
    ],
)
def test_gke_api_errors_say_what_to_fix(error, expected, says):
    with pytest.raises(expected, match=says):
        gke_api_client(CLUSTER, FakeClusterManager(fail=error), FakeCredentials())


def test_no_google_credentials_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        gke_api_client(CLUSTER, FakeClusterManager(fail=AssertionError("not reached")))
