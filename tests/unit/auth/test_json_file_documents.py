"""The JSON-file DocumentStore keeps the DocumentStore contract, and the file stays safe to hand-edit."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ainimal_zookeeper.auth.json_documents import JsonFileDocumentStore
from ainimal_zookeeper.errors import ConfigError

from contracts.documents import DocumentStoreContract


class TestJsonFileDocumentStore(DocumentStoreContract):
    def make_store(self, tmp_path):
        return JsonFileDocumentStore(tmp_path / "auth" / "store.json")


def test_the_file_is_readable_json_only_its_owner_can_read(tmp_path):
    path = tmp_path / "users.json"
    JsonFileDocumentStore(path).put("users", "alice", {"username": "alice"})
    assert json.loads(path.read_text()) == {"users": {"alice": {"username": "alice"}}}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_hand_edits_are_picked_up(tmp_path):
    path = tmp_path / "auth.json"
    store = JsonFileDocumentStore(path)
    store.put("roles", "alice", {"username": "alice", "roles": ["user"]})
    path.write_text(json.dumps({"roles": {"alice": {"username": "alice", "roles": ["admin"]}, "bob": {"x": 1}}}))
    assert store.get("roles", "alice")["roles"] == ["admin"] and store.get("roles", "bob") == {"x": 1}


def test_a_broken_file_names_itself_and_the_line(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text('{"roles": {\n  "alice": }')
    with pytest.raises(ConfigError, match=r"auth.json is not valid JSON \(line 2"):
        JsonFileDocumentStore(path).get("roles", "alice")


def test_a_file_of_the_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text('{"roles": ["alice"]}')
    with pytest.raises(ConfigError, match="collection"):
        JsonFileDocumentStore(path).find("roles")


def test_two_stores_on_one_file_do_not_lose_writes(tmp_path):
    path = tmp_path / "shared.json"
    first, second = JsonFileDocumentStore(path), JsonFileDocumentStore(path)
    first.put("users", "a", {"n": 1})
    second.put("users", "b", {"n": 2})
    first.put("users", "c", {"n": 3})
    assert sorted(d["n"] for d in second.find("users")) == [1, 2, 3]
