"""A stand-in Hugging Face Hub backed by a real bare git repository made by the test.

It answers the few Hub API endpoints the `huggingface` adapter uses (model listing and info with
`sha` = the repository's real commit, the file tree, file `resolve`), reading the repository
with `git`, and git's smart HTTP at `/<owner>/<name>` by running git's own CGI, `git
http-backend`. Pushes (receive-pack) need `Authorization` with the stand-in's token (HTTP basic
auth, the token as password, as the Hub takes it, or a bearer token); others answer 401.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hub_support import StandInServer, git, make_git_repo

__all__ = ["HfGitStandIn"]

Answer = tuple[int, bytes, dict[str, str]]


class HfGitStandIn(StandInServer):
    """The Hub's API and git smart HTTP for one model repository `owner/name` held in `root`."""

    def __init__(self, root: Path, repo: str, files: dict[str, str], token: str) -> None:
        super().__init__({})
        owner, name = repo.split("/")
        self.repo, self.token = repo, token
        self.projects = root / "projects"
        _, self.base = make_git_repo(root / "source", name, files)
        self.bare = self.projects / owner / name
        self.bare.parent.mkdir(parents=True)
        (root / "source" / f"{name}.git").rename(self.bare)
        git("config", "http.receivepack", "true", cwd=self.bare)
        #: The Authorization headers seen on pushes, and whether each was accepted.
        self.pushes: list[bool] = []
        #: Seconds each git request waits before it is answered (a slow Hub).
        self.git_delay = 0.0
        #: A private repository: reading it over git needs the token too.
        self.private = False
        self.raw = self._answer

    # --- routing ---

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        parts = urlsplit(path)
        segments = [unquote(s) for s in parts.path.split("/")[1:]]
        prefix = self.repo.split("/")
        if (
            segments[:2] == prefix
            and len(segments) > 2
            and segments[2] in ("info", "git-upload-pack", "git-receive-pack")
        ):
            return self._git(method, parts.path, parts.query, headers, body)
        if segments[:2] == ["api", "models"] and len(segments) == 2:
            return _json([self._info("HEAD")])
        if segments[:2] == ["api", "models"] and segments[2:4] == prefix:
            rest = segments[4:]
            if not rest:
                return self._or_missing(lambda: _json(self._info("HEAD")))
            if rest[0] == "revision" and len(rest) == 2:
                return self._or_missing(lambda: _json(self._info(rest[1])))
            if rest[0] == "tree" and len(rest) >= 2:
                return self._or_missing(lambda: _json(self._tree(rest[1])))
        if segments[:2] == prefix and len(segments) >= 5 and segments[2] == "resolve":
            return self._or_missing(lambda: self._resolve(segments[3], "/".join(segments[4:])))
        return 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}

    def _or_missing(self, answer):  # type: ignore[no-untyped-def]
        try:
            return answer()
        except subprocess.CalledProcessError:
            return 404, b'{"error": "Revision not found"}', {"X-Error-Code": "RevisionNotFound"}

    # --- the Hub API, read from the repository ---

    def _commit(self, revision: str) -> str:
        return git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", cwd=self.bare)

    def _info(self, revision: str) -> dict[str, object]:
        sha = self._commit(revision)
        files = git("ls-tree", "-r", "--name-only", sha, cwd=self.bare).splitlines()
        return {
            "id": self.repo,
            "modelId": self.repo,
            "sha": sha,
            "pipeline_tag": "reinforcement-learning",
            "siblings": [{"rfilename": f} for f in files],
            "private": False,
            "tags": [],
        }

    def _tree(self, revision: str) -> list[dict[str, object]]:
        sha = self._commit(revision)
        entries = []
        for line in git("ls-tree", "-r", "-l", sha, cwd=self.bare).splitlines():
            meta, path = line.split("\t", 1)
            _, kind, oid, size = meta.split()
            if kind == "blob":
                entries.append({"type": "file", "path": path, "size": int(size), "oid": oid})
        return entries

    def _resolve(self, revision: str, path: str) -> Answer:
        sha = self._commit(revision)
        try:
            oid = git("rev-parse", "--verify", "--quiet", f"{sha}:{path}", cwd=self.bare)
        except subprocess.CalledProcessError:
            return 404, b'{"error": "Entry not found"}', {"X-Error-Code": "EntryNotFound"}
        body = subprocess.run(["git", "cat-file", "blob", oid], cwd=self.bare, capture_output=True, check=True).stdout
        return 200, body, {"Content-Type": "application/octet-stream", "ETag": f'"{oid}"', "X-Repo-Commit": sha}

    # --- git smart HTTP through git http-backend ---

    def _authorized(self, headers: dict[str, str]) -> bool:
        given = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if given == f"Bearer {self.token}":
            return True
        if given.startswith("Basic "):
            _, _, password = base64.b64decode(given[6:]).decode(errors="replace").partition(":")
            return password == self.token
        return False

    def _git(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
        time.sleep(self.git_delay)
        if self.private or "git-receive-pack" in path or "service=git-receive-pack" in query:
            allowed = self._authorized(headers)
            self.pushes.append(allowed)
            if not allowed:
                return 401, b"a token with write access is needed", {"WWW-Authenticate": 'Basic realm="hub"'}
        lowered = {k.lower(): v for k, v in headers.items()}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.projects),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "REQUEST_METHOD": method,
            "CONTENT_TYPE": lowered.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "hub-user",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_CONTENT_ENCODING": lowered.get("content-encoding", ""),
            "HTTP_GIT_PROTOCOL": lowered.get("git-protocol", ""),
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False, timeout=60
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, answer_headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                answer_headers[key] = value.strip()
        return status, payload, answer_headers


def _json(data: object) -> Answer:
    return 200, json.dumps(data).encode(), {}
