"""The instrumented step: one step with everything that watches or steers it; the lean loop's slow twin.

Inputs are overridden before `forward` and outputs after it; a sampled step captures the
layers its observers want (beyond those a recording's hooks fill); the step is recorded with
the overrides it used, and answers the frames due.
"""

from __future__ import annotations

from typing import Any

from ainimal_zookeeper.sdk.timestep import Timestep
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.recording_session import RecordingSession
from ainimal_zookeeper.worker.sampling import TelemetrySampling
from ainimal_zookeeper.worker.torch_layers import ActivationProbe
from ainimal_zookeeper.worker.user_code import UserCodeFailed, describe


class InstrumentedStep:
    """Takes instrumented steps; `interventions` and `probe` are set once the instance is built."""

    def __init__(self, episodes: Episodes, sampling: TelemetrySampling, recording: RecordingSession) -> None:
        self.episodes, self.sampling, self.recording = episodes, sampling, recording
        self.interventions: Interventions | None = None
        self.probe: ActivationProbe | None = None

    def __call__(self, now: float, sample: bool, learns: bool) -> bool:
        """One step (sampled for telemetry if `sample`); True if it ended the episode, which the
        caller closes (`WorkerRuntime._end_episode`)."""
        book, sampling, interventions = self.episodes, self.sampling, self.interventions
        assert interventions is not None
        used: list[str] = []
        inputs = interventions.apply_inputs({"observation": book.observation}, used)
        # A recording's layers are filled by its own hooks; a sampled step may want more.
        extra = sampling.sampled_layers() if sample else ()
        captured: dict[str, Any]
        try:
            if extra and self.probe is not None:
                with self.probe.capture(extra) as captured:
                    outputs = book.agent.forward(inputs)
            else:
                captured, outputs = {}, book.agent.forward(inputs)
        except Exception as exc:
            raise UserCodeFailed(f"forward raised {describe(exc)}") from exc
        outputs = interventions.apply_outputs(outputs, used)
        used.extend(interventions.patched_layers())
        action = outputs["action"]
        try:
            next_obs, reward, terminated, truncated, info = book.env.step(action)
        except Exception as exc:
            raise UserCodeFailed(f"env.step raised {describe(exc)}") from exc
        book.counted(reward)
        ended = bool(terminated or truncated)
        if learns:
            acted_on = inputs["observation"]
            overridden = bool(used)
            book.learn(
                Timestep(
                    acted_on,
                    action,
                    float(reward),
                    bool(terminated),
                    bool(truncated),
                    next_obs,
                    info,
                    overridden=overridden,
                )
            )
        if self.recording.recorder is not None:
            final = next_obs if ended else None
            self.recording.record(now, inputs, outputs, reward, terminated, truncated, used, final)
        sampling.last = (inputs, outputs, reward, captured)
        if sample:
            sampling.publish_samples(now)
        book.observation = next_obs
        return ended
