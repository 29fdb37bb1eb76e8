"""The `huggingface` hub: model repositories on the Hugging Face Hub (or a Hub at another endpoint).

Listing asks for an author's models (`view_qualifier.owner`, else `account`), a filter or a
search; fetching downloads one repository at a commit with `snapshot_download`, only files of
the kinds in SAFE_PATTERNS (sources, configs, safetensors and the model files the loaders read
without unpickling), cached by commit.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.errors import NotFound, Unavailable, ZookeeperError
from ainimal_zookeeper.ports.model_hubs import GitTag, HubModel

#: Files fetched from a repository; pickles (*.bin, *.pkl, *.pickle) are never downloaded.
SAFE_PATTERNS = [
    "*.py",
    "*.yaml",
    "*.yml",
    "*.json",
    "*.md",
    "*.txt",
    "*.safetensors",
    "*.onnx",
    "*.keras",
    "*.h5",
    "*.tflite",
    "*.pt",
    "*.pt2",
    "*.pth",
    "*.pytorch",
    "*.zip",
]
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


class HuggingFaceHub:
    """Model repositories named `owner/name`, each a model, at their commit."""

    git_backed = True

    def __init__(
        self,
        cache: RevisionCache,
        *,
        endpoint: str = "https://huggingface.co",
        author: str | None = None,
        filter: str | None = None,  # noqa: A002  # the Hub's own word for it
        search: str | None = None,
        models: list[str] | None = None,
        token: str | None = None,
        max_models: int = 50,
        timeout: float = 30.0,
    ) -> None:
        from huggingface_hub import HfApi

        self.cache, self.endpoint, self.token = cache, endpoint.rstrip("/"), token
        self.author, self.filter, self.search, self.models = author, filter, search, list(models or [])
        self.max_models, self.timeout = max_models, timeout
        which = author or filter or (f"search {search!r}" if search else ",".join(self.models))
        self.label = f"huggingface:{self.endpoint}/{which}"
        # token=False: never fall back to a token stored on this machine for another purpose.
        self.api = HfApi(endpoint=self.endpoint, token=token or False)

    def list_models(self) -> list[HubModel]:
        self._probe()
        found: list[Any] = []
        if self.author or self.filter or self.search:
            found += self._call(
                lambda: list(
                    self.api.list_models(
                        author=self.author, filter=self.filter, search=self.search, limit=self.max_models
                    )
                )
            )
        found += [self._call(lambda name=name: self.api.model_info(name)) for name in self.models]
        models = []
        for info in found[: self.max_models]:
            sha = getattr(info, "sha", None) or self._call(lambda info=info: self.api.model_info(info.id)).sha
            description = getattr(info, "pipeline_tag", None)
            models.append(HubModel(str(info.id), str(sha), description))
        return models

    def fetch(self, model: str, revision: str | None = None) -> Path:
        if revision and _SHA.match(revision):
            cached = self.cache.cached(model, revision)
            if cached is not None:
                return cached  # a commit already fetched: no request at all
        if revision is not None and not _REVISION.match(revision):
            raise NotFound(f"model hub {self.label}: {revision!r} is not a branch, tag or commit name")
        info = self._call(lambda: self.api.model_info(model, revision=revision or "main"))
        sha = str(info.sha)
        return self.cache.get_or_fill(model, sha, lambda target: self._download(model, sha, target))

    def _probe(self) -> None:
        """Fail at once when nothing listens at the endpoint (the library would retry for ~20 s)."""
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(self.endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname or "", port), timeout=min(self.timeout, 10.0)).close()
        except OSError as exc:
            raise Unavailable(
                f"model hub {self.label}: cannot reach {parts.hostname}:{port}: {exc.strerror or exc}"
            ) from None

    def _download(self, model: str, sha: str, target: Path) -> None:
        from huggingface_hub import snapshot_download

        self._call(
            lambda: snapshot_download(
                model,
                revision=sha,
                local_dir=target,
                endpoint=self.endpoint,
                token=self.token or False,
                allow_patterns=SAFE_PATTERNS,
                etag_timeout=self.timeout,
                max_workers=2,
            )
        )
        # The library's bookkeeping folder is not part of the model.
        shutil.rmtree(target / ".cache", ignore_errors=True)

    def _call(self, action: Any) -> Any:
        from huggingface_hub import errors

        try:
            return action()
        except ZookeeperError:
            raise
        except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError, errors.EntryNotFoundError) as exc:
            raise NotFound(f"model hub {self.label}: {type(exc).__name__}") from None
        except Exception as exc:  # noqa: BLE001  # HTTP, connection and timeout errors of the client library
            raise Unavailable(f"model hub {self.label}: cannot reach the Hub: {type(exc).__name__}") from None

    def tag_and_push(self, model: str, base: str, folder: Path, tag: str, message: str) -> GitTag:
        """Refused: checkpoints of Hugging Face models stay in the server's store (said, not pretended)."""
        raise Unavailable(
            f"model hub {self.label}: checkpoints as git tags are not supported for Hugging Face models yet "
            f"(model {model!r}, tag {tag!r}); the checkpoint stays in the server's store"
        )

    def resolve_tag(self, model: str, revision: str) -> GitTag:
        """The commit `revision` names; its parent is not known without the repository's history."""
        if not _REVISION.match(revision):
            raise NotFound(f"model hub {self.label}: {revision!r} is not a branch, tag or commit name")
        info = self._call(lambda: self.api.model_info(model, revision=revision))
        return GitTag(revision, str(info.sha), None, pushed=True)
