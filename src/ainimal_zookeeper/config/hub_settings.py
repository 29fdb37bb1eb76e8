"""The keys of each model hub type (`model_hubs:` entries), checked when the config is loaded.

    model_hubs:
      - {type: local_filesystem, root: ./models}
      - {type: git, url: https://example.org/zoo.git, revision: main}
      - {type: github, owner: my-org}                 # or search: "topic:ainimal"
      - {type: gcloud_bucket, bucket: my-models, prefix: zoo/}
      - {type: aws_s3, bucket: my-models, prefix: zoo/, region: eu-west-1}
      - {type: huggingface, view_qualifier: {domain: huggingface.co, owner: my-org}, account: me}
      - {type: pytorch_hub, root: ./hub_repo}

Secrets never go in the config: tokens are read from `.env.local` (or the environment) under
the variable `token_env` names.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GIT_URL",
    "HUB_SETTINGS",
    "AwsS3Hub",
    "GcloudBucketHub",
    "GitHub",
    "GitHubHub",
    "HuggingFaceHub",
    "PytorchHubHub",
    "ViewQualifier",
    "hub_settings",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
#: Git URLs a hub may name: never `ext::` (it runs commands) nor option-like text.
GIT_URL = re.compile(r"^(https?|ssh|git|file)://\S+$|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s-]\S*$")
GIT_URL_EXPECTED = "expected an https://, ssh://, git://, file:// or user@host:path git URL"
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def _matches(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{what}: got {value!r}")
        return value

    return AfterValidator(check)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
        raise ValueError(f"expected an http:// or https:// URL; got {value!r}")
    return value.rstrip("/")


Name = Annotated[str, _matches(_NAME, "expected a name of letters, digits, '.', '_' or '-'")]
Revision = Annotated[str, _matches(_REVISION, "expected a branch, tag or commit name")]
Variable = Annotated[str, _matches(_VARIABLE, "expected an environment variable name")]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Prefix = Annotated[str, Field(max_length=500)]
MaxModels = Annotated[int, Field(ge=1, le=500)]
#: Megabytes one fetch of a model may write: 4 GiB by default, at most 1 TiB.
MaxModelMegabytes = Annotated[int, Field(ge=1, le=1 << 20)]


class _Hub(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    #: Models taken from the hub's listing; the rest are logged as skipped.
    max_models: MaxModels = 50
    #: A model larger than this (what one fetch writes) is refused before or while it is fetched.
    max_model_mb: MaxModelMegabytes = 4096


class _GitBacked(_Hub):
    #: Push checkpoint tags to the remote (else they stay in the zookeeper's working clone).
    push: bool = False


class GitHub(_GitBacked):
    """`git`: one repository at any git URL, the model named after it (or `name`)."""

    url: Annotated[str, Field(min_length=1, max_length=2000)]
    name: Name | None = None
    revision: Revision = "HEAD"

    @model_validator(mode="after")
    def _check_url(self) -> GitHub:
        if not GIT_URL.match(self.url):
            raise ValueError(f"url: {GIT_URL_EXPECTED}; got {self.url!r}")
        return self


class GitHubHub(_GitBacked):
    """`github`: an account's repositories (`owner`), a search's (`search`) or named ones (`repos`)."""

    owner: Name | None = None
    search: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    repos: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")]] = Field(
        default_factory=list, max_length=100
    )
    api_url: HttpUrl = "https://api.github.com"
    #: Variable (in .env.local or the environment) holding a token for private repositories.
    token_env: Variable = "GITHUB_TOKEN"

    @model_validator(mode="after")
    def _one_source(self) -> GitHubHub:
        if not (self.owner or self.search or self.repos):
            raise ValueError("a github hub needs owner, search or repos (which repositories to offer)")
        return self


class GcloudBucketHub(_Hub):
    """`gcloud_bucket`: each folder under `prefix` in a Cloud Storage bucket is a model."""

    bucket: Name
    prefix: Prefix = ""
    project: str | None = None


class AwsS3Hub(_Hub):
    """`aws_s3`: each folder under `prefix` in an S3 bucket is a model."""

    bucket: Name
    prefix: Prefix = ""
    region: Name | None = None
    #: An S3-compatible endpoint (MinIO, a test server); AWS's own when unset.
    endpoint_url: HttpUrl | None = None


class ViewQualifier(BaseModel):
    """Which Hugging Face models to list: the Hub's domain and the author (user or org)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$")] = "huggingface.co"
    owner: Name | None = None


class HuggingFaceHub(_GitBacked):
    """`huggingface`: model repositories of an author, a filter or a search, or named ones."""

    view_qualifier: ViewQualifier = Field(default_factory=ViewQualifier)
    #: The account signed in as; its token is read from `token_env` (in .env.local).
    account: Name | None = None
    token_env: Variable = "HF_TOKEN"
    filter: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    search: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    models: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")]] = Field(
        default_factory=list, max_length=100
    )
    #: The Hub's URL; `https://<view_qualifier.domain>` when unset.
    endpoint: HttpUrl | None = None

    @property
    def base_url(self) -> str:
        return self.endpoint or f"https://{self.view_qualifier.domain}"

    @model_validator(mode="after")
    def _something_to_list(self) -> HuggingFaceHub:
        if not (self.view_qualifier.owner or self.account or self.filter or self.search or self.models):
            raise ValueError(
                "a huggingface hub needs view_qualifier.owner, account, filter, search or models (which models to offer)"
            )
        return self


class PytorchHubHub(_Hub):
    """`pytorch_hub`: a local repository with a hubconf.py; each entrypoint is a model."""

    root: Annotated[str, Field(min_length=1)]


#: The settings model of each hub type beyond local_filesystem.
HUB_SETTINGS: dict[str, type[_Hub]] = {
    "git": GitHub,
    "github": GitHubHub,
    "gcloud_bucket": GcloudBucketHub,
    "aws_s3": AwsS3Hub,
    "huggingface": HuggingFaceHub,
    "pytorch_hub": PytorchHubHub,
}


def hub_settings(data: dict[str, Any]) -> _Hub:
    """A hub entry's settings, validated for its type (raises pydantic's ValidationError)."""
    return HUB_SETTINGS[data["type"]].model_validate(data)
