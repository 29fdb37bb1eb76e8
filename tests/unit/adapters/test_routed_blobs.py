"""PrefixRoutedBlobStore over two local folders: the BlobStore contract, and where each key lands."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.routed_blobs import PrefixRoutedBlobStore
from ainimal_zookeeper.errors import Unavailable

from contracts.blobs import BlobStoreContract


class TestPrefixRoutedBlobStore(BlobStoreContract):
    def make_store(self, tmp_path):
        return PrefixRoutedBlobStore(LocalBlobStore(tmp_path / "checkpoints"), LocalBlobStore(tmp_path / "recordings"))

    def test_the_contract_holds_for_keys_of_the_routed_folders_too(self, blobs):
        blobs.put("recordings/r1/chunk-0", b"\x00rec")
        assert blobs.get("recordings/r1/chunk-0") == b"\x00rec" and blobs.size("recordings/r1/chunk-0") == 4
        with blobs.open("recordings/r1/chunk-0") as stream:
            assert stream.read() == b"\x00rec"
        blobs.delete("recordings/r1/chunk-0")
        assert not blobs.exists("recordings/r1/chunk-0")


@pytest.fixture
def stores(tmp_path):
    default, routed = LocalBlobStore(tmp_path / "checkpoints"), LocalBlobStore(tmp_path / "recordings")
    return default, routed, PrefixRoutedBlobStore(default, routed)


def test_recordings_and_exports_go_to_the_second_store_and_the_rest_to_the_first(stores, tmp_path):
    default, routed, blobs = stores
    blobs.put("checkpoints/sha256/ab.json", b"{}")
    blobs.put("recordings/r1/start.json", b"{}")
    source = tmp_path / "export.zip"
    source.write_bytes(b"zip")
    blobs.put_file("exports/e1.zip", source, move=True)
    blobs.put("recordingsX/not-routed", b"x")  # a folder is routed, not a name that starts alike
    assert default.list() == ["checkpoints/sha256/ab.json", "recordingsX/not-routed"]
    assert routed.list() == ["exports/e1.zip", "recordings/r1/start.json"]
    target = tmp_path / "back.zip"
    blobs.get_file("exports/e1.zip", target)
    assert target.read_bytes() == b"zip"


def test_listing_merges_both_stores_for_prefixes_that_span_them(stores):
    _, _, blobs = stores
    for key in ("checkpoints/a", "recordings/r1/c0", "recordings/r2/c0", "exports/e1", "readme"):
        blobs.put(key, b"x")
    assert blobs.list() == ["checkpoints/a", "exports/e1", "readme", "recordings/r1/c0", "recordings/r2/c0"]
    assert blobs.list("re") == ["readme", "recordings/r1/c0", "recordings/r2/c0"]
    assert blobs.list("recordings/r1") == ["recordings/r1/c0"]
    assert blobs.list("checkpoints/") == ["checkpoints/a"]


def test_signed_urls_come_from_the_store_holding_the_key_or_say_it_cannot(stores):
    default, routed, _ = stores

    class Signing(LocalBlobStore):
        def signed_url(self, key, expires_seconds=3600):
            return f"https://signed/{key}?ttl={expires_seconds}"

    blobs = PrefixRoutedBlobStore(default, Signing(routed.root))
    assert blobs.signed_url("recordings/r1/c0", 60) == "https://signed/recordings/r1/c0?ttl=60"
    with pytest.raises(Unavailable, match="cannot sign"):
        blobs.signed_url("checkpoints/a")


@pytest.mark.parametrize("prefixes", [(), ("recordings",), ("/",)])
def test_routed_prefixes_must_be_folders(tmp_path, prefixes):
    with pytest.raises(ValueError, match="folder names"):
        PrefixRoutedBlobStore(LocalBlobStore(tmp_path / "a"), LocalBlobStore(tmp_path / "b"), prefixes)
