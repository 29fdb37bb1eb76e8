"""Import the operator's Python files and find the classes the config names."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ainimal_zookeeper.errors import ModelError


def import_file(path: str | Path) -> ModuleType:
    """Import a Python file as a module (once per path).

    Raises:
        ModelError: the file is missing or raised while importing.
    """
    file = Path(path).resolve()
    # A name derived from the path keeps two files called model.py apart.
    name = f"zk_user_{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    if not file.is_file():
        raise ModelError(f"cannot import {file}: no such file")
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModelError(f"cannot import {file}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # The file's folder goes on sys.path so that it can import its sibling modules.
    if str(file.parent) not in sys.path:
        sys.path.append(str(file.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ModelError(f"importing {file} raised {type(exc).__name__}: {exc}") from exc
    return module


def load_class(path: str | Path, class_name: str) -> type:
    """The class `class_name` defined (or imported) in the file at `path`.

    Raises:
        ModelError: the file cannot be imported or has no such class.
    """
    module = import_file(path)
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        found = sorted(n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_"))
        raise ModelError(f"{path} has no class {class_name!r}; classes there: {', '.join(found) or 'none'}")
    return cls
