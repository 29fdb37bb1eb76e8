"""HuggingFaceHub against a stand-in of the few Hub endpoints it uses (there is no network here):
the model listing `/api/models?author=`, model info `/api/models/{repo}/revision/{rev}`, the file
tree `/api/models/{repo}/tree/{rev}` (what snapshot_download lists) and file downloads
`/{repo}/resolve/{rev}/{file}`, reached through huggingface_hub's `endpoint` setting."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub", reason="the huggingface extra is not installed")

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache
from ainimal_zookeeper.adapters.hubs.huggingface import HuggingFaceHub
from ainimal_zookeeper.errors import NotFound, Unavailable
from hub_support import StandInServer

from contracts.model_hubs import MODEL_FILES, ModelHubContract
from support import free_port

SHA = "a" * 40
#: What the stand-in Hub holds: a model repository with the model's files and a pickle.
FILES = {**MODEL_FILES, "weights.pkl": "never downloaded"}


class HubStandIn(StandInServer):
    """The Hub's model listing, model info and file resolve endpoints for one repository."""

    def __init__(self, repo: str) -> None:
        super().__init__({"/api/models": self._listing})
        self.repo, self.token_seen = repo, None
        self.fallback = self._dynamic
        self.declared_sizes: dict[str, int] = {}  # sizes the info says instead of the true ones

    def _info(self) -> dict[str, object]:
        siblings = [
            {"rfilename": name, "size": self.declared_sizes.get(name, len(text.encode()))}
            for name, text in FILES.items()
        ]
        return {
            "id": self.repo,
            "modelId": self.repo,
            "sha": SHA,
            "pipeline_tag": "reinforcement-learning",
            "siblings": siblings,
            "private": False,
            "tags": [],
        }

    def _listing(self, query):
        owner = self.repo.split("/")[0]
        items = [self._info()] if query.get("author") in (owner, None) else []
        return 200, json.dumps(items).encode(), {}

    def _dynamic(self, path, query):
        tree = re.fullmatch(r"/api/models/(.+?)/tree/([^/]+)", path)
        if tree:
            if tree.group(1) != self.repo or tree.group(2) not in ("main", SHA):
                return 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}
            entries = [
                {
                    "type": "file",
                    "path": name,
                    "size": len(text.encode()),
                    "oid": hashlib.sha1(text.encode()).hexdigest(),
                }
                for name, text in FILES.items()
            ]
            return 200, json.dumps(entries).encode(), {}
        info = re.fullmatch(r"/api/models/(.+?)(?:/revision/(.+))?", path)
        if info:
            if info.group(1) != self.repo or info.group(2) not in (None, "main", SHA):
                return 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}
            return 200, json.dumps(self._info()).encode(), {}
        resolve = re.fullmatch(rf"/{re.escape(self.repo)}/resolve/([^/]+)/(.+)", path)
        if resolve and resolve.group(1) in ("main", SHA) and resolve.group(2) in FILES:
            body = FILES[resolve.group(2)].encode()
            etag = hashlib.sha256(body).hexdigest()
            return 200, body, {"Content-Type": "text/plain", "ETag": f'"{etag}"', "X-Repo-Commit": SHA}
        return 404, b'{"error": "Entry not found"}', {"X-Error-Code": "EntryNotFound"}


class TestHuggingFaceHub(ModelHubContract):
    model_name = "zoo-org/pusher"

    @pytest.fixture(autouse=True)
    def _stand_in(self):
        self.server = HubStandIn(self.model_name)
        yield
        self.server.close()

    def make_hub(self, tmp_path: Path, bound: FetchBound | None = None) -> HuggingFaceHub:
        self.network_calls = lambda: len(self.server.requests)
        return HuggingFaceHub(RevisionCache(tmp_path / "cache", bound), endpoint=self.server.url, author="zoo-org")

    def make_unreachable_hub(self, tmp_path: Path) -> HuggingFaceHub:
        return HuggingFaceHub(RevisionCache(tmp_path / "c"), endpoint=f"http://127.0.0.1:{free_port()}", author="x")

    def test_the_listing_asks_for_the_authors_models_and_pickles_are_never_downloaded(self, hub):
        [model] = hub.list_models()
        assert (model.name, model.revision) == ("zoo-org/pusher", SHA)
        assert any(r.startswith("/api/models?") and "author=zoo-org" in r for r in self.server.requests)
        folder = hub.fetch(model.name, model.revision)
        assert sorted(p.name for p in folder.iterdir()) == ["ainimal.yaml", "pusher.py"]
        assert not any("weights.pkl" in r for r in self.server.requests)

    def test_a_branch_is_resolved_to_its_commit(self, hub):
        assert hub.fetch("zoo-org/pusher", "main") == hub.fetch("zoo-org/pusher", SHA)

    def test_an_unknown_revision_is_not_found(self, hub):
        with pytest.raises(NotFound):
            hub.fetch("zoo-org/pusher", "nope")

    def test_a_model_the_hub_says_is_too_large_is_refused_before_any_download(self, tmp_path):
        """Only the files it would fetch count: a huge pickle beside them is never downloaded anyway."""
        hub = self.make_hub(tmp_path, FetchBound(max_bytes=1 << 20))
        self.server.declared_sizes = {"weights.pkl": 1 << 40}
        assert (hub.fetch("zoo-org/pusher", SHA) / "pusher.py").is_file()
        hub = self.make_hub(tmp_path / "again", FetchBound(max_bytes=1 << 20))
        self.server.declared_sizes = {"pusher.py": 5 << 20}
        self.server.requests.clear()
        with pytest.raises(Unavailable, match="larger than this hub allows"):
            hub.fetch("zoo-org/pusher", SHA)
        assert self.server.requests and not [r for r in self.server.requests if "/resolve/" in r or "/tree/" in r]

    def test_a_hub_that_said_too_little_is_caught_when_the_files_arrive(self, tmp_path):
        hub = self.make_hub(tmp_path, FetchBound(max_bytes=100))
        self.server.declared_sizes = {"pusher.py": 1, "ainimal.yaml": 1}
        with pytest.raises(Unavailable, match="larger than this hub allows"):
            hub.fetch("zoo-org/pusher", SHA)
        assert any("/resolve/" in r for r in self.server.requests)  # it did download, then refused
        assert not list((tmp_path / "cache").rglob("pusher.py"))
