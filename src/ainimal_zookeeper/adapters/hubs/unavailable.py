"""A hub that could not be set up (a missing client library, say): listed as unavailable, never a crash."""

from __future__ import annotations

from pathlib import Path

from ainimal_zookeeper.errors import Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel


class UnavailableHub:
    """Stands in for a hub whose adapter could not be built; every call says why."""

    git_backed = False

    def __init__(self, label: str, reason: str) -> None:
        self.label, self.reason = label, reason

    def list_models(self) -> list[HubModel]:
        raise Unavailable(f"model hub {self.label}: {self.reason}")

    def fetch(self, model: str, revision: str | None = None) -> Path:
        raise Unavailable(f"model hub {self.label}: {self.reason}")
