"""The `aws_s3` hub: each folder under a prefix of an S3 bucket (or an S3-compatible store) is a model."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.hubs.bucket import BucketHub, BucketObject
from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.errors import Unavailable


class S3BucketHub(BucketHub):
    """Reads with boto3 (credentials from the usual AWS variables or files)."""

    def __init__(
        self,
        bucket: str,
        cache: RevisionCache,
        *,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        max_models: int = 50,
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        super().__init__(prefix, cache, max_models)
        self.bucket = bucket
        self.label = f"aws_s3:{bucket}/{self.prefix}"
        self.calls = 0
        config = Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 2})
        self.client = client or boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)

    def _list(self, prefix: str) -> Iterator[BucketObject]:
        token: str | None = None
        while True:
            self.calls += 1
            args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                args["ContinuationToken"] = token
            page = self._call(functools.partial(self.client.list_objects_v2, **args))
            for item in page.get("Contents", []):
                yield BucketObject(item["Key"], str(item.get("ETag", "")), int(item.get("Size", 0)))
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def _download(self, key: str, path: Path) -> None:
        self.calls += 1
        self._call(lambda: self.client.download_file(self.bucket, key, str(path)))

    def _call(self, action: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise Unavailable(f"model hub {self.label}: S3 answered {code}") from None
        except BotoCoreError as exc:
            raise Unavailable(f"model hub {self.label}: cannot reach S3: {type(exc).__name__}") from None
