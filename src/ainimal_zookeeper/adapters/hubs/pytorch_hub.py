"""The `pytorch_hub` hub: a local repository with a hubconf.py; each entrypoint is a model.

A fetched entrypoint is a small folder in the cache: an `ainimal.yaml` declaring a `torch`
model and `entrypoint.py`, whose module class builds the entrypoint's module with
`torch.hub.load(root, name, source="local")` (torch's own loader: the repository's code runs,
as a local model's does; weights it loads go through torch's weights-only loading).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache
from ainimal_zookeeper.errors import NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel

_ENTRYPOINT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")

_SHIM = '''"""A torch.hub entrypoint as a torch module the zookeeper can run (written by the pytorch_hub hub)."""
import torch


class Entrypoint(torch.nn.Module):
    """The entrypoint's module."""

    def __init__(self, **kwargs):
        super().__init__()
        self.module = torch.hub.load({root!r}, {name!r}, source="local", trust_repo=True, **kwargs)

    def forward(self, *args):
        return self.module(*args)
'''


class PytorchHubRepo:
    """A local torch.hub repository; its entrypoints listed with torch.hub.list."""

    git_backed = False

    def __init__(self, root: Path, cache: RevisionCache, max_models: int = 50) -> None:
        import torch.hub  # noqa: F401  # fail at build time (UnavailableHub) when torch is missing

        self.root, self.cache, self.max_models = Path(root), cache, max_models
        self.label = f"pytorch_hub:{self.root}"

    def _revision(self) -> str:
        hubconf = self.root / "hubconf.py"
        if not hubconf.is_file():
            raise Unavailable(f"model hub {self.label}: no hubconf.py in {self.root}")
        return hashlib.sha256(hubconf.read_bytes()).hexdigest()[:20]

    def list_models(self) -> list[HubModel]:
        revision = self._revision()
        hubconf = self._hubconf(revision)
        models = []
        for name in sorted(dir(hubconf))[: self.max_models]:
            entry = getattr(hubconf, name)
            # torch.hub's own rule: every public callable of hubconf.py is an entrypoint.
            if _ENTRYPOINT.match(name) and callable(entry) and not isinstance(entry, type):
                doc = inspect.getdoc(entry) or ""
                models.append(HubModel(name, revision, doc.splitlines()[0] if doc else None))
        return models

    def _hubconf(self, revision: str) -> ModuleType:
        """hubconf.py imported as torch.hub.load imports it (once per revision)."""
        name = f"zk_hubconf_{revision}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, self.root / "hubconf.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(self.root))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001  # the repository's hubconf.py raised while importing
            raise Unavailable(f"model hub {self.label}: hubconf.py raised {type(exc).__name__}: {exc}") from None
        finally:
            sys.path.remove(str(self.root))
        sys.modules[name] = module
        return module

    def fetch(self, model: str, revision: str | None = None) -> Path:
        if not _ENTRYPOINT.match(model):
            raise NotFound(f"model hub {self.label} has no entrypoint {model!r}")
        current = self._revision()
        if model not in {m.name for m in self.list_models()}:
            raise NotFound(f"model hub {self.label} has no entrypoint {model!r}")

        def fill(target: Path) -> None:
            (target / "entrypoint.py").write_text(_SHIM.format(name=model, root=str(self.root.resolve())))
            manifest = "type: torch\npath: entrypoint.py\nclass_name: Entrypoint\n"
            (target / "ainimal.yaml").write_text(manifest)

        return self.cache.get_or_fill(model, current, fill, f"model hub {self.label}")
