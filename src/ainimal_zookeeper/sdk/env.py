"""`Env`: the explicit, gymnasium-compatible base for custom environments."""

from __future__ import annotations

from typing import Any

import gymnasium


class Env(gymnasium.Env):  # type: ignore[misc]  # gymnasium.Env is generic but untyped here
    """A gymnasium environment the zookeeper can also checkpoint.

    Subclass it exactly as a `gymnasium.Env` (spaces, `reset`, `step`, `render`). Optionally
    override `get_state` / `set_state` so checkpoints capture the environment's position and a
    branched run continues where its parent left off.
    """

    def get_state(self) -> dict[str, Any] | None:
        """JSON-friendly state that `set_state` can restore; None when the env cannot say."""
        return None

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state returned by `get_state`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement set_state(state)")
