"""Roles and grants persist in every kind of store: the SQLite DocumentStore, a JSON file, and in memory."""

from __future__ import annotations

import json

import pytest

from ainimal_zookeeper.adapters.auth.json_documents import JsonFileDocumentStore
from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.auth.grants import GrantStore
from ainimal_zookeeper.domain.access import ACTIONS
from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput


class GrantStoreContract:
    def open(self, tmp_path):
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path):
        return GrantStore(self.open(tmp_path), cache_seconds=0)

    def test_roles_survive_a_restart(self, tmp_path, store):
        store.set_roles("alice", ["viewer", "operator"])
        assert GrantStore(self.open(tmp_path)).roles_of("alice") == ("operator", "viewer")

    def test_grants_survive_a_restart(self, tmp_path, store):
        store.grant("bob", "model", "cartpole", ["view", "launch"], granted_by="alice")
        (grant,) = GrantStore(self.open(tmp_path)).grants_for("bob", ())
        assert (grant.kind, grant.resource, sorted(grant.actions), grant.granted_by) == (
            "model", "cartpole", ["launch", "view"], "alice",
        )  # fmt: skip

    def test_grants_to_a_role_reach_everyone_with_it(self, store):
        store.grant("role:viewer", "instance", "*", ["record"])
        assert [g.subject for g in store.grants_for("carol", ("viewer",))] == ["role:viewer"]
        assert store.grants_for("carol", ("user",)) == []

    def test_granting_again_adds_actions(self, store):
        store.grant("bob", "model", "cartpole", ["view"])
        store.grant("bob", "model", "cartpole", ["launch"])
        (grant,) = store.list_grants(subject="bob")
        assert grant.actions == {"view", "launch"}

    def test_revoking_removes_actions_then_the_grant(self, store):
        store.grant("bob", "model", "cartpole", ["view", "launch"])
        assert store.revoke("bob", "model", "cartpole", ["launch"]).actions == {"view"}
        assert store.revoke("bob", "model", "cartpole") is None
        assert store.list_grants() == []

    def test_a_star_grants_every_action(self, store):
        assert store.grant("bob", "instance", "i-1", ["*"]).actions == set(ACTIONS)

    def test_removing_all_roles_removes_the_assignment(self, store):
        store.set_roles("alice", ["admin"])
        store.set_roles("alice", [])
        assert store.roles_of("alice") == () and store.usernames_with_role("admin") == []

    @pytest.mark.parametrize(
        ("subject", "kind", "actions", "message"),
        [
            ("bob", "planet", ["view"], "kind must be one of"),
            ("bob", "model", ["fly"], "actions must be some of"),
            ("role:wizard", "model", ["view"], "role subject"),
            ("", "model", ["view"], "needs a subject"),
        ],
    )
    def test_bad_grants_are_refused(self, store, subject, kind, actions, message):
        with pytest.raises(InvalidInput, match=message):
            store.grant(subject, kind, "x", actions)

    def test_unknown_roles_are_refused(self, store):
        with pytest.raises(InvalidInput, match="roles must be some of"):
            store.set_roles("alice", ["superuser"])
        with pytest.raises(InvalidInput):
            store.set_roles("alice", ["anonymous"])


class TestGrantsInSqlite(GrantStoreContract):
    def open(self, tmp_path):
        return SqliteDocumentStore(tmp_path / "state.db")


class TestGrantsInMemory(GrantStoreContract):
    """The grant logic on the in-memory store; one store per test stands for the database across restarts."""

    def open(self, tmp_path):
        if not hasattr(self, "_store"):
            self._store = InMemoryDocumentStore()
        return self._store


class TestGrantsInAJsonFile(GrantStoreContract):
    def open(self, tmp_path):
        return JsonFileDocumentStore(tmp_path / "auth.json")

    def test_an_operator_can_write_the_file_by_hand(self, tmp_path):
        (tmp_path / "auth.json").write_text(
            json.dumps(
                {
                    "roles": {"github:octocat": {"username": "github:octocat", "roles": ["admin"]}},
                    "grants": {
                        "g1": {"subject": "bob", "kind": "model", "resource": "cartpole", "actions": ["launch"]}
                    },
                }
            )
        )
        store = GrantStore(self.open(tmp_path))
        store.check()
        assert store.roles_of("github:octocat") == ("admin",)
        assert store.grants_for("bob", ())[0].actions == {"launch"}

    def test_a_bad_hand_edit_stops_the_start(self, tmp_path):
        (tmp_path / "auth.json").write_text(
            json.dumps({"grants": {"g1": {"subject": "bob", "kind": "planet", "actions": []}}})
        )
        with pytest.raises(ConfigError, match="authorization_provider: the grant"):
            GrantStore(self.open(tmp_path)).check()

    def test_revoking_a_hand_written_grant_it_cannot_remove_says_so(self, tmp_path):
        (tmp_path / "auth.json").write_text(
            json.dumps({"grants": {"g1": {"subject": "bob", "kind": "model", "resource": "m", "actions": ["view"]}}})
        )
        with pytest.raises(Conflict, match="hand edit"):
            GrantStore(self.open(tmp_path)).revoke("bob", "model", "m")


def test_the_snapshot_is_reused_for_a_few_seconds_then_refreshed(tmp_path):
    documents = SqliteDocumentStore(tmp_path / "state.db")
    now = [0.0]
    reader = GrantStore(documents, cache_seconds=5, clock=lambda: now[0])
    writer = GrantStore(documents, cache_seconds=5, clock=lambda: now[0])
    assert reader.roles_of("alice") == ()
    writer.set_roles("alice", ["viewer"])
    assert reader.roles_of("alice") == ()  # another instance's write shows after the delay
    now[0] = 5.0
    assert reader.roles_of("alice") == ("viewer",)
    documents.close()
