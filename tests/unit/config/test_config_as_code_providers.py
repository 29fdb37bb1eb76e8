"""The config as code: every provider object builds exactly what the YAML form builds."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ainimal_zookeeper
from ainimal_zookeeper import AInimal, Env
from ainimal_zookeeper.config import (
    AuthorizationProvider,
    BasicAuthenticationProvider,
    CloudRunComputeProvider,
    GcloudBucketModelProvider,
    GithubModelProvider,
    GitModelProvider,
    GkeComputeProvider,
    GoogleAuthenticationProvider,
    HuggingFaceModelProvider,
    LocalComputeProvider,
    LocalModelHub,
    LocalModelProvider,
    Model,
    OAuthAuthenticationProvider,
    PythonEnvironment,
    PytorchHubModelProvider,
    S3ModelProvider,
    Server,
    load_config,
)
from ainimal_zookeeper.errors import ConfigError

CLOUD_YAML = """
server: {host: 0.0.0.0, port: 8080, allowed_hosts: ["*"], inspectable: false}
no_auth: false
authentication_providers:
  - {type: jwt, jwt_secret: "${env.ZK_TEST_JWT}", db_path: ./users.json, public_can_create_account: true}
  - {type: google, client_id: my-client, client_secret: "${env.ZK_TEST_GOOGLE}", redirect_uri: "https://zoo.example/cb"}
  - {type: github, client_id: gh-client, name: gh}
authorization_provider: {type: json_file, path: ./grants.json, cache_seconds: 5}
envs:
  - {name: Corridor, type: python_class, path: ./envs/corridor.py, class_name: Corridor, max_instances: 10}
models:
  - {name: Policy, type: onnx, path: ./policy.onnx}
  - {name: Agent, path: ./agent.py, class_name: Agent}
model_hubs:
  - {type: local_filesystem, root: ./models}
  - {type: git, url: "file:///srv/zoo.git", revision: main}
  - {type: github, owner: my-org, token_env: ORG_TOKEN}
  - {type: huggingface, view_qualifier: {domain: huggingface.co, owner: my-org}, account: me, filter: rl}
  - {type: gcloud_bucket, bucket: my-models, prefix: zoo/}
  - {type: aws_s3, bucket: my-models, region: eu-west-1}
  - {type: pytorch_hub, root: ./hub_repo}
backends: {documents: firestore, blobs: gcs, bus: pubsub, compute: gke}
gcp: {project: my-project, bucket: my-bucket, worker_image: "europe-docker.pkg.dev/p/zoo/worker:1", namespace: zoo}
workers: {torch_threads: 2, heartbeat_timeout: 10}
"""


def cloud_server() -> Server:
    return Server(
        host="0.0.0.0",
        port=8080,
        allowed_hosts=["*"],
        inspectable=False,
        authentication_providers=[
            BasicAuthenticationProvider(
                jwt_secret="${env.ZK_TEST_JWT}", db_path="./users.json", public_can_create_account=True
            ),
            GoogleAuthenticationProvider("my-client", "${env.ZK_TEST_GOOGLE}", "https://zoo.example/cb"),
            OAuthAuthenticationProvider("github", client_id="gh-client", name="gh"),
        ],
        authorization_provider=AuthorizationProvider("json_file", path="./grants.json", cache_seconds=5),
        environments=[PythonEnvironment("Corridor", "./envs/corridor.py", "Corridor", max_instances=10)],
        models=[Model("Policy", "./policy.onnx", type="onnx"), Model("Agent", "./agent.py", "Agent")],
        model_providers=[
            LocalModelProvider("./models"),
            GitModelProvider("file:///srv/zoo.git", revision="main"),
            GithubModelProvider(owner="my-org", token_env="ORG_TOKEN"),
            HuggingFaceModelProvider(owner="my-org", domain="huggingface.co", account="me", filter="rl"),
            GcloudBucketModelProvider("my-models", prefix="zoo/"),
            S3ModelProvider("my-models", region="eu-west-1"),
            PytorchHubModelProvider("./hub_repo"),
        ],
        backends={"documents": "firestore", "blobs": "gcs", "bus": "pubsub"},
        gcp={"project": "my-project", "bucket": "my-bucket"},
        compute_providers=[GkeComputeProvider("europe-docker.pkg.dev/p/zoo/worker:1", namespace="zoo")],
        torch_threads=2,
        workers={"heartbeat_timeout": 10},
    )


def test_every_provider_object_builds_what_the_yaml_form_builds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZK_TEST_JWT", "j" * 40)
    monkeypatch.setenv("ZK_TEST_GOOGLE", "google-secret")
    (tmp_path / "zoo.yaml").write_text(CLOUD_YAML)
    from_yaml = load_config(tmp_path / "zoo.yaml")
    from_python = cloud_server().config
    assert from_python == from_yaml
    assert from_python.backends.compute == "gke" and from_python.gcp.namespace == "zoo"
    assert [hub.type for hub in from_python.model_hubs] == [
        "local_filesystem",
        "git",
        "github",
        "huggingface",
        "gcloud_bucket",
        "aws_s3",
        "pytorch_hub",
    ]
    assert from_python.authentication_providers[0]["jwt_secret"] == "j" * 40


def test_a_cloud_run_provider_sets_the_compute_backend_and_its_gcp_keys(tmp_path):
    yaml_form = tmp_path / "zoo.yaml"
    yaml_form.write_text(
        "backends: {compute: cloud_run}\n"
        "gcp: {worker_image: img, region: europe-west1, worker_service_account: w@p.iam.gserviceaccount.com}\n"
    )
    python_form = Server(
        compute_providers=[CloudRunComputeProvider("img", "europe-west1", "w@p.iam.gserviceaccount.com")],
        base_dir=tmp_path,
    )
    assert python_form.config == load_config(yaml_form)


def test_a_local_compute_provider_is_the_default_backend():
    assert Server(compute_providers=[LocalComputeProvider()]).config == Server().config


def test_a_model_file_needs_no_class_name_in_the_python_form_either(tmp_path):
    (tmp_path / "zoo.yaml").write_text("models: [{name: P, type: onnx, path: ./p.onnx}]\n")
    python_form = Server(models=[Model("P", "./p.onnx", type="onnx")], base_dir=tmp_path)
    assert python_form.config == load_config(tmp_path / "zoo.yaml")
    assert python_form.config.models[0].class_name is None


def test_a_class_model_without_class_name_is_refused_as_in_yaml():
    with pytest.raises(ConfigError, match=r"<python>: models\[0\]: type ainimal needs path and class_name"):
        Server(models=[Model("M", "m.py")])


def test_the_helpers_of_the_first_version_keep_working():
    assert LocalModelHub("/m") == LocalModelProvider("/m")
    assert LocalModelHub("/m").to_dict() == {"type": "local_filesystem", "root": "/m"}


def test_two_compute_providers_are_refused_naming_the_count():
    with pytest.raises(ConfigError, match=r"compute_providers: one compute provider per server for now; got 2"):
        Server(compute_providers=[LocalComputeProvider(), GkeComputeProvider("img")])


def test_a_compute_provider_that_contradicts_backends_or_gcp_is_refused():
    with pytest.raises(
        ConfigError, match=r"backends.compute is 'local' but compute_providers\[0\] is GkeComputeProvider"
    ):
        Server(backends={"compute": "local"}, compute_providers=[GkeComputeProvider("img")])
    with pytest.raises(ConfigError, match=r"gcp.worker_image is 'a' but compute_providers\[0\] says 'b'"):
        Server(gcp={"worker_image": "a"}, compute_providers=[GkeComputeProvider("b")])


def test_something_else_in_compute_providers_is_refused_naming_what_fits():
    with pytest.raises(ConfigError, match=r"compute_providers\[0\]: got dict; expected LocalComputeProvider"):
        Server(compute_providers=[{"type": "local"}])  # type: ignore[list-item]


def test_a_token_is_never_taken_by_a_model_provider():
    with pytest.raises(
        ConfigError, match="GithubModelProvider takes no token: put it in .env.local .* as GITHUB_TOKEN"
    ):
        GithubModelProvider(owner="me", token="ghp_x")
    with pytest.raises(ConfigError, match="HuggingFaceModelProvider takes no token: .* as HF_TOKEN"):
        HuggingFaceModelProvider(owner="me", token="hf_x")


def test_a_provider_key_the_yaml_would_refuse_is_refused_in_python_with_the_same_message(tmp_path):
    (tmp_path / "zoo.yaml").write_text("model_hubs: [{type: github, owner: me, api: x}]\n")
    with pytest.raises(ConfigError) as from_yaml:
        load_config(tmp_path / "zoo.yaml")
    with pytest.raises(ConfigError) as from_python:
        Server(model_providers=[GithubModelProvider(owner="me", api="x")])
    assert str(from_python.value).removeprefix("<python>") == str(from_yaml.value).removeprefix(
        str(tmp_path / "zoo.yaml")
    )


def test_the_package_offers_the_config_as_code_and_the_agent_alias():
    assert ainimal_zookeeper.Server is Server and ainimal_zookeeper.Model is Model
    assert ainimal_zookeeper.GithubModelProvider is GithubModelProvider
    assert AInimal.Agent is AInimal and AInimal.Env is Env

    class Pilot(AInimal.Agent):
        pass

    assert issubclass(Pilot, AInimal) and Pilot.supports("train") is False
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = ainimal_zookeeper.Nope


def test_the_config_layer_loads_without_the_server_and_a_worker_without_the_config():
    probe = (
        "import sys, ainimal_zookeeper.config as c; c.Server(); "
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('ainimal_zookeeper.')}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "'server'" not in loaded and "'bootstrap'" not in loaded and "'config'" in loaded
    sdk_only = "import sys, ainimal_zookeeper; print('ainimal_zookeeper.config' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", sdk_only], capture_output=True, text=True, check=True).stdout == "False\n"
    )
