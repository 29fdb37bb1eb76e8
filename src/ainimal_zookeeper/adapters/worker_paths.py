"""Map the catalog's file paths from the control plane's filesystem to the worker image's.

A WorkerSpec carries the catalog entries as the control plane resolved them: absolute paths
on its own disk (`/workspace/catalog/agent.py` in a Cloud Function). A container worker has
the same files at another place (`/app/catalog`, see worker/Dockerfile), so the cloud compute
providers rewrite every path under the control plane's catalog root to the same relative
path under the worker's root before the spec leaves for a pod or a job. A path outside the
root is a file the image does not carry: that fails the launch with what to change, rather
than a worker that dies on an ImportError minutes later.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path, PurePosixPath
from typing import Any

from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.ports.compute import WorkerSpec

__all__ = ["WorkerPaths"]

#: Keys of a catalog entry that hold a file or folder on the control plane's disk.
PATH_KEYS = ("path",)


class WorkerPaths:
    """Rewrites the paths in a spec from `catalog_root` (here) to `worker_root` (in the image)."""

    def __init__(self, catalog_root: str | os.PathLike[str], worker_root: str = "/app/catalog") -> None:
        self.catalog_root = Path(catalog_root).resolve()
        if not worker_root.startswith("/"):
            raise ConfigError(f"the worker's catalog root must be absolute in the image, got {worker_root!r}")
        self.worker_root = PurePosixPath(worker_root)

    def for_worker(self, spec: WorkerSpec) -> WorkerSpec:
        """`spec` with its model's and environment's paths as the worker sees them.

        Raises:
            ConfigError: a path lies outside the catalog root, so the image cannot have it.
        """
        model = self._entry(spec.model, "model")
        environment = self._entry(spec.environment, "environment") if spec.environment is not None else None
        return dataclasses.replace(spec, model=model, environment=environment)

    def _entry(self, entry: dict[str, Any], what: str) -> dict[str, Any]:
        rewritten = dict(entry)
        for key in PATH_KEYS:
            if entry.get(key):
                rewritten[key] = self.path(str(entry[key]), f"{what} {entry.get('name', '?')!r} {key}")
        return rewritten

    def path(self, value: str, what: str = "path") -> str:
        """One path mapped into the worker's root (relative ones are taken against the catalog root)."""
        local = Path(os.path.normpath(self.catalog_root / Path(value).expanduser()))
        try:
            relative = local.relative_to(self.catalog_root)
        except ValueError:
            raise ConfigError(
                f"{what} {value} is outside the catalog root {self.catalog_root}, so the worker image "
                f"(which has that folder at {self.worker_root}) does not carry it; move the file under "
                "the catalog root, or set gcp.catalog_root to a folder that holds it and build the worker "
                "image with that folder (worker/Dockerfile, build arg CATALOG)"
            ) from None
        return str(self.worker_root.joinpath(*relative.parts))
