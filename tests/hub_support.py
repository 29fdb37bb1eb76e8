"""Shared helpers for the model hub tests: a model's files, real git repositories, a contract."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ainimal_zookeeper.catalog.hub_entries import read_model_folder
from ainimal_zookeeper.errors import NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import ModelHub

#: A model as a hub holds it: an AInimal's source and the ainimal.yaml naming it.
AGENT_SOURCE = '''"""A hub model that always pushes right."""
from ainimal_zookeeper import AInimal


class HubPusher(AInimal):
    """Always pushes the cart right."""

    def forward(self, inputs):
        return {"action": 1}
'''
MANIFEST = "type: ainimal\npath: pusher.py\nclass_name: HubPusher\ndescription: pushes right, from a hub\n"
MODEL_FILES = {"pusher.py": AGENT_SOURCE, "ainimal.yaml": MANIFEST}


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


def commit_more(url: str, files: dict[str, str], tmp: Path) -> str:
    """Push one more commit with `files` to the bare repository at `url`; the new commit."""
    work = tmp / "more"
    git("clone", "--quiet", url, str(work), cwd=tmp)
    write_files(work, files)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "more", cwd=work)
    git("push", "--quiet", "origin", "HEAD", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


class ModelHubContract:
    """What every ModelHub adapter must do; a subclass makes the hub over its backend.

    The backend holds one model called `model_name` with MODEL_FILES. `network_calls()` counts the
    backend's requests, so a cache hit can be seen doing none.
    """

    model_name = "pusher"

    def make_hub(self, tmp_path: Path) -> ModelHub:
        raise NotImplementedError

    def make_unreachable_hub(self, tmp_path: Path) -> ModelHub:
        raise NotImplementedError

    network_calls: Callable[[], int]

    @pytest.fixture
    def hub(self, tmp_path: Path) -> ModelHub:
        return self.make_hub(tmp_path)

    def test_the_hub_lists_its_model_with_a_revision(self, hub: ModelHub) -> None:
        listed = {m.name: m for m in hub.list_models()}
        assert self.model_name in listed and listed[self.model_name].revision

    def test_a_fetched_model_folder_holds_the_models_files_and_reads_as_a_catalog_entry(self, hub: ModelHub) -> None:
        model = next(m for m in hub.list_models() if m.name == self.model_name)
        folder = hub.fetch(model.name, model.revision)
        assert (folder / "pusher.py").read_text() == AGENT_SOURCE
        models, _ = read_model_folder(folder, model.name, None)
        assert [(m["name"], m["class_name"]) for m in models] == [(self.model_name, "HubPusher")]
        assert Path(models[0]["path"]) == (folder / "pusher.py").resolve()

    def test_a_second_fetch_of_the_same_revision_uses_the_cache_without_network_work(self, hub: ModelHub) -> None:
        model = next(m for m in hub.list_models() if m.name == self.model_name)
        first = hub.fetch(model.name, model.revision)
        before = self.network_calls()
        assert hub.fetch(model.name, model.revision) == first
        assert self.network_calls() == before

    def test_an_unknown_model_is_not_found(self, hub: ModelHub) -> None:
        with pytest.raises(NotFound):
            hub.fetch("no-such-model", None)

    def test_an_unreachable_hub_says_which_hub_and_why(self, tmp_path: Path) -> None:
        hub = self.make_unreachable_hub(tmp_path)
        with pytest.raises(Unavailable, match="model hub") as caught:
            hub.list_models()
        assert hub.label in str(caught.value)


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
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, with_body: bool) -> None:
                parts = urlsplit(self.path)
                server.requests.append(self.path)
                route = server.routes.get(parts.path)
                query = dict(parse_qsl(parts.query))
                if route:
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
                self._answer(False)

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
