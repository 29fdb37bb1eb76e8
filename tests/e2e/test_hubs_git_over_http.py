"""A model from a `git` hub (a bare repository made here with real git) is listed and launches."""

from __future__ import annotations

from hub_support import MODEL_FILES, git_bomb, make_git_repo, serve_hubs

from support import launch_running, terminate


def test_a_model_in_a_git_hub_appears_in_the_catalog_with_its_source_and_launches(tmp_path):
    url, commit = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    # The second: a hub nobody can reach, logged, and the rest is served.
    server = serve_hubs(tmp_path, f"{{type: git, url: '{url}'}}", f"{{type: git, url: 'file://{tmp_path}/gone.git'}}")
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


def test_a_hub_model_larger_than_max_model_mb_is_listed_with_the_reason_and_the_rest_is_served(tmp_path):
    """An attacker's repository: a tiny pack that checks out into 64 MB, behind a 1 MB bound."""
    url, _ = git_bomb(tmp_path, copies=64, blob_bytes=1 << 20)
    good, _ = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    server = serve_hubs(
        tmp_path, f"{{type: git, url: '{url}', max_model_mb: 1}}", f"{{type: git, url: '{good}', max_model_mb: 1}}"
    )
    try:
        models = {m["name"]: m for m in server.gql("{ models { name error } }")["models"]}
        assert models["bomb"]["error"] == (
            f"model hub git:{url} cannot fetch it: model 'bomb' is larger than this hub allows "
            "(1 MB and 20000 files; the hub's max_model_mb setting), so it was not fetched"
        )
        assert models["pusher"]["error"] is None
        instance = launch_running(server, {"model": "pusher", "environment": "CartPole", "mode": "INFER"})
        terminate(server, instance["id"])
        [refused] = server.errors(
            "mutation($i: LaunchInput!) { launch(input: $i) { id } }",
            {"i": {"model": "bomb", "environment": "CartPole", "mode": "INFER"}},
        )
        assert refused["extensions"]["code"] == "BAD_USER_INPUT"
        assert (
            refused["message"].startswith("'bomb' cannot be launched: ")
            and "larger than this hub allows" in refused["message"]
        )
        assert not list((tmp_path / "data").rglob("copy00000.bin"))  # nothing of it on disk
    finally:
        assert server.stop() == 0
