"""The `local_filesystem` hub: a folder on this machine, used in place (nothing is copied)."""

from __future__ import annotations

from pathlib import Path

from ainimal_zookeeper.errors import NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel

#: A local folder has no revisions: it is whatever is on disk.
LOCAL_REVISION = "working-tree"


class LocalFolderHub:
    """One model folder: `root` itself, scanned for AInimal and Env classes."""

    git_backed = False

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.label = f"local_filesystem:{self.root}"

    def list_models(self) -> list[HubModel]:
        if not self.root.is_dir():
            raise Unavailable(f"model hub {self.label}: the folder does not exist")
        return [HubModel(self.root.name, LOCAL_REVISION, None)]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        if model != self.root.name:
            raise NotFound(f"model hub {self.label} has no model {model!r}; it has {self.root.name!r}")
        if not self.root.is_dir():
            raise Unavailable(f"model hub {self.label}: the folder does not exist")
        return self.root
