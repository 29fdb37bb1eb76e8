"""Find the bundled example catalog (examples/zoo.yaml) that the server serves by default."""

from __future__ import annotations

from pathlib import Path

from ainimal_zookeeper.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parents[1]


def bundled_config_path() -> Path:
    """examples/zoo.yaml: inside an installed wheel, or at the root of a source checkout.

    Raises:
        ConfigError: neither exists (an install without the examples).
    """
    candidates = [_PACKAGE / "bundled_examples" / "zoo.yaml", _PACKAGE.parents[1] / "examples" / "zoo.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no bundled example catalog at {' or '.join(map(str, candidates))}; pass --config FILE")
