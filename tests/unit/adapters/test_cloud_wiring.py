"""The cloud settings reach the compute providers: worker identities, catalog paths, the GKE cluster.

Built through the composition root (`control_plane_ports`) from a config, as the server does;
the providers are asked what they would send (`manifest`, `create_request`), so no cluster
or Cloud Run project is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from ainimal_zookeeper.bootstrap import control_plane_ports
from ainimal_zookeeper.config import load_config
from ainimal_zookeeper.config.backends import GcpSettings
from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.ports.compute import WorkerSpec

REPO = Path(__file__).resolve().parents[3]
CLOUD_CONFIG = REPO / "infra" / "terraform" / "config" / "zoo.yaml"
SETTINGS_ENV = (
    "ZK_RECORDINGS_BUCKET",
    "ZK_WORKER_KSA",
    "ZK_WORKER_SERVICE_ACCOUNT",
    "ZK_GKE_CLUSTER",
    "ZK_GKE_LOCATION",
    "ZK_WORKER_CATALOG_ROOT",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)


def test_settings_fall_back_to_the_variables_terraform_sets(monkeypatch):
    monkeypatch.setenv("ZK_RECORDINGS_BUCKET", "p-zk-recordings")
    monkeypatch.setenv("ZK_WORKER_KSA", "worker")
    monkeypatch.setenv("ZK_WORKER_SERVICE_ACCOUNT", "zk-worker@p.iam.gserviceaccount.com")
    monkeypatch.setenv("ZK_GKE_CLUSTER", "zk-workers")
    monkeypatch.setenv("ZK_GKE_LOCATION", "europe-west1")
    monkeypatch.setenv("ZK_WORKER_CATALOG_ROOT", "/opt/zoo")
    gcp = GcpSettings(project="p", bucket="p-zk-checkpoints")
    assert (gcp.recordings_bucket_name, gcp.worker_ksa, gcp.worker_service_account) == (
        "p-zk-recordings",
        "worker",
        "zk-worker@p.iam.gserviceaccount.com",
    )
    assert gcp.gke_cluster_name == "projects/p/locations/europe-west1/clusters/zk-workers"
    assert gcp.worker_catalog_root == "/opt/zoo"
    assert GcpSettings(worker_ksa="from-config").worker_ksa == "from-config"  # the config wins


def test_unset_or_empty_settings_mean_one_bucket_and_no_cluster(monkeypatch):
    monkeypatch.setenv("ZK_GKE_CLUSTER", "")  # what Terraform sets when the workers run on Cloud Run
    gcp = GcpSettings(project="p", bucket="b", recordings_bucket="", gke_location="")
    assert gcp.recordings_bucket_name == "b"
    assert gcp.gke_cluster is None and gcp.gke_cluster_name is None
    assert gcp.worker_ksa is None and gcp.worker_catalog_root == "/app/catalog"


def test_the_catalog_root_is_the_config_files_folder_unless_set(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.yaml").write_text("gcp: {project: p}\n")
    (tmp_path / "conf" / "b.yaml").write_text("gcp: {project: p, catalog_root: ./zoo}\n")
    assert load_config(tmp_path / "conf" / "a.yaml").gcp.catalog_root == str((tmp_path / "conf").resolve())
    assert load_config(tmp_path / "conf" / "b.yaml").gcp.catalog_root == str((tmp_path / "conf" / "zoo").resolve())
    with pytest.raises(ValidationError, match="worker_catalog_root"):
        GcpSettings(worker_catalog_root="relative/catalog")


def test_gke_and_location_come_together(tmp_path):
    path = tmp_path / "zoo.yaml"
    path.write_text(yaml.safe_dump({"backends": {"compute": "gke"}, "gcp": {"worker_image": "i", "gke_cluster": "c"}}))
    with pytest.raises(ConfigError, match="gke_location"):
        load_config(path)


def cloud_environment(monkeypatch, compute: str) -> None:
    """The variables Terraform gives the function (infra/terraform/locals.tf)."""
    values = {
        "GOOGLE_CLOUD_PROJECT": "p",
        "ZK_REGION": "europe-west1",
        "ZK_PREFIX": "zk-",
        "ZK_CHECKPOINTS_BUCKET": "p-zk-checkpoints",
        "ZK_RECORDINGS_BUCKET": "p-zk-recordings",
        "ZK_CREATE_BUCKET": "false",
        "ZK_COMPUTE": compute,
        "ZK_WORKER_IMAGE": "europe-west1-docker.pkg.dev/p/ainimal-zookeeper/worker:abc123",
        "ZK_WORKER_NAMESPACE": "ainimal-zookeeper",
        "ZK_WORKER_KSA": "worker",
        "ZK_WORKER_SERVICE_ACCOUNT": "zk-worker@p.iam.gserviceaccount.com",
        "ZK_GKE_CLUSTER": "zk-workers" if compute == "gke" else "",
        "ZK_GKE_LOCATION": "europe-west1" if compute == "gke" else "",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_the_deployed_config_sends_its_models_as_paths_the_worker_image_has(monkeypatch):
    cloud_environment(monkeypatch, "gke")
    config = load_config(CLOUD_CONFIG)
    assert config.gcp.recordings_bucket_name == "p-zk-recordings" and config.gcp.worker_ksa == "worker"
    assert config.gcp.gke_cluster_name == "projects/p/locations/europe-west1/clusters/zk-workers"
    from ainimal_zookeeper.adapters.worker_paths import WorkerPaths

    paths = WorkerPaths(config.gcp.catalog_root, config.gcp.worker_catalog_root)
    for model in config.models:
        mapped = paths.path(model.path)
        # worker/Dockerfile copies examples/ (its default CATALOG) to /app/catalog.
        assert mapped.startswith("/app/catalog/")
        assert (REPO / "examples" / mapped.removeprefix("/app/catalog/")).is_file(), mapped


def local_config(tmp_path: Path, compute: str, **gcp: object) -> Path:
    (tmp_path / "catalog").mkdir(exist_ok=True)
    (tmp_path / "catalog" / "walker.py").write_text("class Walker: ...\n")
    config = {
        "backends": {"compute": compute},
        "gcp": {"project": "p", "region": "europe-west1", "worker_image": "img:1", "catalog_root": "./catalog", **gcp},
        "models": [{"name": "Walker", "type": "python_class", "path": "./catalog/walker.py", "class_name": "Walker"}],
    }
    path = tmp_path / "zoo.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def the_spec(config) -> WorkerSpec:
    model = config.models[0].model_dump()
    return WorkerSpec("i1", model, None, {}, {}, "INFER", {}, seed=1)


@pytest.fixture
def kube_config(tmp_path, monkeypatch) -> None:
    """A kube config naming an API nobody serves: constructing the provider makes no request."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def test_gke_workers_get_the_kubernetes_service_account_and_image_paths(tmp_path, kube_config, monkeypatch):
    monkeypatch.setenv("ZK_WORKER_KSA", "worker")
    config = load_config(local_config(tmp_path, "gke"))
    ports = control_plane_ports(config, tmp_path / "data")
    try:
        pod = ports.compute.manifest(the_spec(config)).spec.template.spec
        secret = ports.compute.secret(the_spec(config))
    finally:
        for close in ports.closers:
            close()
    assert pod.service_account_name == "worker"
    [variable] = [e for e in pod.containers[0].env if e.name == "ZK_WORKER_SPEC"]
    assert variable.value is None and variable.value_from.secret_key_ref.name == secret.metadata.name
    sent = json.loads(secret.string_data[variable.value_from.secret_key_ref.key])
    assert sent["model"]["path"] == "/app/catalog/walker.py"


@pytest.fixture
def service_account_key(tmp_path, monkeypatch) -> None:
    """A made-up service-account key, so the Cloud Run clients can be built (they call nothing here)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "0",
                "private_key": pem.decode(),
                "client_email": "zk-function@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))


def test_cloud_run_jobs_run_as_the_worker_service_account_with_image_paths(tmp_path, service_account_key):
    config = load_config(local_config(tmp_path, "cloud_run", worker_service_account="zk-worker@p.iam"))
    ports = control_plane_ports(config, tmp_path / "data")
    try:
        request = ports.compute.create_request(the_spec(config))
    finally:
        for close in ports.closers:
            close()
    task = request.job.template.template
    assert task.service_account == "zk-worker@p.iam"
    sent = json.loads(next(e.value for e in task.containers[0].env if e.name == "ZK_WORKER_SPEC"))
    assert sent["model"]["path"] == "/app/catalog/walker.py"


def test_the_deployed_config_requires_sign_in_and_makes_the_first_admin_from_the_secrets(monkeypatch, tmp_path):
    from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
    from ainimal_zookeeper.bootstrap.access import build_access
    from ainimal_zookeeper.config import load_environment

    cloud_environment(monkeypatch, "cloud_run")
    # What Terraform gives the function from Secret Manager (infra/terraform/locals.tf).
    monkeypatch.setenv("ZK_JWT_SECRET", "k" * 48)
    monkeypatch.setenv("ZK_ADMIN_USERNAME", "admin")
    monkeypatch.setenv("ZK_ADMIN_PASSWORD", "a long first password")
    config = load_config(CLOUD_CONFIG)
    assert config.no_auth is False and config.server.open_to_network is False
    assert [p["type"] for p in config.authentication_providers] == ["jwt"]
    store = SqliteDocumentStore(tmp_path / "accounts.db")  # Firestore's stand-in: any DocumentStore
    access = build_access(config, store)
    try:
        assert not access.open
        assert access.authenticator.ensure_initial_admin(load_environment(config.source_dir)) == "admin"
        assert access.administration is not None
    finally:
        access.close()
        store.close()
