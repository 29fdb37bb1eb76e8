"""Launch limits: `max_instances` per model and env, `max_models` and `max_envs` overall."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ainimal_zookeeper.catalog.catalog import LaunchPlan
from ainimal_zookeeper.domain.instance import ACTIVE_STATUSES
from ainimal_zookeeper.errors import LimitReached
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.service.records import INSTANCES


@dataclass(frozen=True)
class Limits:
    """Global caps on concurrently active instances; None means no limit."""

    max_models: int | None = None
    max_envs: int | None = None


def check_limits(store: DocumentStore, plan: LaunchPlan, limits: Limits) -> None:
    """Raise `LimitReached` if launching `plan` would exceed a limit (call in a transaction)."""
    active = store.find(INSTANCES, [("status", "in", [s.value for s in ACTIVE_STATUSES])])
    _check(limits.max_models, len(active), "the server allows at most {n} running instances (max_models)")
    if plan.environment is not None:
        with_env = sum(1 for doc in active if doc.get("environment"))
        _check(limits.max_envs, with_env, "the server allows at most {n} running environments (max_envs)")
        same_env = sum(1 for doc in active if doc.get("environment") == plan.environment.name)
        _check(
            _cap(plan.environment.config),
            same_env,
            f"environment {plan.environment.name!r} allows at most {{n}} running instances (max_instances)",
        )
    same_model = sum(1 for doc in active if doc.get("model") == plan.model.name)
    _check(
        _cap(plan.model.config),
        same_model,
        f"model {plan.model.name!r} allows at most {{n}} running instances (max_instances)",
    )


def _cap(config: dict[str, Any]) -> int | None:
    value = config.get("max_instances")
    return None if value is None or value < 0 else int(value)


def _check(limit: int | None, count: int, message: str) -> None:
    if limit is not None and count >= limit:
        raise LimitReached(message.format(n=limit) + "; terminate one first")
