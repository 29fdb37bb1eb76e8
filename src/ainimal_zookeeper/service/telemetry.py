"""Telemetry as the API asks for it: who may watch which streams of which instance.

`TelemetryHub` moves the frames; this checks the request first (a visible, running or paused
instance; known streams and a sane rate; the `inspect` right for a model's insides) and ends a
stream when its viewer may no longer see the instance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.streams import StreamSelection, check_rate, parse_streams
from ainimal_zookeeper.errors import Conflict, Unavailable
from ainimal_zookeeper.service.instance_access import InstanceAccess

if TYPE_CHECKING:
    from ainimal_zookeeper.service.telemetry_hub import TelemetryHub

_WATCHABLE = (InstanceStatus.RUNNING, InstanceStatus.PAUSED, InstanceStatus.STARTING)


class TelemetryService:
    """`telemetry` and `latestFrame`."""

    def __init__(self, access: InstanceAccess, hub: TelemetryHub | None, timeout: float = 5.0) -> None:
        """`timeout`: how long `latest` waits for the worker's frame."""
        self.access, self.hub, self.timeout = access, hub, timeout

    def stream(
        self, viewer: Viewer, instance_id: str, streams: list[str] | None, max_hz: float | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Live frames of an active instance the viewer may observe, while it may."""
        selection, hz = self._observable(viewer, instance_id, streams, max_hz)
        return self.access.while_visible(viewer, instance_id, self._hub().stream(instance_id, selection, hz))

    def latest(self, viewer: Viewer, instance_id: str, streams: list[str] | None) -> dict[str, Any]:
        """One frame, fresh from the worker (the one-shot twin of `stream`)."""
        selection, _hz = self._observable(viewer, instance_id, streams, None)
        return self._hub().sample(instance_id, selection, self.timeout)

    def _observable(
        self, viewer: Viewer, instance_id: str, streams: list[str] | None, max_hz: float | None
    ) -> tuple[StreamSelection, float]:
        found = self.access.visible(viewer, instance_id)  # seeing an instance is what watching it needs
        selection, hz = parse_streams(streams), check_rate(max_hz)
        if selection.activations or selection.weights or selection.wants("state"):
            # Activations, weights and state show the model's insides, not only its behaviour.
            self.access.authorize(viewer, "inspect", found)
        if found.status not in _WATCHABLE:
            raise Conflict(
                f"instance {instance_id} is {found.status.value}: only a running or paused instance has telemetry"
            )
        return selection, hz

    def _hub(self) -> TelemetryHub:
        if self.hub is None:
            raise Unavailable("this server was built without an event bus, so it has no telemetry")
        return self.hub
