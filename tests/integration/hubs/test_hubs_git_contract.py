"""GitRepoHub against real git: bare repositories made in the test, fetched over file://."""

from __future__ import annotations

from pathlib import Path

import pytest

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient, GitRepoHub
from ainimal_zookeeper.errors import InvalidInput, NotFound
from hub_support import commit_more, make_git_repo

from contracts.model_hubs import MODEL_FILES, ModelHubContract


class TestGitRepoHub(ModelHubContract):
    def make_hub(self, tmp_path: Path) -> GitRepoHub:
        self.url, self.commit = make_git_repo(tmp_path, "pusher", MODEL_FILES)
        self.client = GitClient(timeout=30)
        self.network_calls = lambda: self.client.calls
        return GitRepoHub(self.url, RevisionCache(tmp_path / "cache"), git=self.client)

    def make_unreachable_hub(self, tmp_path: Path) -> GitRepoHub:
        return GitRepoHub(
            f"file://{tmp_path}/missing.git", RevisionCache(tmp_path / "cache"), git=GitClient(timeout=30)
        )

    def test_the_listed_revision_is_the_commit_and_a_new_commit_is_a_new_cached_folder(self, hub, tmp_path):
        assert hub.list_models()[0].revision == self.commit
        old = hub.fetch("pusher", self.commit)
        newer = commit_more(self.url, {"notes.txt": "v2"}, tmp_path)
        assert hub.list_models()[0].revision == newer
        new = hub.fetch("pusher", newer)
        assert new != old and (new / "notes.txt").read_text() == "v2" and not (old / "notes.txt").exists()
        assert not (new / ".git").exists()  # a snapshot of the files, nothing to push from

    def test_a_branch_or_tag_revision_is_resolved_to_its_commit(self, hub):
        assert hub.fetch("pusher", "main") == hub.fetch("pusher", self.commit)

    def test_an_unknown_revision_is_not_found_and_option_like_revisions_are_refused(self, hub):
        with pytest.raises(NotFound, match="no branch or tag 'nope'"):
            hub.fetch("pusher", "nope")
        with pytest.raises(InvalidInput, match="not a branch, tag or commit"):
            hub.fetch("pusher", "--upload-pack=touch /tmp/x")

    def test_transports_that_run_commands_are_refused(self, tmp_path):
        with pytest.raises(InvalidInput, match="not supported"):
            GitRepoHub("ext::sh -c touch% /tmp/pwned", RevisionCache(tmp_path))
