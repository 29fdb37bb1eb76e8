"""ComputeProvider: where workers run (worker processes locally, pods on GKE / Cloud Run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to host one instance; JSON-serialisable.

    `model` and `environment` are the catalog's resolved config entries (absolute paths,
    init params already interpolated); `connection` tells the worker how to reach the bus
    and the BlobStore (adapter type plus addresses), so the same runtime runs anywhere.
    """

    instance_id: str
    model: dict[str, Any]
    environment: dict[str, Any] | None
    init_params: dict[str, Any]
    env_init_params: dict[str, Any]
    mode: str
    connection: dict[str, Any]
    seed: int
    checkpoint_id: str | None = None
    checkpoint_blob_key: str | None = None
    torch_threads: int = 1
    resources: dict[str, Any] = field(default_factory=dict)
    # The most steps `train` gets at once (an endless episode is trained in slices).
    train_slice_steps: int = 2048
    # Seconds a recording retries a chunk write before it ends as failed.
    recording_retry_seconds: float = 15.0
    # Pacing and budgets (service/pacing.py checks them): most steps a second (None: flat out)
    # or the env's realtime rate; stop_after {steps, episodes, seconds}; checkpoint_every
    # {steps, seconds, keep}.
    pace: float | None = None
    realtime: bool = False
    stop_after: dict[str, Any] | None = None
    checkpoint_every: dict[str, Any] | None = None
    # Seconds after it was sent that a person's action (`Act`) is dropped rather than applied late.
    max_input_age_seconds: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (env var or pod spec payload)."""
        return asdict(self)


#: Called with (instance_id, exit code or None when unknown) when a worker ends.
ExitCallback = Callable[[str, int | None], None]


class ComputeProvider(Protocol):
    """Starts, stops and watches workers."""

    def start(self, spec: WorkerSpec) -> None:
        """Start a worker for `spec.instance_id`; returns once it is on its way."""
        ...

    def stop(self, instance_id: str, grace_seconds: float = 5.0) -> None:
        """Make sure the worker is gone: it had `grace_seconds` to stop by itself."""
        ...

    def is_alive(self, instance_id: str) -> bool | None:
        """True / False when the provider knows, None when it cannot tell."""
        ...

    def on_exit(self, callback: ExitCallback) -> None:
        """Register a callback for workers that end, by request or not."""
        ...

    def close(self) -> None:
        """Stop watching; stop workers this provider owns and cannot leave behind."""
        ...
