"""Build the model hub adapters the config's `model_hubs:` names (each imported only when used).

A hub whose adapter cannot be built (its client library is not installed, say) becomes an
`UnavailableHub`: the catalog lists it as unavailable and the server starts anyway.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache, safe_part
from ainimal_zookeeper.adapters.hubs.unavailable import UnavailableHub
from ainimal_zookeeper.config import hub_settings as hs
from ainimal_zookeeper.config.interpolation import load_environment
from ainimal_zookeeper.ports.model_hubs import ModelHub

if TYPE_CHECKING:
    from ainimal_zookeeper.config import ZookeeperConfig
    from ainimal_zookeeper.config.model import ModelHubConfig

log = logging.getLogger(__name__)

#: Which pip extra brings each hub type's client library.
EXTRA_FOR = {"gcloud_bucket": "gcp", "aws_s3": "s3", "huggingface": "huggingface", "pytorch_hub": "torch"}


def build_model_hubs(config: ZookeeperConfig, data_dir: Path) -> list[ModelHub]:
    """One adapter per `model_hubs:` entry, in config order; fetched models cached under data_dir/hubs."""
    environment = load_environment(config.source_dir)
    hubs: list[ModelHub] = []
    for index, entry in enumerate(config.model_hubs):
        label = f"model_hubs[{index}] ({entry.type})"
        try:
            hubs.append(_build(entry, data_dir / "hubs", environment))
        except ImportError as exc:
            extra = EXTRA_FOR.get(entry.type)
            fix = f"install the {extra!r} extra (pip install 'ainimal-zookeeper[{extra}]')" if extra else "install it"
            reason = f"its client library is missing ({exc.name or exc}): {fix}"
            log.warning("model hub %s is unavailable: %s", label, reason)
            hubs.append(UnavailableHub(label, reason))
    return hubs


def _build(entry: ModelHubConfig, cache_root: Path, environment: dict[str, str]) -> ModelHub:
    if entry.type == "local_filesystem":
        from ainimal_zookeeper.adapters.hubs.local_folder import LocalFolderHub

        assert entry.root is not None
        return LocalFolderHub(Path(entry.root))
    data = {"type": entry.type, **({"root": entry.root} if entry.root else {}), **(entry.model_extra or {})}
    settings = hs.hub_settings(data)

    def cache(label: str) -> RevisionCache:
        bound = FetchBound(max_bytes=settings.max_model_mb << 20)
        return RevisionCache(cache_root / entry.type / safe_part(label), bound)

    if isinstance(settings, hs.GitHub):
        from ainimal_zookeeper.adapters.hubs.git_repo import GitRepoHub

        return GitRepoHub(
            settings.url, cache(settings.url), name=settings.name, revision=settings.revision, push=settings.push
        )
    if isinstance(settings, hs.GitHubHub):
        from ainimal_zookeeper.adapters.hubs.github import GitHubHub

        return GitHubHub(
            cache(settings.api_url),
            owner=settings.owner,
            search=settings.search,
            repos=settings.repos,
            api_url=settings.api_url,
            token=environment.get(settings.token_env) or None,
            max_models=settings.max_models,
            push=settings.push,
        )
    if isinstance(settings, hs.GcloudBucketHub):
        from ainimal_zookeeper.adapters.hubs.gcs_bucket import GcsBucketHub

        return GcsBucketHub(
            settings.bucket,
            cache(f"{settings.bucket}/{settings.prefix}"),
            prefix=settings.prefix,
            project=settings.project,
            max_models=settings.max_models,
        )
    if isinstance(settings, hs.AwsS3Hub):
        from ainimal_zookeeper.adapters.hubs.s3_bucket import S3BucketHub

        return S3BucketHub(
            settings.bucket,
            cache(f"{settings.endpoint_url}/{settings.bucket}/{settings.prefix}"),
            prefix=settings.prefix,
            region=settings.region,
            endpoint_url=settings.endpoint_url,
            max_models=settings.max_models,
        )
    if isinstance(settings, hs.HuggingFaceHub):
        from ainimal_zookeeper.adapters.hubs.huggingface import HuggingFaceHub

        return HuggingFaceHub(
            cache(settings.base_url),
            endpoint=settings.base_url,
            author=settings.view_qualifier.owner or settings.account,
            filter=settings.filter,
            search=settings.search,
            models=settings.models,
            token=environment.get(settings.token_env) or None,
            max_models=settings.max_models,
            account=settings.account,
            token_env=settings.token_env,
            push=settings.push,
        )
    if isinstance(settings, hs.PytorchHubHub):
        from ainimal_zookeeper.adapters.hubs.pytorch_hub import PytorchHubRepo

        return PytorchHubRepo(Path(settings.root), cache(settings.root), max_models=settings.max_models)
    raise AssertionError(f"no adapter for hub type {entry.type!r}")  # every type of HUB_SETTINGS is built above
