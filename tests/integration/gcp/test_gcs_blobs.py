"""GcsBlobStore against fake-gcs-server: the BlobStore contract plus the Cloud Storage specifics."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from ainimal_zookeeper.adapters.gcp.gcs_blobs import GcsBlobStore
from ainimal_zookeeper.adapters.routed_blobs import PrefixRoutedBlobStore
from ainimal_zookeeper.errors import ConfigError, NotFound, Unavailable

from contracts.blobs import BlobStoreContract

MB = 1 << 20


class TestGcsBlobStore(BlobStoreContract):
    """The shared BlobStore contract, one fresh bucket per test."""

    @pytest.fixture(autouse=True)
    def _bucket(self, gcs_emulator, unique):
        self.bucket = f"zk-test-{unique}"

    def make_store(self, tmp_path):
        return GcsBlobStore(self.bucket, create_bucket=True)


class TestRoutedGcsBlobStores(BlobStoreContract):
    """The contract again for checkpoints and recordings in two buckets, as the cloud config wires them."""

    @pytest.fixture(autouse=True)
    def _buckets(self, gcs_emulator, unique):
        self.buckets = (f"zk-test-{unique}", f"zk-test-{unique}-rec")

    def make_store(self, tmp_path):
        default, routed = (GcsBlobStore(name, prefix="zk-", create_bucket=True) for name in self.buckets)
        return PrefixRoutedBlobStore(default, routed)

    def test_recordings_land_in_their_own_bucket(self, blobs):
        blobs.put("recordings/r1/c0", b"rec")
        blobs.put("checkpoints/sha256/a.json", b"{}")
        client = storage.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())
        names = [[b.name for b in client.list_blobs(bucket)] for bucket in self.buckets]
        assert names == [["zk-checkpoints/sha256/a.json"], ["zk-recordings/r1/c0"]]
        assert blobs.list() == ["checkpoints/sha256/a.json", "recordings/r1/c0"]


@pytest.fixture
def client(gcs_emulator) -> storage.Client:
    return storage.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())


@pytest.fixture
def bucket(unique) -> str:
    return f"zk-test-{unique}"


@contextmanager
def _recording(client: storage.Client) -> Iterator[list[tuple[str, str]]]:
    """The (method, url) of every HTTP request the client sends inside the block."""
    seen: list[tuple[str, str]] = []
    session = client._http
    send = session.request

    def recording(method, url, *args, **kwargs):
        seen.append((method, url))
        return send(method, url, *args, **kwargs)

    session.request = recording
    try:
        yield seen
    finally:
        del session.request  # back to the class's method


def _digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def test_a_large_file_goes_up_resumable_in_chunks_and_reads_back_equal(client, bucket, tmp_path):
    store = GcsBlobStore(bucket, client=client, chunk_size=1 * MB, create_bucket=True)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * MB))
    with _recording(client) as requests_seen:
        store.put_file("checkpoints/sha256/big.tar", source)

    assert any("uploadType=resumable" in url for _, url in requests_seen)
    assert sum(method == "PUT" for method, _ in requests_seen) >= 20  # one request per 1 MB chunk
    assert store.size("checkpoints/sha256/big.tar") == 20 * MB
    streamed = hashlib.sha256()
    with store.open("checkpoints/sha256/big.tar") as stream:
        while piece := stream.read(3 * MB + 7):  # reads that straddle the 1 MB ranges
            streamed.update(piece)
    assert streamed.hexdigest() == _digest(source)
    target = tmp_path / "back.bin"
    store.get_file("checkpoints/sha256/big.tar", target)
    assert _digest(target) == _digest(source)


def test_move_removes_the_local_file_only_when_asked(client, bucket, tmp_path):
    store = GcsBlobStore(bucket, client=client, create_bucket=True)
    kept, moved = tmp_path / "kept", tmp_path / "moved"
    kept.write_bytes(b"k")
    moved.write_bytes(b"m")
    store.put_file("a/kept", kept)
    store.put_file("a/moved", moved, move=True)
    assert kept.exists() and not moved.exists()
    assert store.get("a/moved") == b"m"


def test_if_absent_twice_succeeds_and_keeps_one_generation(client, bucket, tmp_path):
    store = GcsBlobStore(bucket, client=client, chunk_size=1 * MB, create_bucket=True)
    store.put("cas/x", b"same bytes", if_absent=True)
    first = client.bucket(bucket).get_blob("cas/x").generation
    store.put("cas/x", b"same bytes", if_absent=True)
    source = tmp_path / "same"
    source.write_bytes(b"same bytes")
    store.put_file("cas/x", source, move=True, if_absent=True)
    assert client.bucket(bucket).get_blob("cas/x").generation == first
    assert [b.name for b in client.list_blobs(bucket, versions=True)] == ["cas/x"]
    assert not source.exists()  # an already-stored object still counts as stored


def test_if_absent_resumable_uploads_carry_the_generation_precondition(client, bucket, tmp_path):
    """Checks the request only: fake-gcs-server ignores ifGenerationMatch on resumable uploads
    (real Cloud Storage answers 412 at initiation, handled like the multipart case above)."""
    store = GcsBlobStore(bucket, client=client, chunk_size=1 * MB, create_bucket=True)
    source = tmp_path / "big"
    source.write_bytes(os.urandom(9 * MB))  # over the client's 8 MiB single-request limit
    with _recording(client) as requests_seen:
        store.put_file("cas/big", source, if_absent=True)
    starts = [url for method, url in requests_seen if method == "POST" and "uploadType=resumable" in url]
    assert len(starts) == 1 and "ifGenerationMatch=0" in starts[0]
    assert store.size("cas/big") == 9 * MB


def test_a_missing_bucket_is_a_config_error_naming_bucket_and_setting(client, bucket):
    with pytest.raises(ConfigError, match=rf"{bucket}.*gcp\.create_bucket"):
        GcsBlobStore(bucket, client=client)
    GcsBlobStore(bucket, client=client, create_bucket=True)
    GcsBlobStore(bucket, client=client, create_bucket=True)  # an existing bucket is fine
    GcsBlobStore(bucket, client=client)


def test_prefixes_separate_stores_in_one_bucket(client, bucket):
    one = GcsBlobStore(bucket, client=client, prefix="one/", create_bucket=True)
    two = GcsBlobStore(bucket, client=client, prefix="two/")
    one.put("k/1", b"a")
    two.put("k/1", b"b")
    assert one.list() == ["k/1"] and one.list("k/") == ["k/1"] and two.get("k/1") == b"b"
    assert sorted(b.name for b in client.list_blobs(bucket)) == ["one/k/1", "two/k/1"]
    one.delete("k/1")
    assert two.exists("k/1") and not one.exists("k/1")


def test_missing_objects_raise_not_found_naming_the_key(client, bucket):
    store = GcsBlobStore(bucket, client=client, create_bucket=True)
    with pytest.raises(NotFound, match="nope/a"):
        store.open("nope/a")
    with pytest.raises(NotFound, match="nope/b"):
        store.size("nope/b")


def test_an_overwrite_during_a_read_fails_the_read_instead_of_mixing_versions(client, bucket):
    store = GcsBlobStore(bucket, client=client, chunk_size=256 << 10, create_bucket=True)
    store.put("v", b"1" * (1 * MB))
    with store.open("v") as stream:
        assert stream.read(1000) == b"1" * 1000
        store.put("v", b"2" * (1 * MB))
        with pytest.raises(Unavailable, match="replaced or deleted while being read"):
            stream.read()


def test_signed_url_is_refused_without_signing_credentials(client, bucket):
    """Only the refusal path: the emulator runs with anonymous credentials, which cannot sign.

    Signing itself needs a service-account key or iam.serviceAccounts.signBlob on real GCP.
    """
    store = GcsBlobStore(bucket, client=client, create_bucket=True)
    with pytest.raises(Unavailable, match=r"private key.*signBlob"):
        store.signed_url("recordings/r.mp4")


def test_no_credentials_is_a_config_error_naming_both_variables(monkeypatch, tmp_path):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match=r"STORAGE_EMULATOR_HOST.*GOOGLE_APPLICATION_CREDENTIALS"):
        GcsBlobStore("any-bucket")


def test_chunk_size_must_fit_resumable_uploads(client, bucket):
    with pytest.raises(ConfigError, match="256 KiB"):
        GcsBlobStore(bucket, client=client, chunk_size=1000)
