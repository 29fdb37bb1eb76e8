"""Pieces every ComputeProvider shares: exit callbacks, and names that fit cloud limits."""

from __future__ import annotations

import hashlib
import logging
import re

from ainimal_zookeeper.ports.compute import ExitCallback

log = logging.getLogger(__name__)


class ExitCallbacks:
    """The callbacks registered through `on_exit`; a failing one never stops a watcher."""

    def __init__(self) -> None:
        self._callbacks: list[ExitCallback] = []

    def register(self, callback: ExitCallback) -> None:
        """Call `callback` for every worker that ends from now on."""
        self._callbacks.append(callback)

    def fire(self, instance_id: str, code: int | None) -> None:
        """Tell every callback that the worker of `instance_id` ended with `code`."""
        for callback in list(self._callbacks):
            try:
                callback(instance_id, code)
            except Exception:  # a failing callback must not stop the watcher
                log.exception("exit callback failed for %s", instance_id)


def fit_name(value: str, allowed: str, prefix: str = "", lower: bool = False, strip: str = "-_.") -> str:
    """`prefix + value` cleaned to `allowed` characters and 63 chars, hashed when anything changed."""
    cleaned = re.sub(f"[^{allowed}]+", "-", value.lower() if lower else value).strip(strip)
    fitted = prefix + cleaned
    if cleaned == value and len(fitted) <= 63:
        return fitted
    # Cleaning or cutting could map two ids onto one name: a hash of the original keeps them apart.
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{fitted[: 63 - 9].rstrip(strip)}-{digest}".lstrip("-")
