"""GitHubHub: listing through a stand-in of GitHub's REST API (there is no network here), fetching
with real git from bare repositories made in the test (their file:// URLs as clone_url)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient
from ainimal_zookeeper.adapters.hubs.github import GitHubHub
from ainimal_zookeeper.errors import Unavailable
from hub_support import StandInServer, json_answer, make_git_repo

from contracts.model_hubs import MODEL_FILES, ModelHubContract


def repo_json(owner: str, name: str, url: str) -> dict[str, object]:
    return {"full_name": f"{owner}/{name}", "clone_url": url, "default_branch": "main", "description": "a zoo"}


class TestGitHubHubByOwner(ModelHubContract):
    model_name = "zoo-org/pusher"

    @pytest.fixture(autouse=True)
    def _api(self, tmp_path):
        self.url, self.commit = make_git_repo(tmp_path, "pusher", MODEL_FILES)
        evil = {"full_name": "zoo-org/evil", "clone_url": "ext::sh -c id", "default_branch": "main"}
        self.api = StandInServer(
            {
                "/users/zoo-org/repos": lambda q: json_answer([repo_json("zoo-org", "pusher", self.url), evil]),
                "/search/repositories": lambda q: json_answer(
                    {"items": [repo_json("zoo-org", "pusher", self.url)] if q.get("q") == "topic:ainimal" else []}
                ),
            }
        )
        yield
        self.api.close()

    def make_hub(self, tmp_path: Path, bound: FetchBound | None = None) -> GitHubHub:
        git = GitClient(timeout=30)
        hub = GitHubHub(RevisionCache(tmp_path / "cache", bound), owner="zoo-org", api_url=self.api.url, git=git)
        self.network_calls = lambda: len(self.api.requests) + git.calls
        return hub

    def make_unreachable_hub(self, tmp_path: Path) -> GitHubHub:
        return GitHubHub(RevisionCache(tmp_path / "cache"), owner="zoo-org", api_url="http://127.0.0.1:9")

    def test_the_listing_comes_from_the_accounts_repositories_and_skips_urls_git_may_not_fetch(self, hub):
        models = hub.list_models()
        assert [(m.name, m.revision, m.description) for m in models] == [("zoo-org/pusher", self.commit, "a zoo")]
        assert self.api.requests[0].startswith("/users/zoo-org/repos?per_page=100")

    def test_a_search_lists_the_repositories_it_finds(self, tmp_path):
        hub = GitHubHub(RevisionCache(tmp_path / "c2"), search="topic:ainimal", api_url=self.api.url)
        assert [m.name for m in hub.list_models()] == ["zoo-org/pusher"]
        assert any(r.startswith("/search/repositories?q=topic%3Aainimal") for r in self.api.requests)

    def test_an_api_answer_that_is_not_a_list_of_repositories_is_a_clear_error(self, tmp_path):
        self.api.routes["/users/zoo-org/repos"] = lambda q: json_answer({"message": "Bad credentials"}, 401)
        hub = GitHubHub(RevisionCache(tmp_path / "c3"), owner="zoo-org", api_url=self.api.url)
        with pytest.raises(Unavailable, match="github:zoo-org.*HTTP 401"):
            hub.list_models()
