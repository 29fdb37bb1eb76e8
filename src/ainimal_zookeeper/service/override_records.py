"""Overrides and takeovers as stored (the `overrides` collection): the `Override` record and its repository.

Who set what and when, and when it ended: kept after an override ends, as the record of it. The
document keeps the shape it always had: fields written only later (why the worker ended it, a
takeover's lease) are absent until then, and `leaseExpiresAt` is worked out, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.service.records import OVERRIDES, _Document, now_iso
from ainimal_zookeeper.service.repository import read_all

_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})

#: Fields absent from a document until something sets them (a takeover's lease, the worker's reason).
_WRITTEN_LATER = ("clearedReason", "leaseUntil", "leaseExpiresAt")


@dataclass(frozen=True)
class Override(_Document):
    """A value forced into a target of an instance (or a takeover of an output), and its fate."""

    id: str
    instance: str
    target: str
    mode: str = "set"
    value: Any = None
    index: Any = None
    #: "realtime" or "lockstep" for a takeover, None for a plain override.
    takeover: str | None = None
    hold_seconds: float | None = None
    timeout_seconds: float | None = None
    set_by: str | None = None
    #: Who holds a takeover (the username that set it, or "anonymous").
    holder: str | None = None
    created_at: str | None = None
    active: bool = False
    cleared_at: str | None = None
    cleared_by: str | None = None
    #: Why the worker ended it by itself (a lease ran out, an emergency stop).
    cleared_reason: str | None = None
    #: When a takeover's lease ends, as a control plane last renewed it (Unix seconds).
    lease_until: float | None = None
    #: `lease_until` (or this process's newer renewal) as the API shows it; not stored.
    lease_expires_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _NO_EXTRA)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Override:
        """The stored override; odd values read as empty ones (reads never fail)."""
        known, extra = cls._split(doc)
        known["active"] = doc.get("active") is True  # only a real true keeps it in force
        return cls(**known, extra=MappingProxyType(extra))

    def to_document(self) -> dict[str, Any]:
        """The override as the store and the API spell it (fields not yet set are left out)."""
        doc = super().to_document()
        for name in _WRITTEN_LATER:
            if doc.get(name) is None:
                doc.pop(name, None)
        return doc

    @property
    def holder_name(self) -> str:
        """Who holds it: its holder, else who set it, else "anonymous"."""
        return self.holder or self.set_by or "anonymous"


class OverrideRepository:
    """The `overrides` collection, read as `Override` records."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def get(self, override_id: str) -> Override | None:
        doc = self.documents.get(OVERRIDES, override_id)
        return Override.from_document(doc) if doc is not None else None

    def create(self, override: Override) -> None:
        self.documents.put(OVERRIDES, override.id, override.to_document())

    def of_instance(self, instance_id: str) -> list[Override]:
        """The instance's overrides, ended ones too, oldest first."""
        found = self.documents.find(OVERRIDES, [("instance", "==", instance_id)], order_by="createdAt")
        return read_all(found, Override.from_document, "override")

    def set_lease(self, override_id: str, until: float) -> Override:
        """Store when a takeover's lease ends; the override as it now is."""
        return Override.from_document(self.documents.update(OVERRIDES, override_id, {"leaseUntil": until}))

    def mark_cleared(self, override_id: str, cleared_by: str | None, reason: str | None = None) -> None:
        """The override has ended: cleared by someone, or (`reason`) by the worker itself."""
        fields: dict[str, Any] = {"active": False, "clearedAt": now_iso(), "clearedBy": cleared_by}
        if reason is not None:
            fields["clearedReason"] = reason
        self.documents.update(OVERRIDES, override_id, fields)
