"""The in-memory BlobStore passes the BlobStore contract."""

from __future__ import annotations

from ainimal_zookeeper.adapters.memory import InMemoryBlobStore

from contracts.blobs import BlobStoreContract


class TestInMemoryBlobStore(BlobStoreContract):
    def make_store(self, tmp_path):
        return InMemoryBlobStore()

    def test_a_stored_buffer_is_copied_so_the_writer_may_reuse_it(self, blobs):
        buffer = bytearray(b"first")
        blobs.put("k", memoryview(buffer))
        buffer[:] = b"again"
        assert blobs.get("k") == b"first"

    def test_a_moved_file_is_taken_over_and_streams_read_it_back(self, blobs, tmp_path):
        source = tmp_path / "chunk"
        source.write_bytes(b"abc")
        blobs.put_file("rec/0", source, move=True)
        assert not source.exists()
        with blobs.open("rec/0") as handle:
            assert handle.read() == b"abc"
