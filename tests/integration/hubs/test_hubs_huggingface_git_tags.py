"""Checkpoints as tags on a `huggingface` hub: real git over HTTP to a stand-in Hub on loopback,
whose model repository is a bare git repository served by `git http-backend`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub", reason="the huggingface extra is not installed")

from ainimal_zookeeper.adapters.hubs import git_process, git_repo
from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.adapters.hubs.huggingface import HuggingFaceHub
from ainimal_zookeeper.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR
from hf_git_support import HfGitStandIn
from hub_support import MODEL_FILES
from hub_support import git as plain_git

TOKEN = "hf_the-write-token-1234"
REPO = "zoo-org/pusher"
#: The model repository: the model's files and a pickle, never downloaded.
FILES = {**MODEL_FILES, "weights.pkl": "never downloaded"}


@pytest.fixture
def stand_in(tmp_path):
    server = HfGitStandIn(tmp_path / "hub", REPO, FILES, TOKEN)
    yield server
    server.close()


def _hub(tmp_path: Path, stand_in: HfGitStandIn, token: str | None = TOKEN, cache: str = "cache") -> HuggingFaceHub:
    return HuggingFaceHub(
        RevisionCache(tmp_path / cache),
        endpoint=stand_in.url,
        author="zoo-org",
        account="zoo-org",
        token=token,
        push=True,
    )


def _checkpoint(tmp_path: Path, weights: str = "w=1") -> Path:
    folder = tmp_path / "ckpt" / weights.replace("=", "")
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "model" / "weights.json").write_text(f'{{"{weights}": 1}}')
    (folder / "zookeeper.json").write_text('{"format": 2, "step": 7}')
    return folder


def test_a_hugging_face_checkpoint_is_committed_on_the_models_sha_and_only_its_tag_is_pushed(tmp_path, stand_in):
    hub = _hub(tmp_path, stand_in)
    [model] = hub.list_models()
    assert model.revision == stand_in.base  # the sha the Hub API reports is the repository's commit
    made = hub.tag_and_push(model.name, model.revision, _checkpoint(tmp_path), "run-1/first", "checkpoint first")
    bare = stand_in.bare
    assert made.pushed and not made.lfs and made.parent == stand_in.base
    assert plain_git("tag", "--list", cwd=bare).split() == ["run-1/first"]
    assert plain_git("rev-parse", "run-1/first^{commit}", cwd=bare) == made.commit
    assert plain_git("rev-parse", f"{made.commit}^1", cwd=bare) == stand_in.base
    assert plain_git("show", f"run-1/first:{CHECKPOINT_DIR}/model/weights.json", cwd=bare) == '{"w=1": 1}'
    assert plain_git("show", "run-1/first:pusher.py", cwd=bare) == MODEL_FILES["pusher.py"].strip()
    assert plain_git("rev-parse", "main", cwd=bare) == stand_in.base  # no branch moved
    assert stand_in.pushes and all(stand_in.pushes)


def test_a_second_hugging_face_checkpoint_chains_on_the_first_and_launches_from_its_tag(tmp_path, stand_in):
    hub = _hub(tmp_path, stand_in)
    first = hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path, "w=1"), "a", "a")
    second = hub.tag_and_push(REPO, first.commit, _checkpoint(tmp_path, "w=2"), "b", "b")
    assert second.parent == first.commit
    assert plain_git("rev-parse", "b^{commit}^1", cwd=stand_in.bare) == first.commit
    # What a launch at a tag does: resolve it in git, then fetch that commit through the Hub API.
    resolved = hub.resolve_tag(REPO, "b")
    assert (resolved.commit, resolved.parent) == (second.commit, first.commit)
    folder = hub.fetch(REPO, resolved.commit)
    assert (folder / CHECKPOINT_DIR / "model" / "weights.json").read_text() == '{"w=2": 1}'
    assert (folder / "pusher.py").is_file()
    # The Hub resolves a tag name too, as a revision of the model.
    assert hub.fetch(REPO, "b") == folder


def test_a_tag_pushed_from_elsewhere_resolves_with_its_parent(tmp_path, stand_in):
    elsewhere = tmp_path / "elsewhere"
    plain_git("clone", "--quiet", str(stand_in.bare), str(elsewhere), cwd=tmp_path)
    (elsewhere / "more.json").write_text("{}")
    plain_git("add", "-A", cwd=elsewhere)
    plain_git("commit", "--quiet", "-m", "more", cwd=elsewhere)
    plain_git("tag", "from-elsewhere", cwd=elsewhere)
    plain_git("push", "--quiet", "origin", "from-elsewhere", cwd=elsewhere)
    tag = _hub(tmp_path, stand_in).resolve_tag(REPO, "from-elsewhere")
    assert tag.commit == plain_git("rev-parse", "HEAD", cwd=elsewhere) and tag.parent == stand_in.base
    with pytest.raises(NotFound, match="no tag, branch or commit 'nope'"):
        _hub(tmp_path, stand_in).resolve_tag(REPO, "nope")


def test_the_token_reaches_git_only_through_its_environment(tmp_path, stand_in, monkeypatch):
    calls: list[tuple[list[str], dict[str, str]]] = []
    real_popen = subprocess.Popen

    def recording_popen(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        if args and args[0] == "git" and "http-backend" not in args:
            calls.append((list(args), dict(kwargs.get("env") or {})))
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(git_process.subprocess, "Popen", recording_popen)
    hub = _hub(tmp_path, stand_in)
    hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m")
    pushes = [(argv, env) for argv, env in calls if "push" in argv]
    assert calls and pushes and all(stand_in.pushes)
    assert not any(TOKEN in part or "Authorization" in part for argv, _ in calls for part in argv)
    assert all(env.get("GIT_CONFIG_KEY_0") == "http.extraHeader" for _, env in pushes)
    assert all(env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ") for _, env in pushes)
    assert not any(TOKEN in url for url in stand_in.requests)  # nor in any URL asked for


def test_a_wrong_token_is_refused_with_the_account_and_repository_named_and_without_the_token(tmp_path, stand_in):
    wrong = "hf_not-the-right-one-9876"
    hub = _hub(tmp_path, stand_in, token=wrong)
    with pytest.raises(Forbidden) as refused:
        hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m")
    message = str(refused.value)
    assert "the token of account 'zoo-org' may not push to 'zoo-org/pusher'" in message
    assert "write access" in message and wrong not in message and TOKEN not in message
    assert plain_git("tag", "--list", cwd=stand_in.bare) == ""  # nothing reached the remote
    assert stand_in.pushes and not any(stand_in.pushes)
    # The same tag can be pushed once the right token is set (the refused one left no local tag).
    good = _hub(tmp_path, stand_in)
    good.tagger.clones = hub.tagger.clones
    assert good.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m").pushed


def test_without_a_token_the_refusal_says_which_variable_to_set(tmp_path, stand_in):
    hub = _hub(tmp_path, stand_in, token=None)
    with pytest.raises(Forbidden, match="no token may push to 'zoo-org/pusher'.*set HF_TOKEN in .env.local"):
        hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m")


def test_a_tag_that_exists_on_the_hub_is_a_conflict(tmp_path, stand_in):
    hub = _hub(tmp_path, stand_in)
    hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m")
    other = _hub(tmp_path, stand_in, cache="other-cache")  # another server: it only sees the remote's tag
    with pytest.raises(Conflict, match="tag 'v1' already exists in huggingface:"):
        other.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path, "w=2"), "v1", "m")


def test_a_repository_id_that_is_not_owner_slash_name_is_refused_before_git_runs(tmp_path, stand_in):
    with pytest.raises(InvalidInput, match="is not a repository id"):
        _hub(tmp_path, stand_in).tag_and_push("../etc", stand_in.base, _checkpoint(tmp_path), "v1", "m")


def test_a_launch_at_a_tag_fetches_every_file_of_its_checkpoint_and_still_no_pickle_of_the_model(tmp_path, stand_in):
    hub = _hub(tmp_path, stand_in)
    folder = _checkpoint(tmp_path)
    (folder / "model" / "optimizer.bin").write_bytes(b"\x80\x04state the model's own load() reads")
    (folder / "model" / "nested").mkdir()
    (folder / "model" / "nested" / "buffer.npy").write_bytes(b"\x93NUMPY")
    made = hub.tag_and_push(REPO, stand_in.base, folder, "v1", "m")
    fetched = hub.fetch(REPO, made.commit)
    assert (fetched / CHECKPOINT_DIR / "model" / "optimizer.bin").read_bytes().startswith(b"\x80\x04")
    assert (fetched / CHECKPOINT_DIR / "model" / "nested" / "buffer.npy").read_bytes() == b"\x93NUMPY"
    assert not (fetched / "weights.pkl").exists() and not any("weights.pkl" in r for r in stand_in.requests)


def test_an_unreachable_hub_says_which_hub_and_keeps_nothing_half_made(tmp_path):
    from support import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    hub = HuggingFaceHub(RevisionCache(tmp_path / "c"), endpoint=endpoint, models=[REPO], token=TOKEN, push=True)
    with pytest.raises(
        Unavailable, match=r"model hub huggingface:http://127\.0\.0\.1:\d+/zoo-org/pusher: git clone"
    ) as e:
        hub.tag_and_push(REPO, "0" * 40, _checkpoint(tmp_path), "v1", "m")
    assert TOKEN not in str(e.value)


def test_a_hub_slower_than_the_git_time_limit_fails_in_that_time_and_the_tag_can_be_pushed_later(tmp_path, stand_in):
    import time

    hub = HuggingFaceHub(
        RevisionCache(tmp_path / "cache"),
        endpoint=stand_in.url,
        models=[REPO],
        account="zoo-org",
        token=TOKEN,
        push=True,
        git=git_repo.GitClient(timeout=0.5),
    )
    stand_in.git_delay = 2.0  # four time limits
    started = time.monotonic()
    with pytest.raises(Unavailable, match="did not finish within 0.5 s"):
        hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m")
    assert time.monotonic() - started < 2.0
    stand_in.git_delay = 0.0
    hub.git.timeout = 60.0
    assert hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m").pushed
    assert plain_git("tag", "--list", cwd=stand_in.bare) == "v1"


def test_a_private_repository_is_read_with_the_token_and_a_wrong_one_says_it_may_not_read(tmp_path, stand_in):
    stand_in.private = True
    hub = _hub(tmp_path, stand_in)
    made = hub.tag_and_push(REPO, stand_in.base, _checkpoint(tmp_path), "v1", "m")
    assert hub.resolve_tag(REPO, "v1").commit == made.commit
    wrong = "hf_a-read-nothing-token"
    with pytest.raises(Forbidden) as refused:
        _hub(tmp_path, stand_in, token=wrong, cache="other").resolve_tag(REPO, "v1")
    message = str(refused.value)
    assert "the token of account 'zoo-org' may not read 'zoo-org/pusher'" in message and "read access" in message
    assert wrong not in message
