"""Checkpoints as tags on a `git` hub: real git over file://, bare remotes made here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient, GitRepoHub
from ainimal_zookeeper.errors import Conflict, InvalidInput, Unavailable
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR
from hub_support import MODEL_FILES, make_git_repo
from hub_support import git as plain_git


def _checkpoint(tmp_path: Path, weights: str = "w=1") -> Path:
    folder = tmp_path / "ckpt" / weights.replace("=", "")
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "model" / "weights.txt").write_text(weights)
    (folder / "zookeeper.json").write_text('{"format": 2, "step": 7}')
    return folder


def _hub(tmp_path: Path, url: str, push: bool, timeout: float = 60.0) -> GitRepoHub:
    return GitRepoHub(url, RevisionCache(tmp_path / "cache"), name="pusher", push=push, git=GitClient(timeout))


def _bare(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def _remote_tags(url: str) -> list[str]:
    return plain_git("tag", "--list", cwd=_bare(url)).split()


def test_a_tag_commits_the_checkpoint_on_the_base_commit_and_is_pushed_without_moving_branches(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hub = _hub(tmp_path, url, push=True)
    made = hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "run-1/first", "checkpoint first")
    bare = _bare(url)
    assert made.pushed and not made.lfs and made.parent == base
    assert _remote_tags(url) == ["run-1/first"]
    assert plain_git("rev-parse", "run-1/first^{commit}", cwd=bare) == made.commit
    assert plain_git("rev-parse", f"{made.commit}^1", cwd=bare) == base
    assert plain_git("show", f"run-1/first:{CHECKPOINT_DIR}/model/weights.txt", cwd=bare) == "w=1"
    assert plain_git("show", "run-1/first:pusher.py", cwd=bare) == MODEL_FILES["pusher.py"].strip()
    assert plain_git("cat-file", "-t", "run-1/first", cwd=bare) == "tag"  # annotated
    assert "AInimal Zookeeper <zookeeper@localhost>" in plain_git("cat-file", "-p", "run-1/first", cwd=bare)
    assert plain_git("rev-parse", "main", cwd=bare) == base  # no branch moved


def test_a_second_checkpoint_on_the_first_replaces_the_checkpoint_folder(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hub = _hub(tmp_path, url, push=True)
    first = hub.tag_and_push("pusher", base, _checkpoint(tmp_path, "w=1"), "a", "a")
    second = hub.tag_and_push("pusher", first.commit, _checkpoint(tmp_path, "w=2"), "b", "b")
    bare = _bare(url)
    assert plain_git("rev-parse", f"{second.commit}^1", cwd=bare) == first.commit
    assert plain_git("show", f"b:{CHECKPOINT_DIR}/model/weights.txt", cwd=bare) == "w=2"
    assert hub.resolve_tag("pusher", "b").parent == first.commit


def test_a_tag_that_exists_on_the_remote_is_a_conflict_naming_the_tag_and_the_hub(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    plain_git("tag", "taken", "main", cwd=_bare(url))
    hub = _hub(tmp_path, url, push=True)
    with pytest.raises(Conflict, match=r"tag 'taken' already exists in git:file://"):
        hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "taken", "m")


def test_a_tag_made_without_push_stays_in_the_zookeepers_clone_and_conflicts_there(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hub = _hub(tmp_path, url, push=False)
    made = hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "local-only", "m")
    assert not made.pushed and _remote_tags(url) == []
    with pytest.raises(Conflict, match="local-only"):
        hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "local-only", "m")


def test_a_local_tag_and_a_remote_tag_of_the_same_name_made_elsewhere_do_not_stop_later_saves(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hub = _hub(tmp_path, url, push=False)
    mine = hub.tag_and_push("pusher", base, _checkpoint(tmp_path, "w=1"), "same", "m")
    plain_git("tag", "same", "main", cwd=_bare(url))  # someone else's tag, another commit
    later = hub.tag_and_push("pusher", mine.commit, _checkpoint(tmp_path, "w=2"), "later", "m")
    assert later.parent == mine.commit
    assert hub.resolve_tag("pusher", "same").commit == base  # the remote's tag wins a lookup


@pytest.mark.parametrize("bad", ["has space", "a..b", "-x", "ends.lock", "a~1", "x@{y}", "", "t" * 201, "/lead"])
def test_a_bad_tag_name_is_invalid_input_naming_the_tag(tmp_path, bad):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    with pytest.raises(InvalidInput, match="not a valid git tag name"):
        _hub(tmp_path, url, push=True).tag_and_push("pusher", base, _checkpoint(tmp_path), bad, "m")


def test_a_push_refused_by_a_hook_says_which_hub_and_why_and_the_same_tag_can_be_tried_again(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hook = _bare(url) / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are frozen today' >&2\nexit 1\n")
    hook.chmod(0o755)
    hub = _hub(tmp_path, url, push=True)
    with pytest.raises(Unavailable, match=r"model hub git:file://.* refused tag 'v1': .*tags are frozen today"):
        hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "v1", "m")
    assert _remote_tags(url) == []
    hook.unlink()
    assert hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "v1", "m").pushed


def test_a_push_that_outlasts_the_git_timeout_is_unavailable_and_leaves_no_tag(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hook = _bare(url) / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nsleep 2\nexit 1\n")
    hook.chmod(0o755)
    hub = _hub(tmp_path, url, push=True)
    hub.git.run(["--version"])  # warm; then only the push may be slow
    hub.git.timeout = 0.5
    with pytest.raises(Unavailable, match="did not finish within 0.5 s"):
        hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "slow", "m")


def test_the_commit_identity_never_comes_from_the_users_git_config(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n  name = Someone Else\n  email = someone@example.org\n")
    monkeypatch.setenv("HOME", str(home))
    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    made = _hub(tmp_path, url, push=True).tag_and_push("pusher", base, _checkpoint(tmp_path), "who", "m")
    shown = plain_git("log", "-1", "--format=%an <%ae>|%cn <%ce>", made.commit, cwd=_bare(url))
    assert shown == "AInimal Zookeeper <zookeeper@localhost>|AInimal Zookeeper <zookeeper@localhost>"


def _lfs_installed() -> bool:
    if shutil.which("git") is None:
        return False
    return subprocess.run(["git", "lfs", "version"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _lfs_installed(), reason="git-lfs is not installed here (`git lfs version` fails)")
def test_a_repository_using_lfs_gets_the_checkpoints_large_files_through_lfs(tmp_path):
    files = {**MODEL_FILES, ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n"}
    url, base = make_git_repo(tmp_path / "remote", "pusher", files)
    folder = _checkpoint(tmp_path)
    (folder / "model" / "big.bin").write_bytes(b"x" * (2 << 20))
    made = _hub(tmp_path, url, push=True).tag_and_push("pusher", base, folder, "lfs-1", "m")
    assert made.lfs
    pointer = plain_git("show", f"lfs-1:{CHECKPOINT_DIR}/model/big.bin", cwd=_bare(url))
    assert pointer.startswith("version https://git-lfs")


def test_a_repository_using_lfs_without_git_lfs_installed_gets_plain_git(tmp_path, monkeypatch):
    files = {**MODEL_FILES, ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n"}
    url, base = make_git_repo(tmp_path / "remote", "pusher", files)
    hub = _hub(tmp_path, url, push=True)
    real_run = hub.git.run

    def without_lfs(args: list[str], *a: object, **k: object) -> str:
        if args[:1] == ["lfs"]:
            raise Unavailable("git lfs: 'lfs' is not a git command")
        return real_run(args, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(hub.git, "run", without_lfs)
    made = hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "plain-1", "m")
    assert not made.lfs
    assert plain_git("show", f"plain-1:{CHECKPOINT_DIR}/model/weights.txt", cwd=_bare(url)) == "w=1"


def test_a_github_hub_tags_and_pushes_on_the_listed_repositorys_clone_url(tmp_path):
    from ainimal_zookeeper.adapters.hubs.github import GitHubHub
    from hub_support import StandInServer, json_answer

    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    repo = {"full_name": "zoo-org/pusher", "clone_url": url, "default_branch": "main"}
    api = StandInServer({"/users/zoo-org/repos": lambda q: json_answer([repo])})
    try:
        hub = GitHubHub(RevisionCache(tmp_path / "cache"), owner="zoo-org", api_url=api.url, push=True)
        [listed] = hub.list_models()
        made = hub.tag_and_push(listed.name, listed.revision, _checkpoint(tmp_path), "gh-1", "m")
        assert made.pushed and made.parent == base and _remote_tags(url) == ["gh-1"]
        assert hub.resolve_tag("zoo-org/pusher", "gh-1").commit == made.commit
    finally:
        api.close()


def test_two_saves_at_once_on_one_model_share_its_clone_and_both_tags_reach_the_remote(tmp_path):
    import threading

    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    hub = _hub(tmp_path, url, push=True)
    folders = {name: _checkpoint(tmp_path, f"w={name}") for name in ("t1", "t2")}
    errors: list[BaseException] = []

    def save(name: str) -> None:
        try:
            hub.tag_and_push("pusher", base, folders[name], name, "m")
        except BaseException as exc:  # noqa: BLE001  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(name,)) for name in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and _remote_tags(url) == ["t1", "t2"]
    assert plain_git("show", f"t2:{CHECKPOINT_DIR}/model/weights.txt", cwd=_bare(url)) == "w=t2"


def test_a_repository_whose_history_passes_the_hubs_bound_launches_but_is_not_cloned_to_tag(tmp_path):
    """An attacker's repository: a small model whose history holds 4 MB, behind a 1 MB bound.

    The model is fetched (one commit: under the bound); tagging a checkpoint needs the history,
    so its clone is stopped past the bound, nothing of it is kept, and nothing reaches the remote.
    """
    from ainimal_zookeeper.adapters.hubs.cache import FetchBound, ModelTooLarge

    work = tmp_path / "work"
    url, _ = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    plain_git("clone", "--quiet", url, str(work), cwd=tmp_path)
    (work / "history.bin").write_bytes(os.urandom(4 << 20))  # random: it does not compress
    plain_git("add", "history.bin", cwd=work)
    plain_git("commit", "--quiet", "-m", "a large file", cwd=work)
    plain_git("rm", "--quiet", "history.bin", cwd=work)
    plain_git("commit", "--quiet", "-m", "gone again", cwd=work)
    plain_git("push", "--quiet", "origin", "main", cwd=work)
    head = plain_git("rev-parse", "HEAD", cwd=work)
    bound = FetchBound(max_bytes=1 << 20)
    hub = GitRepoHub(url, RevisionCache(tmp_path / "cache", bound), name="pusher", push=True, git=GitClient(60))
    assert (hub.fetch("pusher", head) / "pusher.py").is_file()  # the model itself fits
    with pytest.raises(ModelTooLarge, match=r"repository of model 'pusher' with its history is larger than this hub"):
        hub.tag_and_push("pusher", head, _checkpoint(tmp_path), "v1", "m")
    assert not any((tmp_path / "cache" / "_clones").glob("*"))  # nothing of the clone is kept
    assert _remote_tags(url) == []


@pytest.mark.parametrize("watch_every", [0.01, 60.0], ids=["stopped-while-fetching", "refused-once-fetched"])
def test_a_fetch_past_the_bound_into_a_clone_keeps_its_tags_and_drops_what_it_fetched(tmp_path, watch_every):
    """The working clone holds tags made without push: a later fetch refused for the repository's
    size must not lose them, nor leave what it had written of the refused history behind, whether
    git was stopped while fetching or had finished before the bound was next measured."""
    from ainimal_zookeeper.adapters.hubs.cache import FetchBound, ModelTooLarge, usage

    url, base = make_git_repo(tmp_path / "remote", "pusher", MODEL_FILES)
    bound = FetchBound(max_bytes=1 << 20)
    git = GitClient(60, watch_every=watch_every)
    hub = GitRepoHub(url, RevisionCache(tmp_path / "cache", bound), name="pusher", push=False, git=git)
    kept = hub.tag_and_push("pusher", base, _checkpoint(tmp_path), "kept-here", "m")
    [clone] = (tmp_path / "cache" / "_clones").iterdir()
    work = tmp_path / "work"  # the remote then grows a history larger than the bound
    plain_git("clone", "--quiet", url, str(work), cwd=tmp_path)
    (work / "history.bin").write_bytes(os.urandom(4 << 20))
    plain_git("add", "history.bin", cwd=work)
    plain_git("commit", "--quiet", "-m", "a large file", cwd=work)
    plain_git("push", "--quiet", "origin", "main", cwd=work)
    with pytest.raises(ModelTooLarge, match="with its history is larger than this hub allows"):
        hub.tag_and_push("pusher", base, _checkpoint(tmp_path, "w=2"), "next", "m")
    assert plain_git("rev-parse", "kept-here^{commit}", cwd=clone) == kept.commit  # the clone and its tag stay
    assert plain_git("rev-parse", "refs/remotes/origin/main", cwd=clone) == base  # its refs as they were
    assert not list((clone / ".git" / "objects" / "pack").glob("tmp_*"))
    assert usage(clone)[0] < 1 << 20  # the refused history's objects went
