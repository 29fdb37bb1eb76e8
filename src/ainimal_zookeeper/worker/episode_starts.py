"""Where each recorded episode began, and how a closed-loop replay puts its env there.

A recording seeds an episode only now and then (`recording_session.RESEED_EVERY_STEPS`); the
episodes in between continued the env's generator from where the previous episode left it.
A replay that has followed the recording step for step since the last seeded episode reaches
such a start by an unseeded reset, as the recording did. One that has left it (the replayed
AInimal acted otherwise, so its episodes end elsewhere) gets there by resetting to that seed and
stepping the env through the recorded actions up to the episode's start: at most a few hundred
env steps, without the AInimal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ainimal_zookeeper.recordings import column_values

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpisodeStart:
    """An episode that began inside the recording."""

    row: int  # its first recorded row
    seed: int | None  # its reset's seed; None: it continued the env's generator


class EpisodeStarts:
    """The recording's episode starts, handed out in order as the replay's episodes begin.

    Args:
        starts: the episodes that began inside the recording, in order.
        actions: the recorded actions, a row each (None: the recording has no `outputs/action`).
        ends: whether each recorded row ended its episode.
    """

    def __init__(self, starts: list[EpisodeStart], actions: list[Any] | None, ends: list[bool]) -> None:
        self.starts, self.actions, self.ends = starts, actions, ends
        self.taken = 0  # the starts handed out so far
        # Whether the env is where the recording's was before the replay's current row.
        self.in_step = False

    @classmethod
    def of(cls, table: Any) -> EpisodeStarts:
        """The starts of a recording read with `read_recording`."""
        names = table.column_names
        episodes = column_values(table, "episode")
        seeds = column_values(table, "episode_seed") if "episode_seed" in names else [None] * len(episodes)
        starts = [
            EpisodeStart(row, _seed(seeds[row]))
            for row in range(1, len(episodes))
            if episodes[row] != episodes[row - 1]
        ]
        actions = column_values(table, "outputs/action") if "outputs/action" in names else None
        ends = [
            bool(terminated) or bool(truncated)
            for terminated, truncated in zip(
                _flags(table, "terminated", len(episodes)), _flags(table, "truncated", len(episodes)), strict=True
            )
        ]
        return cls(starts, actions, ends)

    def put_back(self) -> None:
        """The env was put back where the recording started (before its row 0)."""
        self.in_step = True

    def followed(self, row: int, action: Any) -> None:
        """The replay took `action` at `row`: it stays with the recording if the recording did too."""
        if self.in_step:
            self.in_step = self.actions is not None and _same(action, self.actions[row])

    def reset(self, env: Any, row: int) -> Any:
        """Begin the replay's next episode, whose first row is `row`; its first observation.

        The env starts as the recording's next episode did; past the recorded episodes (the
        replay's ended sooner), with an unseeded reset.
        """
        index, self.taken = self.taken, self.taken + 1
        if index >= len(self.starts):
            self.in_step = False
            return env.reset()[0]
        start = self.starts[index]
        if start.seed is not None:
            observation = env.reset(seed=start.seed)[0]
        elif self.in_step and row == start.row:
            observation = env.reset()[0]  # where the recording's env went, as it went there
        else:
            observation = self._catch_up(env, index)
        self.in_step = row == start.row
        return observation

    def _catch_up(self, env: Any, index: int) -> Any:
        """Reset to the last seeded start before `index` and step the recorded actions from there."""
        target = self.starts[index]
        seeded = next((s for s in reversed(self.starts[:index]) if s.seed is not None), None)
        if seeded is None or self.actions is None:
            # Not from this worker's recordings (each seeds the first episode it sees and
            # records the actions whenever it leaves a seed out): the best it can do.
            log.warning("episode at recorded row %d cannot be put back as recorded: unseeded reset", target.row)
            return env.reset()[0]
        env.reset(seed=seeded.seed)
        for row in range(seeded.row, target.row):
            env.step(self.actions[row])
            if self.ends[row] and row < target.row - 1:  # an episode in between ended
                env.reset()
        return env.reset()[0]


def _seed(value: Any) -> int | None:
    return None if value is None else int(value)


def _flags(table: Any, name: str, rows: int) -> list[Any]:
    return column_values(table, name) if name in table.column_names else [False] * rows


def _same(replayed: Any, recorded: Any) -> bool:
    """Whether two actions are equal (numbers, arrays, or nested lists of them); actions that
    cannot be compared count as different, which only costs a catch-up."""
    try:
        equal = replayed == recorded  # numbers, the common case: no arrays built
        if isinstance(equal, (bool, np.bool_)):
            return bool(equal)
        return bool(np.array_equal(np.asarray(replayed), np.asarray(recorded)))
    except (TypeError, ValueError):
        return False
