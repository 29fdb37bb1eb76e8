"""Checkpoints of a model from a `huggingface` hub with push: true become tags in its repository
on the Hub, over HTTP: a stand-in Hub on loopback whose repository is a bare git repository made
here, served by `git http-backend`; the token comes from `.env.local` beside the config."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("huggingface_hub", reason="the huggingface extra is not installed")

from test_git_checkpoint_tags_over_http import FILES, SAVE

from hf_git_support import HfGitStandIn
from hub_support import git

from support import ServerProcess, launch_running, terminate, wait_for

TOKEN = "hf_e2e-write-token-5678"


def test_a_checkpoint_of_a_hugging_face_model_is_a_tag_pushed_to_the_hub_and_launches_again(tmp_path):
    hub = HfGitStandIn(tmp_path / "hub", "zoo-org/counter", FILES, TOKEN)
    config = tmp_path / "zoo.yaml"
    config.write_text(
        "no_auth: true\n"
        "envs:\n  - {name: CartPole, type: gymnasium, env_name: CartPole-v1}\n"
        "model_hubs:\n"
        f"  - {{type: huggingface, endpoint: '{hub.url}', models: [zoo-org/counter], account: zoo-org, push: true}}\n"
    )
    (tmp_path / ".env.local").write_text(f"HF_TOKEN={TOKEN}\n")
    server = ServerProcess(config, tmp_path / "data")
    try:
        names = [m["name"] for m in server.gql("{ models { name } }")["models"]]
        [name] = [n for n in names if "counter" in n]
        instance = launch_running(server, {"model": name, "environment": "CartPole", "mode": "INFER"})
        saved = server.gql(SAVE, {"id": instance["id"], "tag": "hf/first"})["saveCheckpoint"]
        terminate(server, instance["id"])
        assert saved["gitTag"] == "hf/first" and saved["gitPushed"] is True
        assert git("tag", "--list", cwd=hub.bare).split() == ["hf/first"]
        assert git("rev-parse", "hf/first^{commit}", cwd=hub.bare) == saved["gitCommit"]
        assert git("rev-parse", "hf/first^{commit}^1", cwd=hub.bare) == hub.base
        saved_calls = json.loads(git("show", "hf/first:zookeeper-checkpoint/model/count.json", cwd=hub.bare))["calls"]
        assert hub.pushes and all(hub.pushes)

        fields = "id status step headCheckpoint { id tag gitCommit }"
        again = launch_running(server, {"model": name, "environment": "CartPole", "revision": "hf/first"}, fields)
        assert again["headCheckpoint"]["gitCommit"] == saved["gitCommit"]
        assert again["step"] >= saved["step"]
        state = wait_for(
            lambda: (s := server.gql(f'{{ instance(id: "{again["id"]}") {{ state }} }}')["instance"]["state"]) and s,
            what="the instance's state",
        )
        assert state["calls"] >= saved_calls > 0  # loaded from the tagged tree's checkpoint
        terminate(server, again["id"])
        assert TOKEN not in server.log()
    finally:
        assert server.stop() == 0
        hub.close()
