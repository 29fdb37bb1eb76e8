"""The `gcloud_bucket` hub: each folder under a prefix of a Cloud Storage bucket is a model.

With STORAGE_EMULATOR_HOST set (fake-gcs-server), the client talks to the emulator anonymously.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.hubs.bucket import BucketHub, BucketObject
from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.errors import Unavailable


class GcsBucketHub(BucketHub):
    """Reads with google-cloud-storage (Application Default Credentials)."""

    def __init__(
        self,
        bucket: str,
        cache: RevisionCache,
        *,
        prefix: str = "",
        project: str | None = None,
        max_models: int = 50,
        client: Any = None,
    ) -> None:
        from google.cloud import storage

        super().__init__(prefix, cache, max_models)
        self.bucket_name = bucket
        self.label = f"gcloud_bucket:{bucket}/{self.prefix}"
        self.calls = 0
        if client is None:
            if os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                client = storage.Client(project=project or "emulator", credentials=AnonymousCredentials())
            else:
                client = storage.Client(project=project)
        self.client = client

    def _list(self, prefix: str) -> Iterator[BucketObject]:
        self.calls += 1
        blobs = self._call(lambda: iter(self.client.list_blobs(self.bucket_name, prefix=prefix, timeout=60)))
        while True:
            blob = self._call(lambda: next(blobs, None))
            if blob is None:
                return
            yield BucketObject(blob.name, str(blob.generation), int(blob.size or 0))

    def _download(self, key: str, path: Path) -> None:
        self.calls += 1
        bucket = self.client.bucket(self.bucket_name)
        self._call(lambda: bucket.blob(key).download_to_filename(str(path), timeout=300))

    def _call(self, action: Any) -> Any:
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as auth_exc
        from requests import RequestException

        try:
            return action()
        except gexc.NotFound:
            raise Unavailable(f"model hub {self.label}: the bucket does not exist") from None
        except gexc.GoogleAPIError as exc:
            raise Unavailable(f"model hub {self.label}: Cloud Storage answered {type(exc).__name__}") from None
        except (auth_exc.GoogleAuthError, RequestException) as exc:
            raise Unavailable(f"model hub {self.label}: cannot reach Cloud Storage: {type(exc).__name__}") from None
