"""The BlobStore contract: an adapter's test only says how to build the store.

Run against the local folder, the routed store, the in-memory store and the GCS emulator.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ainimal_zookeeper.errors import InvalidInput, NotFound
from ainimal_zookeeper.ports import BlobStore


class BlobStoreContract:
    """Every BlobStore behaves like this."""

    def make_store(self, tmp_path: Path) -> BlobStore:
        raise NotImplementedError

    @pytest.fixture
    def blobs(self, tmp_path):
        return self.make_store(tmp_path)

    def test_bytes_read_back_equal(self, blobs):
        blobs.put("a/b.bin", b"\x00\x01hello")
        assert blobs.get("a/b.bin") == b"\x00\x01hello" and blobs.size("a/b.bin") == 7

    def test_a_memoryview_is_stored_as_its_bytes(self, blobs):
        data = bytearray(b"chunk:") + bytes(range(256)) * 40
        blobs.put("rec/chunk-0", memoryview(data))  # recorders hand over Arrow buffers uncopied
        assert blobs.get("rec/chunk-0") == bytes(data)

    def test_files_round_trip(self, blobs, tmp_path):
        source = tmp_path / "src.bin"
        source.write_bytes(bytes(range(256)) * 5000)
        blobs.put_file("big/one", source)
        target = tmp_path / "dst.bin"
        blobs.get_file("big/one", target)
        assert target.read_bytes() == source.read_bytes()

    def test_missing_keys_raise_not_found(self, blobs, tmp_path):
        with pytest.raises(NotFound):
            blobs.get("nope")
        with pytest.raises(NotFound):
            blobs.get_file("nope", tmp_path / "x")
        assert not blobs.exists("nope")

    def test_list_by_prefix_and_delete(self, blobs):
        for key in ("c/1", "c/2", "d/1"):
            blobs.put(key, b"x")
        assert blobs.list("c/") == ["c/1", "c/2"]
        blobs.delete("c/1")
        blobs.delete("c/1")  # deleting twice is fine
        assert blobs.list() == ["c/2", "d/1"]

    @pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "", "a//b"])
    def test_keys_that_could_escape_are_refused(self, blobs, key):
        with pytest.raises(InvalidInput):
            blobs.put(key, b"x")
