"""One step of experience, as the harness hands it to `AInimal.train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Timestep:
    """What happened at one step: the input seen, the action taken and its outcome.

    `terminated` and `truncated` keep gymnasium's meaning apart: an episode that ended in a
    terminal state versus one cut short (time limit), which matters for bootstrapping.
    """

    observation: Any
    action: Any
    reward: float
    terminated: bool
    truncated: bool
    next_observation: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    #: True when a person (or an override) chose the action instead of the AInimal.
    overridden: bool = False
