"""Instances: one launched AInimal (+ env), their statuses, modes and allowed transitions."""

from __future__ import annotations

from enum import StrEnum

from ainimal_zookeeper.errors import Conflict, InvalidInput


class InstanceStatus(StrEnum):
    """Where an instance is in its life; the API's `InstanceStatus`."""

    PENDING = "PENDING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPING = "STOPPING"
    TERMINATED = "TERMINATED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        """Whether nothing more can happen to the instance's worker."""
        return self in (InstanceStatus.TERMINATED, InstanceStatus.FAILED)


#: Statuses that occupy a slot against `max_instances` and have (or will have) a worker.
ACTIVE_STATUSES = frozenset(s for s in InstanceStatus if not s.is_final)


class RunMode(StrEnum):
    """What a running instance does each step; the API's `RunMode`."""

    TRAIN = "TRAIN"
    INFER = "INFER"
    BOTH = "BOTH"
    NONE = "NONE"

    @property
    def acts(self) -> bool:
        """Whether the AInimal steps its environment in this mode."""
        return self is not RunMode.NONE

    @property
    def learns(self) -> bool:
        """Whether the AInimal's `train` is called in this mode."""
        return self in (RunMode.TRAIN, RunMode.BOTH)


def parse_mode(value: str) -> RunMode:
    """Read a mode name, case-insensitively.

    Raises:
        InvalidInput: the name is not a mode.
    """
    try:
        return RunMode(str(value).upper())
    except ValueError:
        names = ", ".join(m.value for m in RunMode)
        raise InvalidInput(f"mode expects one of {names}, got {value!r}") from None


def require_controllable(instance_id: str, status: InstanceStatus, action: str) -> None:
    """Refuse commands to an instance that has ended.

    Raises:
        Conflict: the instance is TERMINATED or FAILED.
    """
    if status.is_final:
        hint = " restore its last checkpoint into a new instance instead" if status is InstanceStatus.FAILED else ""
        raise Conflict(f"cannot {action} instance {instance_id}: it is {status.value};{hint or ' launch a new one'}")
