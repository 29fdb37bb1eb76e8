"""GitRepoHub against real git: bare repositories made in the test, fetched over file://."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache, usage
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient, GitRepoHub
from ainimal_zookeeper.errors import InvalidInput, NotFound, Unavailable
from hub_support import commit_more, git, git_bomb, make_git_repo

from contracts.model_hubs import MODEL_FILES, ModelHubContract


class TestGitRepoHub(ModelHubContract):
    def make_hub(self, tmp_path: Path, bound: FetchBound | None = None) -> GitRepoHub:
        self.url, self.commit = make_git_repo(tmp_path, "pusher", MODEL_FILES)
        self.client = GitClient(timeout=30)
        self.network_calls = lambda: self.client.calls
        return GitRepoHub(self.url, RevisionCache(tmp_path / "cache", bound), git=self.client)

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


def test_a_checkout_that_grows_past_the_bound_is_stopped_while_git_writes(tmp_path):
    """A 1 GiB tree from a tiny pack: git is killed once the folder passes 4 MB, long before it
    wrote it all (a thread samples the fetch's folder meanwhile)."""
    url, commit = git_bomb(tmp_path, copies=1024, blob_bytes=1 << 20)
    cache = RevisionCache(tmp_path / "cache", FetchBound(max_bytes=4 << 20))
    hub = GitRepoHub(url, cache, name="bomb", git=GitClient(timeout=60, watch_every=0.02))
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], usage(tmp_path / "cache")[0])
            done.wait(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with pytest.raises(Unavailable, match=r"model 'bomb' is larger than this hub allows \(4 MB"):
            hub.fetch("bomb", commit)
    finally:
        done.set()
        sampler.join()
    assert peak[0] < 256 << 20, f"{peak[0] >> 20} MB written before git was stopped"
    assert usage(tmp_path / "cache") == (0, 0)  # nothing kept, nothing half-fetched


def test_only_the_asked_commit_is_fetched_so_a_large_history_does_not_count(tmp_path):
    url, _ = make_git_repo(tmp_path, "pusher", MODEL_FILES)
    large = commit_more(url, {"old-weights.bin": os.urandom(3 << 20).hex()}, tmp_path)  # 6 MB in history
    work = tmp_path / "more"
    git("rm", "--quiet", "old-weights.bin", cwd=work)
    git("commit", "--quiet", "-m", "weights gone", cwd=work)
    git("push", "--quiet", "origin", "HEAD", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work)
    hub = GitRepoHub(url, RevisionCache(tmp_path / "cache", FetchBound(max_bytes=1 << 20)), git=GitClient(timeout=30))
    assert sorted(path.name for path in hub.fetch("pusher", head).iterdir()) == ["ainimal.yaml", "pusher.py"]
    with pytest.raises(Unavailable, match="larger than this hub allows"):
        hub.fetch("pusher", large)  # the commit that holds them is over the bound


def test_a_server_that_will_not_serve_a_commit_by_its_id_is_cloned_whole(tmp_path):
    """Git's protocol version 0 refuses a commit that is not a branch's or tag's tip."""
    url, first = make_git_repo(tmp_path, "pusher", MODEL_FILES)
    commit_more(url, {"notes.txt": "v2"}, tmp_path)
    version_0 = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.version", "GIT_CONFIG_VALUE_0": "0"}
    hub = GitRepoHub(url, RevisionCache(tmp_path / "cache"), git=GitClient(timeout=30, extra_env=version_0))
    folder = hub.fetch("pusher", first)
    assert sorted(path.name for path in folder.iterdir()) == ["ainimal.yaml", "pusher.py"]  # the first commit's


def test_a_remote_slow_on_every_call_is_given_the_timeout_once_for_the_whole_fetch(tmp_path):
    """Each call of this remote takes 2 s (git's pack-objects hook, from the client's config):
    the commit by its id fails after 2 s, then the full clone would succeed after 2 s more.
    Each call fits a 3 s timeout, the fetch does not."""
    url, first = make_git_repo(tmp_path, "pusher", MODEL_FILES)
    commit_more(url, {"notes.txt": "v2"}, tmp_path)  # `first` is no branch's tip any more
    marker = tmp_path / "second-call"
    hook = tmp_path / "slow-pack-objects.sh"
    hook.write_text(f'#!/bin/sh\nsleep 2\n[ -e "{marker}" ] && exec "$@"\ntouch "{marker}"\nexit 1\n')
    hook.chmod(0o755)
    # Git passes a global config file on to the upload-pack it runs for a file:// remote (and
    # reads this hook only from such protected config).
    (tmp_path / "slow.gitconfig").write_text(f"[uploadpack]\n\tpackObjectsHook = {hook}\n")
    slow = {"GIT_CONFIG_GLOBAL": str(tmp_path / "slow.gitconfig")}
    hub = GitRepoHub(url, RevisionCache(tmp_path / "cache"), git=GitClient(timeout=3, extra_env=slow))
    with pytest.raises(Unavailable, match="did not finish within 3 s"):
        hub.fetch("pusher", first)
    assert marker.exists()  # the first call did run (and fail) slowly
    hub = GitRepoHub(url, RevisionCache(tmp_path / "again"), git=GitClient(timeout=10, extra_env=slow))
    assert (hub.fetch("pusher", first) / "pusher.py").is_file()  # within 10 s it is fetched
