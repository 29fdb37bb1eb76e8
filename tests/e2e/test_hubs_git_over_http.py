"""A model from a `git` hub (a bare repository made here with real git) is listed and launches."""

from __future__ import annotations

from hub_support import MODEL_FILES, make_git_repo

from support import ServerProcess, launch_running, terminate


def test_a_model_in_a_git_hub_appears_in_the_catalog_with_its_source_and_launches(tmp_path):
    url, commit = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    config = tmp_path / "zoo.yaml"
    config.write_text(
        "no_auth: true\n"  # open, on loopback: the test drives the API without signing in
        "envs:\n  - {name: CartPole, type: gymnasium, env_name: CartPole-v1}\n"
        f"model_hubs:\n  - {{type: git, url: '{url}'}}\n"
        # A hub nobody can reach: logged, and the rest is served.
        f"  - {{type: git, url: 'file://{tmp_path}/gone.git'}}\n"
    )
    server = ServerProcess(config, tmp_path / "data")
    try:
        models = {m["name"]: m for m in server.gql("{ models { name description source error } }")["models"]}
        assert models["pusher"] == {
            "name": "pusher",
            "description": "pushes right, from a hub",
            "source": f"git:{url}#pusher@{commit}",
            "error": None,
        }
        instance = launch_running(server, {"model": "pusher", "environment": "CartPole", "mode": "INFER"})
        terminate(server, instance["id"])
        assert "gone.git" in server.log() and "unavailable" in server.log()
    finally:
        assert server.stop() == 0
