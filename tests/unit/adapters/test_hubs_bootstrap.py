"""The composition root builds one hub adapter per `model_hubs:` entry, tokens from .env.local."""

from __future__ import annotations

import sys

import pytest

from ainimal_zookeeper.adapters.hubs.git_repo import GitRepoHub
from ainimal_zookeeper.adapters.hubs.github import GitHubHub
from ainimal_zookeeper.adapters.hubs.local_folder import LocalFolderHub
from ainimal_zookeeper.adapters.hubs.unavailable import UnavailableHub
from ainimal_zookeeper.bootstrap.model_hubs import build_model_hubs
from ainimal_zookeeper.config import config_from_dict
from ainimal_zookeeper.errors import ConfigError, Unavailable


def test_each_hub_entry_becomes_its_adapter(tmp_path):
    config = config_from_dict(
        {
            "model_hubs": [
                {"type": "local_filesystem", "root": str(tmp_path)},
                {"type": "git", "url": "file:///srv/zoo.git", "revision": "main"},
                {"type": "github", "owner": "zoo-org", "api_url": "http://127.0.0.1:9", "max_model_mb": 16},
            ]
        }
    )
    local, git, github = build_model_hubs(config, tmp_path / "data")
    assert isinstance(local, LocalFolderHub) and isinstance(git, GitRepoHub) and isinstance(github, GitHubHub)
    assert git.revision == "main" and git.cache.root.is_relative_to(tmp_path / "data" / "hubs" / "git")
    assert github.label == "github:zoo-org" and github.git.extra_env == {}
    assert (git.cache.bound.max_bytes, github.cache.bound.max_bytes) == (4 << 30, 16 << 20)  # default, then set


@pytest.mark.parametrize("size", [0, -1, (1 << 20) + 1, "lots"])
def test_a_hub_bound_out_of_range_is_refused_with_the_key_named(tmp_path, size):
    with pytest.raises(ConfigError, match="max_model_mb"):
        config_from_dict({"model_hubs": [{"type": "git", "url": "file:///srv/zoo.git", "max_model_mb": size}]})


def test_a_huggingface_account_token_comes_from_env_local(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env.local").write_text("HF_TOKEN=hf_secret_from_env_local\n")
    config = config_from_dict(
        {"model_hubs": [{"type": "huggingface", "account": "alice", "view_qualifier": {"domain": "hub.example"}}]}
    )
    [hub] = build_model_hubs(config, tmp_path / "data")
    assert hub.token == "hf_secret_from_env_local" and hub.author == "alice"
    assert hub.endpoint == "https://hub.example"


def test_a_hub_whose_client_library_is_missing_is_unavailable_with_the_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # an import of boto3 now fails
    config = config_from_dict({"model_hubs": [{"type": "aws_s3", "bucket": "zoo"}]})
    [hub] = build_model_hubs(config, tmp_path / "data")
    assert isinstance(hub, UnavailableHub)
    with pytest.raises(Unavailable, match=r"model_hubs\[0\] \(aws_s3\): .*boto3.*ainimal-zookeeper\[s3\]"):
        hub.list_models()


def test_a_local_folder_hub_behind_the_port_still_offers_every_ainimal_and_env_in_its_files(tmp_path):
    from ainimal_zookeeper.catalog.catalog import Catalog

    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "zoo_agent.py").write_text(
        "from ainimal_zookeeper import AInimal, Env\n"
        "import gymnasium\n"
        "class HubAgent(AInimal):\n    def forward(self, inputs):\n        return {'action': 0}\n"
        "class HubEnv(Env):\n"
        "    observation_space = gymnasium.spaces.Discrete(2)\n    action_space = gymnasium.spaces.Discrete(2)\n"
        "    def reset(self, *, seed=None, options=None):\n        super().reset(seed=seed)\n        return 0, {}\n"
        "    def step(self, action):\n        return 0, 0.0, True, False, {}\n"
    )
    config = config_from_dict({"model_hubs": [{"type": "local_filesystem", "root": str(tmp_path / "zoo")}]})
    catalog = Catalog([], [], [], model_hubs=build_model_hubs(config, tmp_path / "data"))
    assert [e.name for e in catalog.models()] == ["HubAgent"]
    assert [e.name for e in catalog.environments()] == ["HubEnv"]
    assert catalog.model("HubAgent").spec["source"] == f"local_filesystem:{tmp_path / 'zoo'}#zoo@working-tree"
    assert not (tmp_path / "data" / "hubs").exists()  # a local folder is used in place
