"""The `huggingface` hub: model repositories on the Hugging Face Hub (or a Hub at another endpoint).

Listing asks for an author's models (`view_qualifier.owner`, else `account`), a filter or a
search; fetching downloads one repository at a commit with `snapshot_download`, only files of
the kinds in SAFE_PATTERNS (sources, configs, safetensors and the model files the loaders read
without unpickling), cached by commit.

A model repository on the Hub is also a git repository, served over git's smart HTTP at
`<endpoint>/<repo_id>`: checkpoints are committed, tagged and pushed there with real git (see
git_tags.py). The account's token reaches git only through its environment (an
`http.extraHeader` set by GIT_CONFIG_* variables), never on a command line or in a URL, and is
scrubbed from any error text.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient
from ainimal_zookeeper.adapters.hubs.git_tags import GitTagger
from ainimal_zookeeper.errors import Forbidden, InvalidInput, NotFound, Unavailable, ZookeeperError
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR, GitTag, HubModel

#: Files fetched from a repository; pickles (*.bin, *.pkl, *.pickle) are never downloaded,
#: except inside a checkpoint folder (see below).
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
    # A checkpoint in the tree (a tagged commit) is written by the model's own save() and read
    # by its load(), whatever its files: all of it is fetched, as the git hubs do.
    f"{CHECKPOINT_DIR}/*",
]
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
#: A Hub repository id: `owner/name` (or a bare `name` for the Hub's oldest models).
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
#: What git says when the remote wants other credentials (401 with prompts off, or 403).
_AUTH_REFUSED = re.compile(r"could not read Username|Authentication failed|returned error: 40[13]\b", re.IGNORECASE)


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
        account: str | None = None,
        token_env: str = "HF_TOKEN",
        push: bool = False,
        git: GitClient | None = None,
    ) -> None:
        from huggingface_hub import HfApi

        self.cache, self.endpoint, self.token = cache, endpoint.rstrip("/"), token
        self.author, self.filter, self.search, self.models = author, filter, search, list(models or [])
        self.max_models, self.timeout = max_models, timeout
        which = author or filter or (f"search {search!r}" if search else ",".join(self.models))
        self.label = f"huggingface:{self.endpoint}/{which}"
        # token=False: never fall back to a token stored on this machine for another purpose.
        self.api = HfApi(endpoint=self.endpoint, token=token or False)
        self.account, self.token_env, self.push = account, token_env, push
        # The Hub takes the token as the password of HTTP basic auth for git (any user name).
        self._secrets = [token] if token else []
        git_env = {}
        if token:
            basic = base64.b64encode(f"{account or 'hf_user'}:{token}".encode()).decode()
            self._secrets.append(basic)
            git_env = {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            }
        self.git = git or GitClient(extra_env=git_env)
        if token and git is not None:
            self.git.extra_env.update(git_env)
        self.tagger = GitTagger(self.git, cache.root / "_clones", self.label, push=push, bound=cache.bound)

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
        info = self._call(lambda: self.api.model_info(model, revision=revision or "main", files_metadata=True))
        sha = str(info.sha)
        if self.cache.cached(model, sha) is None:
            self._check_size(model, info)
        what = f"model hub {self.label}"
        return self.cache.get_or_fill(model, sha, lambda target: self._download(model, sha, target), what)

    def _check_size(self, model: str, info: Any) -> None:
        """Refuse, before any download, a model whose files to fetch the Hub says are over the
        cache's bound (the cache measures what arrives too, should the sizes have been wrong)."""
        from huggingface_hub.utils import filter_repo_objects

        siblings = info.siblings or []
        fetched = list(filter_repo_objects(siblings, allow_patterns=SAFE_PATTERNS, key=lambda s: s.rfilename))
        size = sum(sibling.size or 0 for sibling in fetched)
        if self.cache.bound.exceeded(size, len(fetched)):
            raise self.cache.bound.refusal(f"model hub {self.label}", model)

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
        """Commit the checkpoint on `base` in the model's git repository on the Hub, tag it, push the tag."""
        url = self._git_url(model)
        try:
            return self.tagger.tag_and_push(url, model, base, folder, tag, message)
        except ZookeeperError as exc:
            raise self._explained(exc, model, tag) from None

    def resolve_tag(self, model: str, revision: str) -> GitTag:
        """The commit `revision` names in the model's git repository, and its parent."""
        url = self._git_url(model)
        try:
            return self.tagger.resolve_tag(url, model, revision)
        except ZookeeperError as exc:
            raise self._explained(exc, model) from None

    def _git_url(self, model: str) -> str:
        if not _REPO_ID.match(model) or ".." in model:
            raise InvalidInput(f"model hub {self.label}: {model!r} is not a repository id such as 'owner/name'")
        return f"{self.endpoint}/{model}"

    def _explained(self, exc: ZookeeperError, model: str, tag: str = "") -> ZookeeperError:
        """The error without the token, and a refused push said as what it is: the token's rights."""
        text = str(exc)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if isinstance(exc, Unavailable) and _AUTH_REFUSED.search(text):
            # The tagger says "refused tag" only for the push; before it, git was reading the repository.
            pushing = f"refused tag {tag!r}" in text
            verb, right = ("push to", "write") if pushing else ("read", "read")
            if not self._secrets:
                return Forbidden(
                    f"model hub {self.label}: no token may {verb} {model!r} at {self.endpoint}; "
                    f"set {self.token_env} in .env.local to a token of an account with {right} access to it"
                )
            who = f"account {self.account!r}" if self.account else f"the account of {self.token_env}"
            return Forbidden(
                f"model hub {self.label}: the token of {who} may not {verb} {model!r} at {self.endpoint} "
                f"(the Hub refused it); give that account {right} access to the repository, or set "
                f"{self.token_env} to a token with the '{right}' role"
            )
        return type(exc)(text)
