"""Who owns instances, when accounts go."""

from __future__ import annotations

from ainimal_zookeeper.service.records import now_iso
from ainimal_zookeeper.service.repository import InstanceRepository


class OwnershipService:
    """`disown`: the instances of a deleted account keep running, owned by nobody."""

    def __init__(self, instances: InstanceRepository) -> None:
        self.instances = instances

    def disown(self, username: str) -> int:
        """Clear `username` as the owner of its instances (its account was deleted); returns how many.

        Ownership is by name, so a later account of the same name must not inherit control of
        these instances; admins and operators keep it. The former owner stays on record.
        """
        owned = self.instances.find(owner=username)
        for found in owned:
            self.instances.update(found.id, {"owner": None, "formerOwner": username, "updatedAt": now_iso()})
        return len(owned)
