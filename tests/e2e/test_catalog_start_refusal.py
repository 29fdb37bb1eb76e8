"""A bad catalog entry stops the server at start (file, key, fix), unless catalog.lenient marks it."""

from __future__ import annotations

import subprocess
import sys

from support import REPO, ServerProcess, free_port

EXAMPLES = REPO / "examples"
CONFIG = f"""
no_auth: true
envs:
  - name: CartPole
    type: gymnasium
    env_name: CartPole-v1
  - name: Pole
    type: gymnasium
    env_name: CartPol-v1
models:
  - name: Reinforce
    type: ainimal
    path: {EXAMPLES / "cartpole_reinforce.py"}
    class_name: ReinforceAgent
  - name: Balancer
    type: python_class
    path: {EXAMPLES / "plain_agent.py"}
    class_name: BalancingControler
"""
MODELS = "{ models { name error } environments { name error } }"
LAUNCH = 'mutation { launch(input: {model: "Balancer", environment: "CartPole"}) { id } }'


def test_a_bad_entry_stops_the_server_at_start_naming_the_file_the_key_and_the_fix(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text(CONFIG)
    done = subprocess.run(
        [sys.executable, "-m", "ainimal_zookeeper.server", "--config", str(config), "--port", str(free_port())]
        + ["--data", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=90,
    )
    assert done.returncode == 2, done.stderr
    assert (
        f"{config}: models[1].class_name ('Balancer'): plain_agent.py has no class 'BalancingControler'; "
        "fix: did you mean class_name: BalancingController?"
    ) in done.stderr
    assert f"{config}: envs[1].env_name ('Pole'): gymnasium has no registered environment 'CartPol-v1'" in done.stderr
    assert "catalog.lenient: true" in done.stderr
    assert "serving GraphQL" not in done.stdout
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_with_catalog_lenient_the_server_starts_and_marks_the_bad_entries_in_the_catalog(tmp_path):
    config = tmp_path / "zoo.yaml"
    config.write_text(CONFIG + "catalog:\n  lenient: true\n")
    server = ServerProcess(config, tmp_path / "data")
    try:
        catalog = server.gql(MODELS)
        errors = {m["name"]: m["error"] for m in catalog["models"]}
        assert errors["Reinforce"] is None
        assert errors["Balancer"] == (
            "models[1].class_name: plain_agent.py has no class 'BalancingControler'; "
            "fix: did you mean class_name: BalancingController?"
        )
        envs = {e["name"]: e["error"] for e in catalog["environments"]}
        assert envs["CartPole"] is None and envs["Pole"].startswith("envs[1].env_name: gymnasium has no registered")
        refused = server.errors(LAUNCH)
        assert refused[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "'Balancer' cannot be launched: models[1].class_name" in refused[0]["message"]
        assert "catalog entry unavailable (catalog.lenient)" in server.log()
    finally:
        assert server.stop() == 0, server.log()
