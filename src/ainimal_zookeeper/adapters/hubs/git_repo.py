"""The `git` hub: one repository at any git URL (https, ssh, git, file://), fetched with real git."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.config.hub_settings import GIT_URL, GIT_URL_EXPECTED
from ainimal_zookeeper.errors import InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import GitTag, HubModel

if TYPE_CHECKING:
    from ainimal_zookeeper.adapters.hubs.git_tags import GitTagger

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
    """Runs git with no prompts, no extra transports and a time limit."""

    def __init__(self, timeout: float = 120.0, extra_env: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.extra_env = dict(extra_env or {})  # credentials, kept out of the command line
        self.calls = 0  # network operations run (ls-remote, clone): tests count cache hits by it

    def run(
        self, args: list[str], cwd: Path | None = None, what: str = "git", env: dict[str, str] | None = None
    ) -> str:
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": _ALLOWED_PROTOCOLS,
            "GIT_CONFIG_NOSYSTEM": "1",
            **self.extra_env,
            **(env or {}),
        }
        try:
            done = subprocess.run(
                ["git", "-c", "protocol.ext.allow=never", *args],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            raise Unavailable(f"{what}: the git program is not installed") from None
        except subprocess.TimeoutExpired:
            raise Unavailable(f"{what}: git did not finish within {self.timeout:g} s") from None
        if done.returncode != 0:
            raise Unavailable(f"{what}: git {args[0]} failed: {failure_detail(done.stderr)}")
        return done.stdout

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

    def checkout(self, url: str, commit: str, target: Path, what: str) -> None:
        """A working copy of `url` at `commit` in the (empty) folder `target`, without .git."""
        self.calls += 1
        self.run(["clone", "--quiet", "--no-checkout", "--", url, str(target)], what=what)
        self.run(["checkout", "--quiet", "--detach", commit, "--"], cwd=target, what=what)
        # Only the files are kept: the cache is a snapshot, not a repository to push from.
        shutil.rmtree(target / ".git", ignore_errors=True)


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
        return self.cache.get_or_fill(model, commit, lambda target: self.git.checkout(self.url, commit, target, what))

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
            self._tags = GitTagger(self.git, self.cache.root / "_clones", self.label, push=self.push)
        return self._tags
