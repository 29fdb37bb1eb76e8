"""Who may see and act on which instance: the look-ups every use case starts with.

Hidden and missing look the same (NOT_FOUND), so the ids of others' instances leak nothing;
a visible instance the viewer may not act on is FORBIDDEN.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

from ainimal_zookeeper.domain.access import Resource, Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus, require_controllable
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
from ainimal_zookeeper.ports.authorization import Authorizer, authorize
from ainimal_zookeeper.service.records import Checkpoint, Instance
from ainimal_zookeeper.service.repository import CheckpointRepository, InstanceRepository
from ainimal_zookeeper.service.stream_guard import GuardedStream

log = logging.getLogger(__name__)

#: How often an open stream re-checks that its viewer may still see the instance (an operator
#: may unmark it public, or a grant may be revoked, while someone watches).
VISIBILITY_RECHECK_SECONDS = 2.0

T = TypeVar("T")


def resource_of(instance: Instance) -> Resource:
    """The resource an instance is to the authorizer: its id, owner and public flag."""
    return Resource("instance", instance.id, instance.owner, instance.public)


class InstanceAccess:
    """Instance look-ups as a viewer may make them, and the checks before acting on one."""

    def __init__(
        self,
        instances: InstanceRepository,
        checkpoints: CheckpointRepository,
        authorizer: Authorizer,
        recheck_seconds: float = VISIBILITY_RECHECK_SECONDS,
    ) -> None:
        self.instances, self.checkpoints, self.authorizer = instances, checkpoints, authorizer
        self.recheck_seconds = recheck_seconds

    def may(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        return self.authorizer.allows(viewer, action, resource)

    def authorize(self, viewer: Viewer, action: str, instance: Instance) -> None:
        """`Forbidden` unless the viewer may do `action` to the (visible) instance."""
        authorize(self.authorizer, viewer, action, resource_of(instance))

    def list_visible(self, viewer: Viewer, statuses: Sequence[str] | None = None) -> list[Instance]:
        """The instances the viewer may see, oldest first (in `statuses` when given)."""
        found = self.instances.find(list(statuses) if statuses else None, ordered=True)
        return [i for i in found if self.may(viewer, "view", resource_of(i))]

    def instance(self, viewer: Viewer, instance_id: str) -> Instance | None:
        """The instance when the viewer may see it; None when hidden or missing."""
        found = self.instances.get(instance_id)
        return found if found is not None and self.may(viewer, "view", resource_of(found)) else None

    def visible(self, viewer: Viewer, instance_id: str) -> Instance:
        """The instance the viewer may see; `NotFound` otherwise."""
        found = self.instance(viewer, instance_id)
        if found is None:
            raise NotFound(f"unknown instance {instance_id!r}")
        return found

    def inspectable(self, viewer: Viewer, instance_id: str) -> Instance | None:
        """The instance when the viewer may look inside it (parameters, checkpoints, recordings)."""
        found = self.instance(viewer, instance_id)
        return found if found is not None and self.may_inspect(viewer, found) else None

    def may_inspect(self, viewer: Viewer, instance: Instance) -> bool:
        """Whether the viewer may see an instance's insides, not only watch it."""
        return self.may(viewer, "inspect", resource_of(instance))

    def controllable(self, viewer: Viewer, instance_id: str, action: str, verb: str) -> Instance:
        """The instance, once the viewer may do `action` and it is not ending (`verb` names it in errors)."""
        found = self.visible(viewer, instance_id)
        self.authorize(viewer, action, found)
        require_controllable(instance_id, found.status, verb)
        if found.status is InstanceStatus.STOPPING:
            raise Conflict(f"cannot {verb} instance {instance_id}: it is STOPPING")
        return found

    def checkpoint(self, viewer: Viewer, checkpoint_id: str) -> Checkpoint | None:
        """A checkpoint of an instance the viewer may inspect; None otherwise (hidden looks missing)."""
        found = self.checkpoints.get(checkpoint_id)
        if found is None or self.inspectable(viewer, found.instance) is None:
            return None
        return found

    def checkpoint_of_model(self, viewer: Viewer, checkpoint_id: str, model: str) -> Checkpoint:
        """A checkpoint the viewer may use to start or restore an instance of `model`."""
        found = self.checkpoint(viewer, checkpoint_id)
        if found is None:
            raise NotFound(f"unknown checkpoint {checkpoint_id!r}")
        if found.model != model:
            raise InvalidInput(f"checkpoint {checkpoint_id} belongs to model {found.model!r}, not {model!r}")
        return found

    def while_visible(self, viewer: Viewer, instance_id: str, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """`items` until the viewer may no longer see the instance or it has ended (re-checked
        every few seconds)."""
        ended_checks = 0

        async def still_visible() -> bool:
            nonlocal ended_checks
            found = await asyncio.to_thread(self.instance, viewer, instance_id)
            if found is None:
                log.info("a stream of instance %s ended: its viewer may no longer see it", instance_id)
                return False
            # Streams end by themselves on the worker's last event; this catches a worker that
            # died without one. Seen ended at two checks in a row, so that a last event still on
            # its way is delivered first.
            ended_checks = ended_checks + 1 if found.status.is_final else 0
            return ended_checks < 2

        return GuardedStream(items, still_visible, self.recheck_seconds)
