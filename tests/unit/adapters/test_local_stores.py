"""The local adapters pass the port contracts."""

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore

from contracts.blobs import BlobStoreContract
from contracts.documents import DocumentStoreContract


class TestSqliteDocumentStore(DocumentStoreContract):
    def make_store(self, tmp_path):
        return SqliteDocumentStore(tmp_path / "docs.sqlite3")

    def test_documents_survive_reopening_the_file(self, tmp_path):
        store = SqliteDocumentStore(tmp_path / "d.sqlite3")
        store.put("x", "1", {"v": 1})
        store.close()
        reopened = SqliteDocumentStore(tmp_path / "d.sqlite3")
        assert reopened.get("x", "1") == {"v": 1}
        reopened.close()


class TestLocalBlobStore(BlobStoreContract):
    def make_store(self, tmp_path):
        return LocalBlobStore(tmp_path / "blobs")

    def test_a_failed_write_leaves_no_partial_object(self, tmp_path):
        blobs = LocalBlobStore(tmp_path / "blobs")

        target = blobs._path("ckpt")
        try:
            with blobs._atomic_writer(target) as handle:
                handle.write(b"half")
                raise OSError("crash mid-write")
        except OSError:
            pass
        assert not blobs.exists("ckpt") and list((tmp_path / "blobs").iterdir()) == []
