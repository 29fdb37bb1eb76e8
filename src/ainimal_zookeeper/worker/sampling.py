"""Telemetry sampling: which steps are sampled for observers and one-shot frame queries, and their frames.

Observers hold leases (`ObserverLeases`): a sampled step is one the fastest lease is due on.
A one-shot query (`latestFrame`) is answered by the next step, or at once where the instance
stands when no step comes soon (paused, waiting for a person).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.streams import StreamSelection, parse_streams
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.observers import ObserverLeases
from ainimal_zookeeper.worker.telemetry import TelemetryCapture
from ainimal_zookeeper.worker.torch_layers import ActivationProbe


class TelemetrySampling:
    """Leases, pending one-shot queries and the last step's values; publishes TelemetryFrame events.

    `telemetry` and `probe` are set once the instance is built. `recorded` gives the layers a
    recording holds (name -> block) and `recorded_latest` their latest values.
    """

    def __init__(
        self,
        outbox: EventOutbox,
        episodes: Episodes,
        recorded: Callable[[], Mapping[str, Any]],
        recorded_latest: Callable[[], dict[str, Any]],
        steps_soon: Callable[[], bool],
        clock: Callable[[], float],
    ) -> None:
        self.outbox, self.episodes = outbox, episodes
        self.steps_soon = steps_soon  # whether a step comes soon (else a query is answered at once)
        self.recorded, self.recorded_latest = recorded, recorded_latest
        self.leases = ObserverLeases(clock)
        # One-shot frame queries (`latestFrame`) the next step answers: (streams, request id).
        self.one_shots: list[tuple[StreamSelection, str]] = []
        # The last step's (inputs, outputs, reward, extra activations), for telemetry frames.
        self.last: tuple[Any, Any, Any, dict[str, Any]] = (None, None, None, {})
        self.telemetry: TelemetryCapture | None = None
        self.probe: ActivationProbe | None = None
        self.layer_names: list[str] = []
        # (lease selection, recorded blocks, their count, layers): `sampled_layers` without one-shots.
        self._layers_memo: tuple[StreamSelection | None, Mapping[str, Any], int, tuple[str, ...]] | None = None

    def due(self, now: float) -> bool:
        """Whether the next step is to be sampled."""
        return bool(self.one_shots) or self.leases.due(now)

    def observe(self, command: cmd.ObserveStreams | cmd.SampleTelemetry) -> None:
        """A lease set or renewed, or a one-shot query (answered now if no step comes soon)."""
        if isinstance(command, cmd.SampleTelemetry):
            selection = parse_streams(command.streams)
            if self.steps_soon():
                self.one_shots.append((selection, command.request_id))  # answered by the next step
            else:
                self.publish_snapshot(selection, command.request_id)  # paused: where it stands
            return
        if self.leases.set(command.observer_id, command.streams, command.max_hz, command.lease_seconds):
            # A new watcher sees where the instance is at once, even if it is paused.
            self.publish_snapshot(parse_streams(command.streams), None)

    def sampled_layers(self) -> tuple[str, ...]:
        """Layers a sampled step captures beyond those a recording holds."""
        if self.probe is None:
            return ()
        recorded = self.recorded()
        selection = self.leases.selection
        if not self.one_shots:
            # The observers' layers change only with their leases or the recording: remembered,
            # since a sampled step runs cold and even this little costs it about 12 µs in place.
            memo = self._layers_memo
            if memo is not None and memo[0] is selection and memo[1] is recorded and memo[2] == len(recorded):
                return memo[3]
        selections = [selection for selection, _ in self.one_shots]
        if selection is not None:
            selections.append(selection)
        wanted: dict[str, None] = {}
        for chosen in selections:
            if chosen.activations:
                wanted.update(dict.fromkeys(chosen.layer_names(self.layer_names)))
        layers = tuple(name for name in wanted if name not in recorded)
        if not self.one_shots:
            self._layers_memo = (selection, recorded, len(recorded), layers)
        return layers

    def publish_samples(self, now: float) -> None:
        """The frames this step answers: the observers' (when due) and the one-shot queries'."""
        if self.leases.selection is not None and self.leases.due(now):
            self.publish_frame(self.leases.selection, None)
            self.leases.sampled(now)
        for selection, request_id in self.one_shots:
            self.publish_frame(selection, request_id)
        self.one_shots.clear()

    def answer_one_shots_now(self) -> None:
        """Frame queries that no step will answer soon (paused, waiting for a person): where it stands."""
        for selection, request_id in self.one_shots:
            self.publish_snapshot(selection, request_id)
        self.one_shots.clear()

    def publish_snapshot(self, selection: StreamSelection, request_id: str | None) -> None:
        """A frame of where the instance is now: the observation it will act on next."""
        book = self.episodes
        current = {"observation": book.observation} if book.env is not None else None
        saved = self.last
        self.last = (current, *saved[1:])
        try:
            self.publish_frame(selection, request_id)
        finally:
            self.last = saved

    def publish_frame(self, selection: StreamSelection | None, request_id: str | None) -> None:
        """One TelemetryFrame of `selection` from the last step's values."""
        if selection is None or self.telemetry is None:
            return
        inputs, outputs, reward, captured = self.last
        recorded = self.recorded_latest()
        if recorded:
            captured = {**recorded, **captured}
        book = self.episodes
        streams = self.telemetry.streams(
            selection,
            inputs=inputs,
            outputs=outputs,
            reward=reward,
            metrics=book.metrics if selection.wants("metrics") else {},  # read, they are brought up to date
            activations=captured,
        )
        self.outbox.publish(
            ev.TelemetryFrame(
                book.instance_id,
                step=book.step_count,
                episode=book.episode,
                streams=streams,
                request_id=request_id,
            )
        )
