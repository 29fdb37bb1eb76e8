"""Watching instances: their live events, logs and metric history (telemetry: `telemetry.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.ports import DocumentStore, EventBus
from ainimal_zookeeper.service import instance_logs
from ainimal_zookeeper.service.event_stream import EventFanout
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.metric_history import metric_history
from ainimal_zookeeper.service.records import Instance


class ObservationService:
    """`instanceEvents`, `logs` (query and subscription) and `metricHistory`.

    It is also what `instance_logs` and `metric_history` read through: the store, the event
    bus, and which instances a viewer may see.
    """

    def __init__(
        self,
        access: InstanceAccess,
        documents: DocumentStore,
        fanout: EventFanout,
        events: EventBus | None = None,
    ) -> None:
        self.access, self.documents, self.fanout, self.events = access, documents, fanout, events

    def instance_events(self, viewer: Viewer, instance_id: str | None) -> AsyncIterator[dict[str, Any]]:
        """Live events of one instance the viewer may see (or of all, filtered per event)."""
        if instance_id is not None:
            self.access.visible(viewer, instance_id)
            return self.access.while_visible(viewer, instance_id, self.fanout.stream(instance_id))
        return self._visible_events(viewer)

    async def _visible_events(self, viewer: Viewer) -> AsyncIterator[dict[str, Any]]:
        async for item in self.fanout.stream(None):
            if self.access.instance(viewer, item["instance"]) is not None:
                yield item

    def logs(self, viewer: Viewer, instance_id: str, tail: int | None) -> list[dict[str, Any]]:
        return instance_logs.logs(self, viewer, instance_id, tail)

    def log_stream(self, viewer: Viewer, instance_id: str) -> AsyncIterator[dict[str, Any]]:
        return instance_logs.log_stream(self, viewer, instance_id)

    def metric_history(
        self,
        viewer: Viewer,
        ids: Sequence[str],
        names: Sequence[str] | None,
        since: str | None,
        max_points: int | None,
    ) -> list[dict[str, Any]]:
        return metric_history(self, viewer, ids, names, since, max_points)

    # what instance_logs and metric_history read through

    def instance(self, viewer: Viewer, instance_id: str) -> Instance | None:
        return self.access.instance(viewer, instance_id)

    def inspectable(self, viewer: Viewer, instance_id: str) -> Instance | None:
        return self.access.inspectable(viewer, instance_id)

    def while_visible(
        self, viewer: Viewer, instance_id: str, items: AsyncIterator[dict[str, Any]]
    ) -> AsyncIterator[dict[str, Any]]:
        return self.access.while_visible(viewer, instance_id, items)
