"""Give each worker bus credentials of its own as it starts, and revoke them when it ends.

The service builds one `connection` for every worker; this wrapper around the compute
provider swaps its `bus` entry for the instance's own (keys only that worker holds), so the
bus can tell which instance a message comes from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ainimal_zookeeper.ports.compute import ComputeProvider, ExitCallback, WorkerSpec


class CredentialedCompute:
    """A ComputeProvider that hands each worker its own bus credentials."""

    def __init__(
        self,
        inner: ComputeProvider,
        issue: Callable[[str], dict[str, Any]],
        revoke: Callable[[str], None],
    ) -> None:
        self._inner = inner
        self._issue = issue
        self._revoke = revoke
        inner.on_exit(lambda instance_id, _code: revoke(instance_id))

    def start(self, spec: WorkerSpec) -> None:
        # The issued entries (keys) join the bus connection every worker gets.
        bus = {**spec.connection.get("bus", {}), **self._issue(spec.instance_id)}
        try:
            self._inner.start(dataclasses.replace(spec, connection={**spec.connection, "bus": bus}))
        except BaseException:
            self._revoke(spec.instance_id)
            raise

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        self._inner.stop(instance_id, grace_seconds)

    def is_alive(self, instance_id: str) -> bool | None:
        return self._inner.is_alive(instance_id)

    def on_exit(self, callback: ExitCallback) -> None:
        self._inner.on_exit(callback)

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        # Provider extras (e.g. the local provider's `pid`, for tests and diagnostics).
        return getattr(self._inner, name)
