"""Failures of user code (the AInimal, its env), told apart from the harness's own."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from ainimal_zookeeper.errors import ZookeeperError

log = logging.getLogger(__name__)


class UserCodeFailed(Exception):
    """The AInimal or its env raised; the message says which call."""


def describe(exc: BaseException) -> str:
    """An exception as one line: our own errors as their message, others with their type."""
    if isinstance(exc, ZookeeperError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def log_failure(instance_id: str, message: str, exc: BaseException) -> None:
    """Log why an instance failed, with a "traceback" line in its logs (worker/log_capture.py)."""
    log.error(
        "instance %s failed: %s\n%s",
        instance_id,
        message,
        "".join(traceback.format_exception(exc)),
        extra={"log_stream": "traceback"},
    )


def safe_state(agent: Any) -> dict[str, Any] | None:
    """The AInimal's `state` as JSON values; what went wrong instead if reading it raised."""
    from ainimal_zookeeper.catalog.wrappers import json_safe

    try:
        return json_safe(agent.state)
    except Exception as exc:  # noqa: BLE001  # a broken `state` must not stop the agent
        return {"unavailable": describe(exc)}
