"""The recording session of an instance: at most one recording, its hooks, its rows and its end.

A recording adds one call per step to either step path (`StepColumns.add`, through `add` for
the lean loop or `record` for the instrumented one), plus forward hooks that write each
recorded layer's output in place; a model without torch layers records what its `state`
exposes instead.
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

import numpy as np

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.streams import check_recordable, parse_streams
from ainimal_zookeeper.errors import Conflict, InvalidInput
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.recordings import ChunkEncoder
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.frames import encode_frame, render_rgb
from ainimal_zookeeper.worker.recorder import Recorder
from ainimal_zookeeper.worker.step_columns import StepColumns
from ainimal_zookeeper.worker.torch_layers import ActivationProbe, filling_hook
from ainimal_zookeeper.worker.user_code import describe, safe_state

log = logging.getLogger(__name__)

#: A recording seeds an episode once at least this many steps ran since its last seeded one.
#: Seeding each episode would let a closed-loop replay start every episode afresh, but a seeded
#: reset builds a new generator: 38-42 µs an episode in place against 11 µs unseeded, which
#: cost a recording of 9-step CartPole episodes 6-7% of its steps (docs/performance.md). The
#: episodes in between continue the env's generator: a replay that stayed with the recording
#: reaches their starts as it did, one that left it steps the env through the recorded actions
#: from the last seeded episode (`episode_starts.py`; at most this many steps).
RESEED_EVERY_STEPS = 256
#: The recorded layers while nothing records.
NO_BLOCKS: Mapping[str, Any] = MappingProxyType({})


class RecordingSession:
    """The recording in progress (`recorder`, None when none runs) and what it hooked into the AInimal."""

    def __init__(self, blobs: BlobStore, outbox: EventOutbox, episodes: Episodes, retry_seconds: float) -> None:
        self.blobs, self.outbox, self.episodes = blobs, outbox, episodes
        self.retry_seconds = retry_seconds
        self.recorder: Recorder[StepColumns] | None = None
        # What the AInimal offers to record, set once the instance is built.
        self.probe: ActivationProbe | None = None
        self.layer_names: list[str] = []
        self.modalities: dict[str, Any] = {}
        self.record_state: Callable[[], None] | None = None  # a recording of `state` (no torch layers)
        # `Episodes.end_episode`'s rule while recording: None when nothing records.
        self.reseed_every: int | None = None
        self._release_hooks: Callable[[], None] | None = None

    @property
    def wants_frames(self) -> bool:
        """Whether the recording renders frames (which only the instrumented path does)."""
        return self.recorder is not None and self.recorder.buffer.wants_frames

    def recorded_blocks(self) -> Mapping[str, Any]:
        """The layers the recording fills through its hooks (name -> block); empty when none
        (always the same empty mapping, so a caller can tell nothing changed)."""
        return self.recorder.buffer.blocks if self.recorder is not None else NO_BLOCKS

    def latest_activations(self) -> dict[str, Any]:
        """The recorded layers' values at the last step; {} when no layer is recorded."""
        if self.recorder is None or not self.recorder.buffer.blocks:
            return {}
        return self.recorder.buffer.latest_activations()

    def start(self, command: cmd.StartRecording) -> None:
        """Begin the recording `command` names (a repeat of the running one does nothing)."""
        book, probe, layer_names, modalities = self.episodes, self.probe, self.layer_names, self.modalities
        if self.recorder is not None:
            if self.recorder.recording_id == command.recording_id:
                return
            raise Conflict(f"instance is already recording ({self.recorder.recording_id}); stop that one first")
        if book.env is None:
            raise InvalidInput("an instance without an environment has no steps to record")
        selection = parse_streams(command.streams, default=("inputs", "outputs", "reward"))
        check_recordable(selection)
        # A model without torch layers records as activations what it exposes in `state`.
        known = layer_names if probe is not None else list(safe_state(book.agent) or {})
        unknown = [name for name in selection.layers if name not in known]
        if unknown:
            raise InvalidInput(f"unknown layers {', '.join(unknown)}; layers: {', '.join(known) or 'none'}")
        layers = selection.layer_names(layer_names) if probe is not None and selection.activations else []
        encoder = ChunkEncoder(
            command.recording_id,
            {**modalities, "final/observation": modalities.get("inputs/observation", {})},
        )
        columns = StepColumns(
            layers, encoder, selection.wants("inputs"), selection.wants("outputs"), selection.wants("frame")
        )
        if probe is not None and layers:
            hooks = {name: filling_hook(columns.blocks[name], columns.page) for name in layers}
            self._release_hooks = probe.hold(hooks)
        elif probe is None and selection.activations:
            names = None if selection.all_layers else list(selection.layers)
            self.record_state = partial(_add_state_row, book.agent, columns, names)
        # Episodes between seeds are replayed from the recorded actions, so without those (or
        # with an env whose randomness may live outside it) each episode is seeded.
        continues = selection.wants("outputs") and _randomness_is_the_envs(book.env)
        self.reseed_every = RESEED_EVERY_STEPS if continues else 0
        book.reseed_next()
        self.recorder = Recorder(
            command.recording_id,
            book.instance_id,
            self.blobs,
            self.outbox,
            columns,
            start_state={**book.harness_state(), "episode_seed": book.episode_seed},
            retry_seconds=self.retry_seconds,
        )

    def stop(self, command: cmd.StopRecording) -> None:
        """End the recording `command` names; nothing if it already ended (a repeat, or with its episode)."""
        if self.recorder is None or self.recorder.recording_id != command.recording_id:
            return
        self.finish("complete", None)

    def record(
        self,
        now: float,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        reward: Any,
        terminated: Any,
        truncated: Any,
        used: list[str],
        final_observation: Any,
    ) -> None:
        """One row of an instrumented step (with the overrides it used, and a frame when due)."""
        recorder = self.recorder
        assert recorder is not None
        book = self.episodes
        columns = recorder.buffer
        columns.add(
            book.step_count,
            book.episode,
            book.episode_seed,
            inputs["observation"],
            outputs,
            reward,
            terminated,
            truncated,
            final_observation,
            used,
        )
        if self.record_state is not None:
            self.record_state()
        if columns.wants_frames and recorder.frame_due(now):
            rgb = render_rgb(book.env)
            if rgb is not None:
                columns.add_frame(base64.b64decode(encode_frame(rgb, fmt="png")["data"]))

    def maybe_flush(self, now: float) -> None:
        """Write a chunk when one is due; a chunk that could not be stored fails the recording."""
        if self.recorder is not None and not self.recorder.maybe_flush(now):
            self.finish("failed", None)  # the recorder's error says why

    def finish(self, status: str, error: str | None) -> None:
        """End the recording (if one runs): hooks off, the last chunk written, its status announced."""
        recorder, self.recorder = self.recorder, None
        self.record_state, self.reseed_every = None, None
        release, self._release_hooks = self._release_hooks, None
        if release is not None:
            release()
        if recorder is not None:
            recorder.stop({"observation": self.episodes.observation}, status, error)


def _randomness_is_the_envs(env: Any) -> bool:
    """Whether an unseeded reset continues a generator the env holds and its seed sets (a
    gymnasium env), so that its seed and the actions since determine it. Envs adapted from other
    APIs may draw from the global generators, which the agent draws from too."""
    return not getattr(env.unwrapped, "randomness_may_be_global", False)


def _add_state_row(agent: Any, columns: StepColumns, names: list[str] | None) -> None:
    """Record the step's `state` (all of it, or `names`); a step whose state cannot be read gets None."""
    try:
        state = agent.state
    except Exception as exc:  # noqa: BLE001  # a broken `state` must not stop the agent
        log.debug("state not recorded: %s", describe(exc))
        return
    if not isinstance(state, dict):
        return
    chosen = state if names is None else {name: state.get(name) for name in names}
    # Copies: an agent may update its arrays and lists in place at the next step.
    columns.add_state({name: _snapshot(value) for name, value in chosen.items()})


def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, dict)):
        return copy.deepcopy(value)
    return value
