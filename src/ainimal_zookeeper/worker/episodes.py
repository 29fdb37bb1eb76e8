"""Where a run stands and the bookkeeping both step paths share: steps, episodes, returns, training.

The lean loop (`LeanLoop.run`) keeps the per-step counters in locals and hands
them back (`sync`) before anything reads them (the step count at every step, which the
AInimal's own metrics read); everything else, an ended episode, a
training slice, the harness state a checkpoint or a recording starts from, lives here once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ainimal_zookeeper.domain.instance import RunMode
from ainimal_zookeeper.errors import ZookeeperError
from ainimal_zookeeper.sdk.timestep import Timestep
from ainimal_zookeeper.worker import harness_state
from ainimal_zookeeper.worker.metric_points import MetricPointsCollector
from ainimal_zookeeper.worker.user_code import UserCodeFailed, describe

#: Episodes the mean return is taken over.
RETURN_WINDOW = 20
#: `steps_since_seed` when the next recorded episode must be seeded whatever the rule says.
FORCE_RESEED = 1 << 62


class Episodes:
    """The run's position (step, episode, the observation the next step acts on) and its bookkeeping.

    `agent` and `env` are set once the instance is built; `env` is None for an AInimal without one.
    """

    def __init__(
        self,
        instance_id: str,
        seed: int,
        train_slice_steps: int,
        metric_points: MetricPointsCollector,
        on_trained: Callable[[], None],
    ) -> None:
        self.instance_id = instance_id
        self.agent: Any = None
        self.env: Any = None
        self.metric_points = metric_points
        self.on_trained = on_trained  # the weights changed: cached weight summaries are stale
        self.step_count = 0
        self.episode = 0
        self._metrics: dict[str, Any] = {}
        self._ended_unread = False  # an episode ended since `metrics` was last read
        self.observation: Any = None  # what the next step acts on
        self.returns: deque[float] = deque(maxlen=RETURN_WINDOW)
        self.episode_return: Any = 0.0  # a float; env rewards are added unconverted in the hot loop
        self.episode_length = 0
        self._last_length = 0  # the last ended episode's
        self.trajectory: list[Timestep] = []
        self.train_slice = max(1, train_slice_steps)  # the most steps `train` gets at once
        # While a recording runs, episodes start from seeds drawn here, so the recording can name
        # them (closed-loop replay); otherwise resets are unseeded, since reseeding an env builds
        # a new generator (tens of microseconds, a share of a cheap agent's episode).
        self.seed_rng = np.random.default_rng(seed)
        self.episode_seed: int | None = seed  # None: the episode continued the env's generator
        self.steps_since_seed = FORCE_RESEED  # steps since the last seeded reset

    @property
    def metrics(self) -> dict[str, Any]:
        """The instance's current metrics; the last episode's figures are put in when read (a
        progress report, a checkpoint), not at each episode's end."""
        if self._ended_unread:
            self._ended_unread = False
            self._metrics.update(
                episode_return=self.returns[-1],
                episode_length=self._last_length,
                mean_return=sum(self.returns) / len(self.returns),  # np.mean costs ~5 µs
            )
        return self._metrics

    @metrics.setter
    def metrics(self, metrics: dict[str, Any]) -> None:
        self._metrics, self._ended_unread = metrics, False

    def counted(self, reward: Any) -> None:
        """One more step of this episode (the lean loop does this inline)."""
        self.step_count += 1
        self.episode_length += 1
        self.episode_return += reward

    def sync(self, step_count: int, episode_length: int, episode_return: Any, observation: Any) -> None:
        """Take the counters and observation the lean loop kept in locals."""
        self.step_count, self.episode_length, self.episode_return = step_count, episode_length, episode_return
        self.observation = observation

    def learn(self, timestep: Timestep) -> None:
        """Keep a step for `train`; an endless episode is trained in slices."""
        self.trajectory.append(timestep)
        if len(self.trajectory) >= self.train_slice:
            self.train()

    def train(self) -> None:
        """Train on the trajectory so far (an episode, or a slice of a long one), then drop it."""
        trajectory, self.trajectory = self.trajectory, []
        try:
            loss = self.agent.train(trajectory)
        except Exception as exc:
            raise UserCodeFailed(f"train raised {describe(exc)}") from exc
        self.on_trained()
        try:
            self.metrics.update(self.metric_points.trained(loss))
        except ZookeeperError as exc:
            raise UserCodeFailed(f"train's result: {exc}") from exc

    def end_episode(self, learns: bool, reseed_every: int | None) -> None:
        """Close the episode (metrics, the rest of its training) and reset the env.

        `reseed_every`: None, an unseeded reset (nothing records the run); else the next episode
        starts from a seed drawn here once at least this many steps ran since the last seeded
        reset (0: every episode), and continues the env's generator before that.
        This runs once an episode, and a fast env's episodes last a few steps: keep it lean.
        """
        self.episode += 1
        episode_return = self.episode_return = float(self.episode_return)
        self.returns.append(episode_return)
        self._last_length, self._ended_unread = self.episode_length, True
        self.metric_points.episode(self.step_count, episode_return, self.episode_length)
        if self.trajectory:
            if learns:
                self.train()
            self.trajectory = []
        self.steps_since_seed += self.episode_length
        self.episode_return, self.episode_length = 0.0, 0
        if reseed_every is not None and self.steps_since_seed >= reseed_every:
            self.episode_seed, self.steps_since_seed = int(self.seed_rng.integers(2**31)), 0
        else:
            self.episode_seed = None
        try:
            self.observation, _ = self.env.reset(seed=self.episode_seed)
        except Exception as exc:
            raise UserCodeFailed(f"env.reset raised {describe(exc)}") from exc

    def restart(self) -> None:
        """Begin a fresh episode from this episode's seed (the env could not be put back)."""
        self.observation, _ = self.env.reset(seed=self.episode_seed)
        self.episode_return, self.episode_length = 0.0, 0
        self.reseed_next()

    def reseed_next(self) -> None:
        """Seed the next episode a recording sees whatever ran since the last seed: the env's
        generator no longer follows from that seed and the recorded actions (a recording starts,
        the env was put back or restarted)."""
        self.steps_since_seed = FORCE_RESEED

    def set_mode(self, old: RunMode, new: RunMode) -> None:
        """Switch the AInimal's mode; a trajectory half collected under another mode would teach the wrong thing."""
        if new.learns != old.learns:
            self.trajectory = []
        self.agent.mode = new.value

    def harness_state(self) -> dict[str, Any]:
        """Everything beyond the model a checkpoint or a recording's start needs to resume here."""
        harness: dict[str, Any] = {
            "instance_id": self.instance_id,
            "step": self.step_count,
            "episode": self.episode,
            "metrics": self.metrics,
            "returns": list(self.returns),
            "episode_return": self.episode_return,
            "episode_length": self.episode_length,
            "rng": harness_state.capture_rng(),
            "seed_rng": self.seed_rng.bit_generator.state,
            "episode_seed": self.episode_seed,
        }
        if self.env is not None:
            harness["env"] = harness_state.capture_env(self.env)
            if isinstance(self.observation, np.ndarray):
                harness["observation"] = self.observation.tolist()
        return harness

    def restore(self, harness: dict[str, Any]) -> None:
        """Move to where a checkpoint's harness state says the run stood."""
        self.step_count, self.episode = harness["step"], harness["episode"]
        self.metrics = dict(harness.get("metrics", {}))
        self.returns = deque(harness.get("returns", []), maxlen=RETURN_WINDOW)
        self.episode_return = harness.get("episode_return", 0.0)
        self.episode_length = harness.get("episode_length", 0)
        self.trajectory = []
        harness_state.restore_rng(harness["rng"])
        if "seed_rng" in harness:
            self.seed_rng.bit_generator.state = harness["seed_rng"]
            self.episode_seed = harness.get("episode_seed", self.episode_seed)
        if self.env is not None:
            self._restore_env(harness)
        self.reseed_next()

    def _restore_env(self, harness: dict[str, Any]) -> None:
        restored = "env" in harness and harness_state.restore_env(self.env, harness["env"])
        if restored and "observation" in harness:
            dtype = getattr(self.env.observation_space, "dtype", None)
            self.observation = np.asarray(harness["observation"], dtype=dtype)
        else:
            # The env cannot be put back where it was: start a fresh episode instead.
            self.observation, _ = self.env.reset()
            self.episode_return, self.episode_length = 0.0, 0
        self.metrics["env_state_restored"] = bool(restored)
