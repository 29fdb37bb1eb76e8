"""The deployment files hold together: Cloud Build, docker compose, Terraform and the cloud config.

Nothing here reaches a cloud or a Docker engine: the files are parsed (PyYAML, plus a small
brace matcher for HCL) and checked against each other, `terraform fmt -check` runs when the
binary is installed, and the function-source staging script runs on a stand-in wheel.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "infra" / "terraform"
CLOUDBUILD = REPO / "cloudbuild.yaml"
COMPOSE = REPO / "local_emulator" / "docker-compose.yml"
CLOUD_CONFIG = TERRAFORM / "config" / "zoo.yaml"
STAGE_SCRIPT = TERRAFORM / "scripts" / "stage_function.py"

WORKER_IMAGE = "${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/worker"


# ---- helpers ----


def _block_body(text: str, opening: int) -> str:
    """The text between the brace at `opening` and its matching closing brace."""
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[opening + 1 : index]
    raise AssertionError(f"unbalanced braces after offset {opening}")


def _top_level(body: str) -> str:
    """`body` without its nested blocks (so `description` inside `validation` does not count)."""
    out, depth = [], 0
    for char in body:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def terraform_variables() -> dict[str, str]:
    """Every `variable` block in variables.tf: name -> body."""
    text = (TERRAFORM / "variables.tf").read_text()
    return {m["name"]: _block_body(text, m.end() - 1) for m in re.finditer(r'variable\s+"(?P<name>[^"]+)"\s*\{', text)}


def variable_default(body: str) -> str | None:
    """A variable's literal default (string or number), as text; None when it has none."""
    match = re.search(r'^\s*default\s*=\s*(?:"(?P<string>[^"]*)"|(?P<number>[0-9]+))\s*$', _top_level(body), re.M)
    return None if match is None else (match["string"] if match["string"] is not None else match["number"])


def terraform_function_env_keys() -> set[str]:
    """The keys of locals.function_env in locals.tf."""
    text = (TERRAFORM / "locals.tf").read_text()
    opening = re.search(r"function_env\s*=\s*\{", text)
    assert opening, "locals.tf defines no function_env map"
    body = _block_body(text, opening.end() - 1)
    return set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", body, re.M))


def cloudbuild() -> dict:
    return yaml.safe_load(CLOUDBUILD.read_text())


def step(build: dict, step_id: str) -> dict:
    steps = {s.get("id"): s for s in build["steps"]}
    assert step_id in steps, f"cloudbuild.yaml has no step {step_id!r}; it has {sorted(steps)}"
    return steps[step_id]


def step_text(build: dict, step_id: str) -> str:
    """Everything a step runs, as one string (its entrypoint and arguments)."""
    s = step(build, step_id)
    return " ".join([s.get("entrypoint", ""), *map(str, s.get("args", []))])


def deploy_env_keys(build: dict) -> set[str]:
    match = re.search(r'--set-env-vars="([^"]+)"', step_text(build, "deploy-function"))
    assert match, "the deploy step passes no --set-env-vars"
    return {pair.split("=", 1)[0] for pair in match.group(1).split(",")}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def config_env_references() -> set[str]:
    return set(re.findall(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}", CLOUD_CONFIG.read_text()))


# ---- cloudbuild.yaml ----


def test_cloudbuild_runs_the_tests_with_make_in_a_python_311_image():
    test = step(cloudbuild(), "test")
    assert test["name"].startswith("python:3.11")
    assert re.search(r"\bmake test\b", step_text(cloudbuild(), "test"))


def test_cloudbuild_builds_and_pushes_the_worker_image_with_both_tags():
    build = cloudbuild()
    build_args = step(build, "build-worker")["args"]
    assert "--file=worker/Dockerfile" in build_args and build_args[-1] == ".", "build context must be the repo root"
    assert f"--tag={WORKER_IMAGE}:$SHORT_SHA" in build_args
    assert f"--tag={WORKER_IMAGE}:latest" in build_args
    assert WORKER_IMAGE in step(build, "push-worker")["args"]
    assert set(step(build, "push-worker")["waitFor"]) >= {"build-worker", "test"}, "push only what passed the tests"
    assert build["images"] == [f"{WORKER_IMAGE}:$SHORT_SHA", f"{WORKER_IMAGE}:latest"]


def test_cloudbuild_builds_the_wheel_and_stages_the_function_source():
    build = cloudbuild()
    assert "pip wheel" in step_text(build, "wheel")
    assert "infra/terraform/scripts/stage_function.py" in step_text(build, "stage-function")
    assert "gs://$PROJECT_ID-${_PREFIX}-sources/function/$SHORT_SHA.zip" in step_text(build, "upload-function-source")


def test_cloudbuild_deploys_a_gen2_python311_http_function_from_the_uploaded_zip():
    text = step_text(cloudbuild(), "deploy-function")
    assert "gcloud functions deploy ${_FUNCTION_NAME}" in text
    for flag in (
        "--gen2",
        "--runtime=python311",
        "--entry-point=graphql",
        "--trigger-http",
        "--region=${_REGION}",
        "--source=gs://$PROJECT_ID-${_PREFIX}-sources/function/$SHORT_SHA.zip",
        "--set-secrets=",
    ):
        assert flag in text, f"deploy step lacks {flag}"
    assert "ZK_WORKER_IMAGE=" + WORKER_IMAGE + ":$SHORT_SHA" in text, "the function must launch the image just built"


def test_cloudbuild_defines_every_substitution_it_uses_and_has_a_timeout():
    build = cloudbuild()
    used = set(re.findall(r"\$\{(_[A-Z0-9_]+)\}", CLOUDBUILD.read_text()))
    assert used <= set(build["substitutions"]), f"no default for {sorted(used - set(build['substitutions']))}"
    assert re.fullmatch(r"[0-9]+s", build["timeout"])


def test_cloudbuild_and_terraform_give_the_function_the_same_environment():
    assert deploy_env_keys(cloudbuild()) == terraform_function_env_keys() - {"LOG_EXECUTION_ID"}


def test_cloudbuild_substitution_defaults_match_the_terraform_variable_defaults():
    pairs = {
        "_REGION": "region",
        "_PREFIX": "name_prefix",
        "_REPOSITORY": "artifact_repository_id",
        "_FUNCTION_NAME": "function_name",
        "_COMPUTE": "compute_backend",
        "_JWT_SECRET": "jwt_secret_id",
        "_ADMIN_PASSWORD_SECRET": "admin_password_secret_id",
        "_ADMIN_USERNAME": "initial_admin_username",
        "_BUS_SIGNING_SECRET": "bus_signing_secret_id",
        "_WORKER_NAMESPACE": "worker_namespace",
        "_WORKER_KSA": "worker_ksa",
        "_MAX_INSTANCES": "function_max_instances",
        "_MIN_INSTANCES": "function_min_instances",
    }
    substitutions, variables = cloudbuild()["substitutions"], terraform_variables()
    for substitution, variable in pairs.items():
        assert str(substitutions[substitution]) == variable_default(variables[variable]), (substitution, variable)


# ---- docker compose ----


def test_compose_has_the_three_emulators_the_api_and_the_worker():
    assert set(compose()["services"]) == {"firestore", "pubsub", "gcs", "api", "worker"}


def test_compose_emulators_listen_where_the_api_is_told_they_are():
    services = compose()["services"]
    firestore, pubsub, gcs = (" ".join(services[name]["command"]) for name in ("firestore", "pubsub", "gcs"))
    assert "google-cloud-cli:emulators" in services["firestore"]["image"]
    assert "firestore start" in firestore and "--host-port=0.0.0.0:8080" in firestore
    assert "pubsub start" in pubsub and "--host-port=0.0.0.0:8085" in pubsub
    assert services["gcs"]["image"].startswith("fsouza/fake-gcs-server")
    assert "-scheme http" in gcs and "-port 4443" in gcs
    for service in ("api", "worker"):
        env = services[service]["environment"]
        assert env["FIRESTORE_EMULATOR_HOST"] == "firestore:8080"
        assert env["PUBSUB_EMULATOR_HOST"] == "pubsub:8085"
        assert env["STORAGE_EMULATOR_HOST"] == "http://gcs:4443"
        assert env["GOOGLE_CLOUD_PROJECT"]


def test_compose_api_runs_the_server_on_the_cloud_config_after_healthy_emulators():
    services = compose()["services"]
    api = services["api"]
    assert api["command"] == [
        "python", "-m", "ainimal_zookeeper.server", "--config", "/config/zoo.yaml", "--host", "0.0.0.0",
    ]  # fmt: skip
    assert (COMPOSE.parent / api["build"]["context"] / api["build"]["dockerfile"]).is_file()
    for emulator in ("firestore", "pubsub", "gcs"):
        assert api["depends_on"][emulator]["condition"] == "service_healthy"
        assert services[emulator]["healthcheck"]["test"], f"{emulator} has no healthcheck"
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    missing = config_env_references() - set(api["environment"])
    assert not missing, f"the api container lacks {sorted(missing)}, which the config reads"


def test_compose_builds_the_worker_image_without_starting_a_worker():
    worker = compose()["services"]["worker"]
    assert worker["profiles"], "workers are launched per instance: keep the service behind a profile"
    assert worker["build"]["dockerfile"] == "worker/Dockerfile"
    assert (COMPOSE.parent / worker["build"]["context"]).resolve() == REPO
    assert compose()["services"]["api"]["environment"]["ZK_WORKER_IMAGE"] == worker["image"]


# ---- Terraform ----


def test_terraform_files_are_formatted():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the terraform binary is not installed, so `terraform fmt -check` cannot run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", str(TERRAFORM)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra/terraform`; unformatted:\n{result.stdout}"


def test_every_terraform_variable_has_a_description():
    variables = terraform_variables()
    assert "project_id" in variables and "compute_backend" in variables
    undocumented = [
        name for name, body in variables.items() if not re.search(r"^\s*description\s*=", _top_level(body), re.M)
    ]
    assert not undocumented, f"variables without a description: {undocumented}"


def test_the_cloud_config_reads_only_variables_the_function_is_given():
    missing = config_env_references() - terraform_function_env_keys()
    assert not missing, f"infra/terraform/config/zoo.yaml reads {sorted(missing)}, which Terraform does not set"


def test_the_firestore_indexes_cover_the_control_plane_queries():
    text = (TERRAFORM / "firestore.tf").read_text()
    for collection, first, second in [
        ("instances", "status", "createdAt"),
        ("instances", "model", "status"),
        ("checkpoints", "instance", "createdAt"),
        ("commands", "instance", "status"),
    ]:
        pattern = rf'collection\s*=\s*"{collection}",\s*fields\s*=\s*\["{first}",\s*"{second}"\]'
        assert re.search(pattern, text), f"no composite index on {collection}({first}, {second})"


_SECRET_PATTERNS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"secret_data\s*=\s*\"[A-Za-z0-9+/=_-]{16,}\""), "a literal secret_data value"),
    # Long base64 with upper, lower case and digits all present (resource paths have no digits).
    (
        re.compile(r"(?=[A-Za-z0-9+/]*[0-9])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{40,}={0,2}"),
        "a long base64 string",
    ),
    (re.compile(r'"private_key"\s*:'), "a service account key file"),
    (re.compile(r"AIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"GOCSPX-[0-9A-Za-z_-]{20,}"), "a Google OAuth client secret"),
]


def test_nothing_under_infra_looks_like_a_secret_value():
    findings = []
    for path in sorted((REPO / "infra").rglob("*")):
        if not path.is_file() or ".terraform" in path.parts or path.suffix in {".zip", ".whl"}:
            continue
        text = path.read_text(errors="replace")
        findings += [f"{path.relative_to(REPO)}: {what}" for pattern, what in _SECRET_PATTERNS if pattern.search(text)]
    assert not findings, "\n".join(findings)
    versions = [p for p in TERRAFORM.glob("*.tf") if "google_secret_manager_secret_version" in p.read_text()]
    assert not versions, f"secret versions belong outside Terraform (their values land in state): {versions}"


# ---- the function source ----


def test_staging_puts_main_requirements_wheel_config_and_catalog_at_the_source_root(tmp_path):
    wheel_dir = tmp_path / "dist"
    wheel_dir.mkdir()
    wheel = wheel_dir / "ainimal_zookeeper-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:  # a stand-in: staging only copies it
        zf.writestr("ainimal_zookeeper/__init__.py", "")
    out, archive = tmp_path / "function", tmp_path / "function.zip"
    result = subprocess.run(
        [sys.executable, str(STAGE_SCRIPT), f"--wheel-dir={wheel_dir}", f"--out={out}", f"--zip={archive}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert f"./wheels/{wheel.name}[cloud,gcp]" in requirements
    assert not any(line.strip().startswith("ainimal-zookeeper") for line in requirements)
    names = set(zipfile.ZipFile(archive).namelist())
    expected = {"main.py", "requirements.txt", "zoo.yaml", f"wheels/{wheel.name}", "catalog/cartpole_reinforce.py"}
    assert expected <= names
    model_paths = re.findall(r"path:\s*\./(\S+)", CLOUD_CONFIG.read_text())
    assert model_paths and all(path in names for path in model_paths), "the config's model paths must be in the zip"
