"""Telemetry as the API asks for it: who may watch which streams of which instance.

`TelemetryHub` moves the frames; this checks the request first (a visible, running or paused
instance; known streams and a sane rate; the `inspect` right for a model's insides) and ends a
stream when its viewer may no longer see the instance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.domain.access import Viewer, instance_resource
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.streams import StreamSelection, check_rate, parse_streams
from ainimal_zookeeper.errors import Conflict, Unavailable
from ainimal_zookeeper.ports.authorization import authorize

if TYPE_CHECKING:
    from ainimal_zookeeper.service.telemetry_hub import TelemetryHub
    from ainimal_zookeeper.service.zookeeper import Zookeeper

_WATCHABLE = (InstanceStatus.RUNNING.value, InstanceStatus.PAUSED.value, InstanceStatus.STARTING.value)


class TelemetryService:
    """`telemetry` and `latestFrame`."""

    def __init__(self, zookeeper: Zookeeper, hub: TelemetryHub | None) -> None:
        self.zookeeper, self.hub = zookeeper, hub

    def stream(
        self, viewer: Viewer, instance_id: str, streams: list[str] | None, max_hz: float | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Live frames of an active instance the viewer may observe, while it may."""
        selection, hz = self._observable(viewer, instance_id, streams, max_hz)
        return self.zookeeper.while_visible(viewer, instance_id, self._hub().stream(instance_id, selection, hz))

    def latest(self, viewer: Viewer, instance_id: str, streams: list[str] | None) -> dict[str, Any]:
        """One frame, fresh from the worker (the one-shot twin of `stream`)."""
        selection, _hz = self._observable(viewer, instance_id, streams, None)
        return self._hub().sample(instance_id, selection, self.zookeeper.timeouts.command)

    def _observable(
        self, viewer: Viewer, instance_id: str, streams: list[str] | None, max_hz: float | None
    ) -> tuple[StreamSelection, float]:
        doc = self.zookeeper.visible(viewer, instance_id)  # seeing an instance is what watching it needs
        selection, hz = parse_streams(streams), check_rate(max_hz)
        if selection.activations or selection.weights or selection.wants("state"):
            # Activations, weights and state show the model's insides, not only its behaviour.
            authorize(self.zookeeper.authorizer, viewer, "inspect", instance_resource(doc))
        if doc["status"] not in _WATCHABLE:
            raise Conflict(
                f"instance {instance_id} is {doc['status']}: only a running or paused instance has telemetry"
            )
        return selection, hz

    def _hub(self) -> TelemetryHub:
        if self.hub is None:
            raise Unavailable("this server was built without an event bus, so it has no telemetry")
        return self.hub
