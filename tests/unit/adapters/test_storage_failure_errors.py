"""Local stores turn a failing disk into StorageUnavailable (STORAGE_ERROR) and recover with it."""

from __future__ import annotations

import errno
import os
import sqlite3
from typing import Any

import pytest

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.errors import ConfigError, NotFound, StorageUnavailable

SQLITE_FULL = 13


class _FailingWrites:
    """A connection whose writes fail as a full disk would, while `failing` is set."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.failing = False

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.failing and sql.split()[0] in {"INSERT", "DELETE", "COMMIT"}:
            error = sqlite3.OperationalError("database or disk is full")
            error.sqlite_errorcode = SQLITE_FULL  # type: ignore[attr-defined]
            raise error
        return self.conn.execute(sql, *args)

    def close(self) -> None:
        self.conn.close()


def test_a_full_disk_fails_a_write_with_a_storage_error_and_the_store_works_again_after(tmp_path):
    store = SqliteDocumentStore(tmp_path / "z.sqlite3")
    store.put("things", "a", {"n": 1})
    failing = _FailingWrites(store._conn)
    store._conn = failing  # type: ignore[assignment]
    failing.failing = True
    with pytest.raises(StorageUnavailable, match="could not save the server's state: the storage is full") as raised:
        store.put("things", "b", {"n": 2})
    assert raised.value.code == "STORAGE_ERROR" and "z.sqlite3" not in str(raised.value)
    with pytest.raises(StorageUnavailable):
        store.run_in_transaction(lambda s: s.put("things", "c", {"n": 3}))
    assert not failing.in_transaction  # a failed transaction is rolled back, not left open
    assert store.get("things", "a") == {"n": 1}  # reads still answer
    failing.failing = False
    store.update("things", "a", {"n": 5})
    assert store.get("things", "a") == {"n": 5}
    store.close()


def test_a_database_whose_shared_memory_file_is_not_a_file_is_refused_at_start_naming_it(tmp_path):
    (tmp_path / "z.sqlite3-shm").mkdir()
    with pytest.raises(ConfigError, match=r"z\.sqlite3-shm is not a regular file the server can read and write"):
        SqliteDocumentStore(tmp_path / "z.sqlite3")


def test_a_missing_data_folder_is_refused_at_start_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="is not a writable folder"):
        SqliteDocumentStore(tmp_path / "gone" / "z.sqlite3")


def test_a_corrupt_database_file_is_refused_at_start_with_the_fix(tmp_path):
    (tmp_path / "z.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigError, match="cannot be opened for writing"):
        SqliteDocumentStore(tmp_path / "z.sqlite3")


def test_a_full_disk_fails_a_blob_write_with_a_storage_error_and_leaves_nothing_behind(tmp_path, monkeypatch):
    blobs = LocalBlobStore(tmp_path)
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageUnavailable, match="could not store data: the storage is full"):
        blobs.put("a/b", b"bytes")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert blobs.list() == []
    with pytest.raises(NotFound):
        blobs.get("a/b")  # a missing blob is still NotFound, not a storage error
    blobs.put("a/b", b"bytes")
    assert blobs.get("a/b") == b"bytes"


@pytest.mark.parametrize("vendor", ["ServiceUnavailable", "DeadlineExceeded", "InternalServerError"])
def test_a_firestore_outage_is_a_storage_error_not_an_internal_one(vendor):
    from google.api_core import exceptions as gexc

    from ainimal_zookeeper.adapters.gcp.firestore_documents import _translated

    with pytest.raises(StorageUnavailable, match="reading instances/x: Firestore did not answer") as raised:
        with _translated("reading instances/x"):
            raise getattr(gexc, vendor)("the service is down")
    assert raised.value.code == "STORAGE_ERROR"


def test_a_storage_error_reaches_the_client_with_its_code_and_message():
    from graphql import GraphQLError

    from ainimal_zookeeper.api.errors import format_error

    failure = StorageUnavailable("could not save: the storage is full")
    formatted = format_error(GraphQLError(str(failure), path=["launch"], original_error=failure))
    assert formatted["extensions"]["code"] == "STORAGE_ERROR"
    assert formatted["message"] == "could not save: the storage is full"
