"""The `github` hub: repositories of an account, of a search, or named ones, fetched with real git.

Listing uses GitHub's REST API (`/users/{owner}/repos`, `/search/repositories?q=`,
`/repos/{owner}/{name}`) at `api_url`, so GitHub Enterprise or a stand-in server works too;
fetching clones each repository's `clone_url` like the `git` hub, cached by commit.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient, check_revision, check_url
from ainimal_zookeeper.adapters.hubs.git_tags import GitTagger
from ainimal_zookeeper.adapters.hubs.http_json import JsonClient
from ainimal_zookeeper.errors import InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import GitTag, HubModel

#: Repositories asked for per page (GitHub's maximum).
PER_PAGE = 100


class GitHubHub:
    """A GitHub account's (or search's) repositories, one model each, named `owner/name`."""

    git_backed = True

    def __init__(
        self,
        cache: RevisionCache,
        *,
        owner: str | None = None,
        search: str | None = None,
        repos: list[str] | None = None,
        api_url: str = "https://api.github.com",
        token: str | None = None,
        max_models: int = 50,
        git: GitClient | None = None,
        push: bool = False,
    ) -> None:
        self.owner, self.search, self.repos = owner, search, list(repos or [])
        self.cache, self.max_models = cache, max_models
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        which = owner or (f"search {search!r}" if search else ",".join(self.repos))
        self.label = f"github:{which}"
        self.api = JsonClient(api_url, f"model hub {self.label}", headers)
        git_env = {}
        if token:
            # Private repositories over https: the token goes through the environment, never argv.
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            git_env = {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            }
        self.git = git or GitClient(extra_env=git_env)
        self._repos: dict[str, dict[str, Any]] = {}
        self.tagger = GitTagger(self.git, cache.root / "_clones", self.label, push=push, bound=cache.bound)

    def list_models(self) -> list[HubModel]:
        found: list[dict[str, Any]] = []
        if self.owner:
            found += self._page(self.api.get(f"/users/{self.owner}/repos", {"per_page": PER_PAGE, "sort": "pushed"}))
        if self.search:
            answer = self.api.get("/search/repositories", {"q": self.search, "per_page": PER_PAGE})
            found += self._page(answer.get("items") if isinstance(answer, dict) else None)
        for full_name in self.repos:
            found += self._page([self.api.get(f"/repos/{full_name}")])
        models = []
        for repo in found[: self.max_models]:
            self._repos[repo["full_name"]] = repo
            commit = self.git.resolve(repo["clone_url"], repo["default_branch"], f"model hub {self.label}")
            models.append(HubModel(repo["full_name"], commit, repo.get("description")))
        return models

    def fetch(self, model: str, revision: str | None = None) -> Path:
        repo = self._repos.get(model)
        if repo is None:
            raise NotFound(f"model hub {self.label} has no model {model!r} (not in its listing)")
        what = f"model hub {self.label}"
        url = repo["clone_url"]
        commit = self.git.resolve(url, check_revision(revision or repo["default_branch"]), what)
        return self.cache.get_or_fill(
            model, commit, lambda target: self.git.checkout(url, commit, target, what, self.cache.bound, model), what
        )

    def tag_and_push(self, model: str, base: str, folder: Path, tag: str, message: str) -> GitTag:
        return self.tagger.tag_and_push(self._clone_url(model), model, base, folder, tag, message)

    def resolve_tag(self, model: str, revision: str) -> GitTag:
        return self.tagger.resolve_tag(self._clone_url(model), model, revision)

    def _clone_url(self, model: str) -> str:
        repo = self._repos.get(model)
        if repo is None:
            raise NotFound(f"model hub {self.label} has no model {model!r} (not in its listing)")
        return str(repo["clone_url"])

    def _page(self, items: Any) -> list[dict[str, Any]]:
        """The repositories of an API answer, each checked before anything uses it."""
        if not isinstance(items, list):
            raise Unavailable(f"model hub {self.label}: the API answered something other than a list of repositories")
        repos = []
        for item in items:
            if not isinstance(item, dict):
                continue
            name, url, branch = item.get("full_name"), item.get("clone_url"), item.get("default_branch") or "HEAD"
            if not isinstance(name, str) or not isinstance(url, str) or not isinstance(branch, str):
                continue
            try:
                check_url(url)
                check_revision(branch)
            except InvalidInput:
                continue  # a repository git may not fetch is left out, not a reason to fail the rest
            description = item.get("description")
            repos.append(
                {
                    "full_name": name[:200],
                    "clone_url": url,
                    "default_branch": branch,
                    "description": description[:500] if isinstance(description, str) else None,
                }
            )
        return repos
