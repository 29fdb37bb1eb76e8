"""The `git` hub: one repository at any git URL (https, ssh, git, file://), fetched with real git."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, ModelTooLarge, RevisionCache, usage
from ainimal_zookeeper.adapters.hubs.git_process import MAX_STDOUT_BYTES, run_bounded
from ainimal_zookeeper.config.hub_settings import GIT_URL, GIT_URL_EXPECTED
from ainimal_zookeeper.errors import InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import GitTag, HubModel

if TYPE_CHECKING:
    from ainimal_zookeeper.adapters.hubs.git_tags import GitTagger

#: How often a clone's folder is measured against the hub's bound while git runs.
WATCH_EVERY_SECONDS = 0.1
#: Transports git may use: never `ext::` (it runs commands) or other helpers.
_ALLOWED_PROTOCOLS = "file:git:http:https:ssh"
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


def check_url(url: str) -> str:
    """The URL if git may fetch it; InvalidInput otherwise (never `ext::` or option-like text)."""
    if not GIT_URL.match(url):
        raise InvalidInput(f"git URL {url!r} is not supported; {GIT_URL_EXPECTED}")
    return url


def check_revision(revision: str) -> str:
    """The revision if it is a plain branch, tag or commit name; InvalidInput otherwise."""
    if not _REVISION.match(revision) or ".." in revision:
        raise InvalidInput(f"revision {revision!r} is not a branch, tag or commit name")
    return revision


def failure_detail(stderr: str) -> str:
    """What a failed git command said: the remote's own lines (a hook's reason) and the last line."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    remote = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote:")]
    said = [line for line in remote if line][-3:] + (lines[-1:] or ["(no message)"])
    return "; ".join(dict.fromkeys(said))[:500]


def repo_name(url: str) -> str:
    """The repository's name from its URL ("https://x/owner/zoo.git" -> "zoo")."""
    tail = re.split(r"[/:]", url.rstrip("/"))[-1]
    return tail.removesuffix(".git") or "repository"


class GitClient:
    """Runs git with no prompts, no extra transports, a time limit and bounded output
    (`git_process.run_bounded`: at most `max_output` bytes of it, the end of its errors)."""

    def __init__(
        self,
        timeout: float = 120.0,
        extra_env: dict[str, str] | None = None,
        watch_every: float = WATCH_EVERY_SECONDS,
        max_output: int = MAX_STDOUT_BYTES,
    ) -> None:
        self.timeout, self.watch_every, self.max_output = timeout, watch_every, max_output
        self.extra_env = dict(extra_env or {})  # credentials, kept out of the command line
        self.calls = 0  # network operations run (ls-remote, clone): tests count cache hits by it

    def _environment(self, env: dict[str, str] | None) -> dict[str, str]:
        return {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": _ALLOWED_PROTOCOLS,
            "GIT_CONFIG_NOSYSTEM": "1",
            **self.extra_env,
            **(env or {}),
        }

    def run(
        self, args: list[str], cwd: Path | None = None, what: str = "git", env: dict[str, str] | None = None
    ) -> str:
        """Git's standard output (at most `MAX_STDOUT_BYTES`); Unavailable when it fails, saying why."""
        done = run_bounded(
            self._argv(args),
            cwd=cwd,
            env=self._environment(env),
            deadline=time.monotonic() + self.timeout,
            allowed=self.timeout,
            what=what,
            max_stdout=self.max_output,
        )
        if done.returncode != 0:
            raise Unavailable(f"{what}: git {args[0]} failed: {failure_detail(_text(done.stderr_tail))}")
        return _text(done.stdout)

    @staticmethod
    def _argv(args: list[str]) -> list[str]:
        return ["git", "-c", "protocol.ext.allow=never", *args]

    def resolve(self, url: str, revision: str, what: str) -> str:
        """The commit `revision` names at `url` (a commit id is returned as is, without network)."""
        if _SHA.match(revision):
            return revision
        self.calls += 1
        out = self.run(["ls-remote", "--", url, revision], what=what)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            refs[ref] = sha
        for ref in (revision, f"refs/heads/{revision}", f"refs/tags/{revision}^{{}}", f"refs/tags/{revision}"):
            if ref in refs:
                return refs[ref]
        raise NotFound(f"{what}: no branch or tag {revision!r}")

    def checkout(
        self, url: str, commit: str, target: Path, what: str, bound: FetchBound | None = None, model: str = ""
    ) -> None:
        """A working copy of `url` at `commit` in the (empty) folder `target`, without .git.

        Only that commit is fetched (`--depth 1`) when the remote serves a commit by its id, as
        GitHub, the Hugging Face Hub and git's own protocol v2 servers do; else the whole
        repository is cloned. Git is stopped, and the fetch refused, once `target` holds more
        than `bound`: a remote's size is known only as it arrives, and a small pack can check
        out into a huge tree (`model` names it in that error). The whole fetch, fallback included,
        takes at most `timeout` seconds: a remote slow on every call must not multiply it."""
        bound = bound or FetchBound()
        model = model or repo_name(url)
        deadline = time.monotonic() + self.timeout
        self.calls += 1
        try:
            self.run(["init", "--quiet", str(target)], what=what)
            shallow = ["fetch", "--quiet", "--depth", "1", "--no-tags", "--", url, commit]
            self.run_watched(shallow, target, what, bound, model, deadline)
            fetched = "FETCH_HEAD"
        except ModelTooLarge:
            raise
        except Unavailable:
            if time.monotonic() >= deadline:
                raise  # out of time: no second try
            # An older server may refuse a commit it did not advertise: clone it all instead.
            shutil.rmtree(target / ".git", ignore_errors=True)
            clone = ["clone", "--quiet", "--no-checkout", "--", url, "."]
            self.run_watched(clone, target, what, bound, model, deadline)
            fetched = commit
        self.run_watched(["checkout", "--quiet", "--detach", fetched, "--"], target, what, bound, model, deadline)
        # Only the files are kept: the cache is a snapshot, not a repository to push from.
        shutil.rmtree(target / ".git", ignore_errors=True)

    def run_watched(
        self,
        args: list[str],
        target: Path,
        what: str,
        bound: FetchBound,
        model: str,
        deadline: float | None = None,
    ) -> None:
        """Run git in `target`, measuring the folder as it runs; stop git when it passes `bound`
        (`ModelTooLarge`), or at `deadline` (monotonic seconds; `timeout` from now by default)."""
        if deadline is None:
            deadline = time.monotonic() + self.timeout

        def measure() -> None:
            if bound.exceeded(*usage(target)):
                raise bound.refusal(what, model)

        done = run_bounded(
            self._argv(args),
            cwd=target,
            env=self._environment(None),
            deadline=deadline,
            allowed=self.timeout,
            what=what,
            on_tick=measure,
            tick_seconds=self.watch_every,
        )
        if done.returncode != 0:
            raise Unavailable(f"{what}: git {args[0]} failed: {failure_detail(_text(done.stderr_tail))}")
        measure()  # once more: a fast git can finish between two measures


def _text(output: bytes) -> str:
    return output.decode("utf-8", errors="replace")


class GitRepoHub:
    """A git repository as a hub of one model, named after the repository (or `name`)."""

    git_backed = True

    def __init__(
        self,
        url: str,
        cache: RevisionCache,
        *,
        name: str | None = None,
        revision: str = "HEAD",
        git: GitClient | None = None,
        push: bool = False,
    ) -> None:
        self.url = check_url(url)
        self.name = name or repo_name(url)
        self.revision = check_revision(revision)
        self.cache = cache
        self.git = git or GitClient()
        self.label = f"git:{url}"
        self.push = push
        self._tags: GitTagger | None = None

    def list_models(self) -> list[HubModel]:
        commit = self.git.resolve(self.url, self.revision, f"model hub {self.label}")
        return [HubModel(self.name, commit, None)]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        if model != self.name:
            raise NotFound(f"model hub {self.label} has no model {model!r}; it has {self.name!r}")
        what = f"model hub {self.label}"
        commit = self.git.resolve(self.url, check_revision(revision or self.revision), what)
        return self.cache.get_or_fill(
            model,
            commit,
            lambda target: self.git.checkout(self.url, commit, target, what, self.cache.bound, model),
            what,
        )

    def tag_and_push(self, model: str, base: str, folder: Path, tag: str, message: str) -> GitTag:
        self._known(model)
        return self._tagger().tag_and_push(self.url, model, base, folder, tag, message)

    def resolve_tag(self, model: str, revision: str) -> GitTag:
        self._known(model)
        return self._tagger().resolve_tag(self.url, model, revision)

    def _known(self, model: str) -> None:
        if model != self.name:
            raise NotFound(f"model hub {self.label} has no model {model!r}; it has {self.name!r}")

    def _tagger(self) -> GitTagger:
        from ainimal_zookeeper.adapters.hubs.git_tags import GitTagger  # it imports this module

        if self._tags is None:
            self._tags = GitTagger(
                self.git, self.cache.root / "_clones", self.label, push=self.push, bound=self.cache.bound
            )
        return self._tags
