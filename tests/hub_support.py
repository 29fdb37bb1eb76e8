"""Shared helpers for the model hub tests: real git repositories, a stand-in HTTP server.

The model files and the ModelHub contract live in `contracts/model_hubs.py` (re-exported here).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from contracts.model_hubs import AGENT_SOURCE, MANIFEST, MODEL_FILES, ModelHubContract
from support import ServerProcess

__all__ = [
    "AGENT_SOURCE",
    "MANIFEST",
    "MODEL_FILES",
    "ModelHubContract",
    "StandInServer",
    "json_answer",
    "git_bomb",
    "make_git_repo",
    "serve_hubs",
]


def write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    import os

    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_git_repo(root: Path, name: str, files: dict[str, str]) -> tuple[str, str]:
    """A bare repository `root/name.git` holding `files` on `main`: (its file:// URL, the commit)."""
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    git("init", "--quiet", "-b", "main", cwd=work)
    write_files(work, files)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "the model", cwd=work)
    bare = root / f"{name}.git"
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=root)
    return f"file://{bare}", git("rev-parse", "HEAD", cwd=work)


def git_bomb(root: Path, copies: int, blob_bytes: int) -> tuple[str, str]:
    """A bare repository whose one commit checks out to `copies` files of one zero-filled blob:
    a pack of a few kilobytes that writes `copies * blob_bytes` bytes."""
    bare = root / "bomb.git"
    git("init", "--quiet", "--bare", "-b", "main", str(bare), cwd=root)
    zeros = root / "zeros"
    zeros.write_bytes(bytes(blob_bytes))
    blob = git("hash-object", "-w", str(zeros), cwd=bare)
    listing = root / "tree.txt"
    listing.write_text("".join(f"100644 blob {blob}\tcopy{index:05d}.bin\n" for index in range(copies)))
    tree = _mktree(bare, listing)
    commit = git("commit-tree", tree, "-m", "bomb", cwd=bare)
    git("update-ref", "refs/heads/main", commit, cwd=bare)
    return f"file://{bare}", commit


def _mktree(bare: Path, listing: Path) -> str:
    with listing.open() as lines:
        done = subprocess.run(["git", "mktree"], cwd=bare, stdin=lines, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit_more(url: str, files: dict[str, str], tmp: Path) -> str:
    """Push one more commit with `files` to the bare repository at `url`; the new commit."""
    work = tmp / "more"
    git("clone", "--quiet", url, str(work), cwd=tmp)
    write_files(work, files)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "more", cwd=work)
    git("push", "--quiet", "origin", "HEAD", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


class StandInServer:
    """A local HTTP server answering a few routes, counting requests: the stand-in for a hub's API.

    `routes` maps a path (without the query) to a function of the query dict returning
    (status, body, headers); other paths answer 404.
    """

    def __init__(self, routes: dict[str, Callable[[dict[str, str]], tuple[int, bytes, dict[str, str]]]]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qsl, urlsplit

        self.routes = routes
        #: Answers paths no route names (a function of path and query), else 404.
        self.fallback: Callable[[str, dict[str, str]], tuple[int, bytes, dict[str, str]]] | None = None
        #: Answers any request first when set (a function of method, path, headers and body; None: go on).
        self.raw: Callable[[str, str, dict[str, str], bytes], tuple[int, bytes, dict[str, str]] | None] | None = None
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, with_body: bool, method: str = "GET") -> None:
                parts = urlsplit(self.path)
                server.requests.append(self.path)
                route = server.routes.get(parts.path)
                query = dict(parse_qsl(parts.query))
                raw = server.raw and server.raw(method, self.path, dict(self.headers.items()), self._body())
                if raw:
                    status, body, headers = raw
                elif route:
                    status, body, headers = route(query)
                elif server.fallback:
                    status, body, headers = server.fallback(parts.path, query)
                else:
                    status, body, headers = 404, b"{}", {}
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # the name http.server calls
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False, "HEAD")

            def do_POST(self) -> None:
                self._answer(True, "POST")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def json_answer(data: object, status: int = 200) -> tuple[int, bytes, dict[str, str]]:
    import json

    return status, json.dumps(data).encode(), {}


def serve_hubs(tmp_path: Path, *hubs: str, settings: str = "") -> ServerProcess:
    """An open server on loopback with CartPole and the `model_hubs:` entries `hubs` (flow YAML);
    `settings`: more top-level config lines."""
    config = tmp_path / "zoo.yaml"
    listed = "".join(f"  - {hub}\n" for hub in hubs)
    config.write_text(
        f"no_auth: true\n{settings}envs:\n  - {{name: CartPole, type: gymnasium, env_name: CartPole-v1}}\n"
        f"model_hubs:\n{listed}"
    )
    return ServerProcess(config, tmp_path / "data")
