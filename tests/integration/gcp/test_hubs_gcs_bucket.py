"""GcsBucketHub against fake-gcs-server (the emulator the gcp tests share)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, RevisionCache
from ainimal_zookeeper.adapters.hubs.gcs_bucket import GcsBucketHub
from ainimal_zookeeper.errors import Unavailable

from contracts.model_hubs import MODEL_FILES, ModelHubContract


class TestGcsBucketHub(ModelHubContract):
    @pytest.fixture(autouse=True)
    def _bucket(self, gcs_emulator, unique):
        self.bucket = f"zk-hub-{unique}"
        client = storage.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())
        bucket = client.create_bucket(self.bucket)
        for name, text in MODEL_FILES.items():
            bucket.blob(f"zoo/pusher/{name}").upload_from_string(text)
        self.emulator = gcs_emulator

    def make_hub(self, tmp_path: Path, bound: FetchBound | None = None) -> GcsBucketHub:
        hub = GcsBucketHub(self.bucket, RevisionCache(tmp_path / "cache", bound), prefix="zoo")
        self.network_calls = lambda: hub.calls
        return hub

    def make_unreachable_hub(self, tmp_path: Path) -> GcsBucketHub:
        return GcsBucketHub(f"{self.bucket}-missing", RevisionCache(tmp_path / "c"), prefix="zoo")

    def test_a_missing_bucket_is_unavailable_saying_so(self, tmp_path):
        hub = self.make_unreachable_hub(tmp_path)
        with pytest.raises(Unavailable, match="the bucket does not exist"):
            hub.list_models()
