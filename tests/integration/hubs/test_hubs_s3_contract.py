"""S3BucketHub against moto's server mode (a real HTTP S3 endpoint on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

import boto3  # noqa: E402

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache  # noqa: E402
from ainimal_zookeeper.adapters.hubs.s3_bucket import S3BucketHub  # noqa: E402
from ainimal_zookeeper.errors import NotFound, Unavailable  # noqa: E402

from contracts.model_hubs import MODEL_FILES, ModelHubContract  # noqa: E402
from support import free_port  # noqa: E402


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def _aws_test_credentials(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)


class TestS3BucketHub(ModelHubContract):
    @pytest.fixture(autouse=True)
    def _bucket(self, s3_endpoint, tmp_path):
        self.endpoint = s3_endpoint
        self.bucket = f"zoo-{tmp_path.name[-20:].lower().replace('_', '-')}".rstrip("-")
        self.s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
        self.s3.create_bucket(Bucket=self.bucket)
        for name, text in MODEL_FILES.items():
            self.s3.put_object(Bucket=self.bucket, Key=f"models/pusher/{name}", Body=text.encode())
        self.s3.put_object(Bucket=self.bucket, Key="models/readme.txt", Body=b"not a model folder")

    def make_hub(self, tmp_path: Path, bound: FetchBound | None = None) -> S3BucketHub:
        cache = RevisionCache(tmp_path / "cache", bound)
        hub = S3BucketHub(self.bucket, cache, prefix="models/", endpoint_url=self.endpoint)
        self.network_calls = lambda: hub.calls
        return hub

    def make_unreachable_hub(self, tmp_path: Path) -> S3BucketHub:
        return S3BucketHub("zoo", RevisionCache(tmp_path / "c"), endpoint_url=f"http://127.0.0.1:{free_port()}")

    def test_a_changed_model_is_a_new_revision_and_the_old_one_stays_cached(self, hub):
        old = hub.list_models()[0]
        old_folder = hub.fetch("pusher", old.revision)
        self.s3.put_object(Bucket=self.bucket, Key="models/pusher/notes.txt", Body=b"v2")
        new = hub.list_models()[0]
        assert new.revision != old.revision
        assert (hub.fetch("pusher", new.revision) / "notes.txt").read_bytes() == b"v2"
        assert hub.fetch("pusher", old.revision) == old_folder  # from the cache
        self.s3.put_object(Bucket=self.bucket, Key="models/pusher/notes.txt", Body=b"v3")
        with pytest.raises(NotFound, match="no longer at revision"):
            hub.fetch("pusher", "0" * 20)

    def test_a_missing_bucket_says_so(self, tmp_path):
        hub = S3BucketHub("no-such-bucket", RevisionCache(tmp_path / "c"), endpoint_url=self.endpoint)
        with pytest.raises(Unavailable, match="aws_s3:no-such-bucket/: S3 answered NoSuchBucket"):
            hub.list_models()
