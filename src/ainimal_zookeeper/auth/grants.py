"""Who holds which role, and per-resource grants: kept in a DocumentStore (or the JSON file store).

Two collections:

- `roles`:  one document per user, `{"username": "alice", "roles": ["operator"]}`.
- `grants`: `{"subject": "bob" | "role:viewer", "kind": "model" | "environment" | "instance" | "user",
  "resource": "<id or name>" | "*", "actions": ["view", "launch", ...] | ["*"]}`.

Every request asks for a viewer's roles and grants, so both collections are read whole into a
snapshot that is refreshed every few seconds (`cache_seconds`) and at once after a write made
here; a change made through another control-plane instance shows within that delay.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.domain.access import ACTIONS
from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput
from ainimal_zookeeper.ports.documents import DocumentStore

__all__ = [
    "ANY",
    "ASSIGNABLE_ROLES",
    "KINDS",
    "ROLES",
    "Grant",
    "GrantStore",
    "role_subject",
]

log = logging.getLogger(__name__)

#: Every role, most powerful first. "anonymous" is who sends no token; it cannot be assigned.
ROLES = ("admin", "operator", "user", "viewer", "anonymous")
ASSIGNABLE_ROLES = ROLES[:-1]
#: What grants can be about. "user" stands for accounts and their roles (managing people).
KINDS = ("model", "environment", "instance", "user")
#: A grant's resource or action that means "every one".
ANY = "*"
GRANTS = "grants"
ROLE_ASSIGNMENTS = "roles"


def role_subject(role: str) -> str:
    """The grant subject meaning "everyone with this role"."""
    return f"role:{role}"


@dataclass(frozen=True)
class Grant:
    """Permission for a subject (a username or "role:<role>") to do actions to resources."""

    subject: str
    kind: str
    resource: str
    actions: frozenset[str]
    granted_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored / API form."""
        return {
            "subject": self.subject,
            "kind": self.kind,
            "resource": self.resource,
            "actions": sorted(self.actions),
            "granted_by": self.granted_by,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Grant:
        """Read a stored grant; `InvalidInput` naming what is wrong with it."""
        actions = doc.get("actions")
        if isinstance(actions, str):
            actions = [actions]
        if not isinstance(actions, list):
            raise InvalidInput(f"a grant's actions must be a list, got {actions!r}")
        granted_by = doc.get("granted_by")
        return make_grant(
            str(doc.get("subject", "")),
            str(doc.get("kind", "")),
            str(doc.get("resource", ANY)),
            actions,
            str(granted_by) if granted_by is not None else None,
        )


def make_grant(subject: str, kind: str, resource: str, actions: Iterable[Any], granted_by: str | None = None) -> Grant:
    """A checked grant: known kind and actions ("*" for all), a subject, a resource.

    Raises:
        InvalidInput: naming the bad part and what is accepted.
    """
    if not subject or len(subject) > 200:
        raise InvalidInput("a grant needs a subject: a username or 'role:<role>'")
    if subject.startswith("role:") and subject[5:] not in ROLES:
        raise InvalidInput(
            f"a grant's role subject must be one of {', '.join(map(role_subject, ROLES))}, got {subject!r}"
        )
    if kind not in KINDS:
        raise InvalidInput(f"a grant's kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not resource or len(resource) > 500:
        raise InvalidInput("a grant needs a resource id or name, or '*' for all")
    wanted = set(actions)
    if ANY in wanted:
        wanted = set(ACTIONS)
    unknown = sorted(str(a) for a in wanted - set(ACTIONS))
    if unknown or not wanted:
        raise InvalidInput(f"a grant's actions must be some of {', '.join(ACTIONS)} (or '*'), got {unknown or 'none'}")
    return Grant(subject, kind, resource, frozenset(wanted), granted_by)


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Roles as stored: known, assignable, no repeats, in rank order."""
    wanted = set(roles)
    unknown = sorted(wanted - set(ASSIGNABLE_ROLES))
    if unknown:
        raise InvalidInput(f"roles must be some of {', '.join(ASSIGNABLE_ROLES)}, got {', '.join(unknown)}")
    return tuple(role for role in ASSIGNABLE_ROLES if role in wanted)


def _grant_id(subject: str, kind: str, resource: str) -> str:
    # Hashed so that any subject or resource text makes a valid document id (Firestore forbids '/').
    return hashlib.sha256(f"{subject}\x00{kind}\x00{resource}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class _Snapshot:
    taken_at: float
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    grants_by_subject: dict[str, tuple[Grant, ...]] = field(default_factory=dict)


class GrantStore:
    """Role assignments and grants over a DocumentStore, with a short-lived in-memory snapshot."""

    def __init__(
        self, documents: DocumentStore, *, cache_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._documents = documents
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def check(self, where: str = "authorization_provider") -> None:
        """Read every stored entry once, at start, so a bad hand edit fails loudly there.

        Raises:
            ConfigError: naming `where` and the entry that cannot be used.
        """
        for doc in self._documents.find(GRANTS):
            try:
                Grant.from_doc(doc)
            except InvalidInput as exc:
                raise ConfigError(f"{where}: the grant {doc!r} cannot be used: {exc}") from None
        for doc in self._documents.find(ROLE_ASSIGNMENTS):
            try:
                if not isinstance(doc.get("username"), str) or not isinstance(doc.get("roles"), list):
                    raise InvalidInput('expected {"username": "...", "roles": [...]}')
                check_roles(doc["roles"])
            except InvalidInput as exc:
                raise ConfigError(f"{where}: the role assignment {doc!r} cannot be used: {exc}") from None

    # --- roles -----------------------------------------------------------------------------

    def roles_of(self, username: str) -> tuple[str, ...]:
        """The roles assigned to `username` (none when there is no assignment)."""
        return self._current().roles.get(username, ())

    def set_roles(self, username: str, roles: Iterable[str]) -> tuple[str, ...]:
        """Replace the roles of `username`; an empty list removes the assignment."""
        checked = check_roles(roles)
        if checked:
            self._documents.put(ROLE_ASSIGNMENTS, username, {"username": username, "roles": list(checked)})
        else:
            self._documents.delete(ROLE_ASSIGNMENTS, username)
        self.invalidate()
        if self.roles_of(username) != checked:
            raise Conflict(
                f"{username!r} has another role entry, stored under an id other than its username "
                "(a hand edit?): remove that entry from the authorization store"
            )
        return checked

    def usernames_with_role(self, role: str) -> list[str]:
        """Everyone who holds `role`, sorted."""
        return sorted(name for name, roles in self._current().roles.items() if role in roles)

    # --- grants ----------------------------------------------------------------------------

    def grants_for(self, username: str | None, roles: Iterable[str]) -> list[Grant]:
        """Grants to this user by name, and to any of its roles."""
        by_subject = self._current().grants_by_subject
        subjects = [role_subject(r) for r in roles] + ([username] if username else [])
        return [grant for subject in subjects for grant in by_subject.get(subject, ())]

    def grant(
        self, subject: str, kind: str, resource: str, actions: Iterable[str], granted_by: str | None = None
    ) -> Grant:
        """Add actions to the grant of (subject, kind, resource), creating it if needed."""
        wanted = make_grant(subject, kind, resource, actions, granted_by)
        existing = self._stored(subject, kind, resource)
        merged = make_grant(subject, kind, resource, wanted.actions | existing, granted_by)
        self._replace(subject, kind, resource, merged)
        return merged

    def revoke(self, subject: str, kind: str, resource: str, actions: Iterable[str] | None = None) -> Grant | None:
        """Remove some actions (all when None) from a grant; returns what is left, if anything."""
        removed = set(ACTIONS) if actions is None or ANY in set(actions) else set(actions)
        left = self._stored(subject, kind, resource) - removed
        remaining = make_grant(subject, kind, resource, left) if left else None
        self._replace(subject, kind, resource, remaining)
        return remaining

    def list_grants(
        self, *, subject: str | None = None, kind: str | None = None, resource: str | None = None
    ) -> list[Grant]:
        """Every grant matching the given filters, sorted for display."""
        everything = [g for grants in self._current().grants_by_subject.values() for g in grants]
        chosen = [
            g
            for g in everything
            if (subject is None or g.subject == subject)
            and (kind is None or g.kind == kind)
            and (resource is None or g.resource == resource)
        ]
        return sorted(chosen, key=lambda g: (g.kind, g.resource, g.subject))

    def invalidate(self) -> None:
        """Forget the snapshot, so the next read sees the store."""
        with self._lock:
            self._snapshot = None

    # --- internals -------------------------------------------------------------------------

    def _stored(self, subject: str, kind: str, resource: str) -> frozenset[str]:
        docs = self._documents.find(GRANTS, [("subject", "==", subject), ("kind", "==", kind)])
        actions: set[str] = set()
        for doc in docs:
            if str(doc.get("resource", ANY)) == resource:
                actions |= Grant.from_doc(doc).actions
        return frozenset(actions)

    def _replace(self, subject: str, kind: str, resource: str, grant: Grant | None) -> None:
        """Store `grant` as the only entry for (subject, kind, resource); hand-written duplicates go."""

        def work(tx: DocumentStore) -> None:
            for doc in tx.find(GRANTS, [("subject", "==", subject), ("kind", "==", kind)]):
                if str(doc.get("resource", ANY)) == resource and "id" in doc:
                    tx.delete(GRANTS, str(doc["id"]))
            doc_id = _grant_id(subject, kind, resource)
            tx.delete(GRANTS, doc_id)
            if grant is not None:
                tx.put(GRANTS, doc_id, {"id": doc_id, **grant.to_json()})

        self._documents.run_in_transaction(work)
        self.invalidate()
        expected = grant.actions if grant is not None else frozenset()
        if self._stored(subject, kind, resource) != expected:
            raise Conflict(
                f"a grant to {subject!r} on {kind} {resource!r} is also stored without its id (a hand edit?): "
                "remove that entry from the authorization store"
            )

    def _current(self) -> _Snapshot:
        now = self._clock()
        with self._lock:
            snapshot = self._snapshot
        if snapshot is not None and now - snapshot.taken_at < self._cache_seconds:
            return snapshot
        snapshot = self._read(now)
        with self._lock:
            self._snapshot = snapshot
        return snapshot

    def _read(self, now: float) -> _Snapshot:
        roles: dict[str, tuple[str, ...]] = {}
        for doc in self._documents.find(ROLE_ASSIGNMENTS):
            try:
                roles[str(doc["username"])] = check_roles(doc.get("roles") or [])
            except (KeyError, InvalidInput, TypeError):
                log.warning("ignoring an unusable role assignment in the store: %r", doc)
        grants: dict[str, list[Grant]] = {}
        for doc in self._documents.find(GRANTS):
            try:
                grant = Grant.from_doc(doc)
            except InvalidInput:
                log.warning("ignoring an unusable grant in the store: %r", doc)
                continue
            grants.setdefault(grant.subject, []).append(grant)
        return _Snapshot(now, roles, {subject: tuple(items) for subject, items in grants.items()})
