"""Read one `authentication_providers` / `authorization_provider` entry with errors that name the key.

The config loader keeps these entries as raw dicts (their shape belongs to the auth work), after
filling `${env.X}`; so every value may arrive as a string, and an unset variable may arrive as
"". This module turns them into typed values, and every error names the entry and the key:
`authentication_providers[1].jwt_expires_in (type: jwt) expects seconds or a duration like
'1h' or '7d', got 'soon'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ainimal_zookeeper.errors import ConfigError

__all__ = ["ProviderSettings", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_duration(value: Any, where: str = "duration") -> int:
    """Seconds from an int or a string like "90", "15m", "1h", "7d" or "2w".

    Raises:
        ConfigError: naming `where` when the value is not a non-negative duration.
    """
    if isinstance(value, bool):
        raise ConfigError(f"{where} expects seconds or a duration like '1h' or '7d', got {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f"{where} expects seconds or a duration like '1h' or '7d', got {value!r}")
    return int(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]


def _absent(value: Any) -> bool:
    # An unset `${env.X}` may be filled with "", which means "not configured" here.
    return value is None or (isinstance(value, str) and not value.strip())


class ProviderSettings:
    """One raw provider entry plus where it sits in the config, for typed reads."""

    def __init__(
        self, raw: Mapping[str, Any], where: str, allowed: Iterable[str], base_dir: Path | None = None
    ) -> None:
        """Check the entry's keys.

        Args:
            raw: the entry as the config loader kept it.
            where: how the user finds it, e.g. "authentication_providers[0] (type: jwt)".
            allowed: every key this kind of entry understands.
            base_dir: the config file's folder, against which relative paths are read.

        Raises:
            ConfigError: when the entry is not a mapping or has keys nobody reads (typos).
        """
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be a mapping of keys to values, got {type(raw).__name__}")
        self.raw = raw
        self.where = where
        self.base_dir = base_dir
        known = set(allowed)
        unknown = sorted(str(key) for key in raw if key not in known)
        if unknown:
            raise ConfigError(
                f"{where} has unknown key(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}"
            )

    def key(self, name: str) -> str:
        """The full location of a key, for messages: "authentication_providers[0].jwt_secret"."""
        return f"{self.where.partition(' ')[0]}.{name}"

    def has(self, name: str) -> bool:
        """Whether the key is set to something other than null or an empty string."""
        return not _absent(self.raw.get(name))

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        """A string value (numbers are accepted as their text)."""
        value = self.raw.get(name)
        if _absent(value):
            if required:
                raise ConfigError(f"{self.key(name)} is required")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(f"{self.key(name)} expects a string, got {type(value).__name__}")
        return str(value).strip()

    def required_text(self, name: str, hint: str = "") -> str:
        """A string value that must be present; `hint` says how to provide it."""
        value = self.text(name)
        if value is None:
            raise ConfigError(f"{self.key(name)} is required{': ' + hint if hint else ''}")
        return value

    def path(self, name: str, hint: str = "") -> Path:
        """A required file path; a relative one is read against the config file's folder."""
        path = Path(self.required_text(name, hint)).expanduser()
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path

    def flag(self, name: str, default: bool) -> bool:
        """A boolean; "true"/"false"/"yes"/"no"/"1"/"0" strings (from `${env.X}`) are accepted."""
        value = self.raw.get(name)
        if _absent(value):
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(f"{self.key(name)} expects true or false, got {value!r}")

    def seconds(self, name: str, default: int) -> int:
        """A duration in seconds: an int or "90s", "15m", "1h", "7d", "2w"."""
        value = self.raw.get(name)
        return default if _absent(value) else parse_duration(value, self.key(name))

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        """An integer at least `minimum`."""
        value = self.raw.get(name)
        if _absent(value):
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            number = int(value)
        if number is None or number < minimum:
            raise ConfigError(f"{self.key(name)} expects an integer >= {minimum}, got {value!r}")
        return number

    def text_list(self, name: str) -> tuple[str, ...]:
        """A list of strings; a comma-separated string (from `${env.X}`) is accepted too."""
        value = self.raw.get(name)
        if _absent(value):
            return ()
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(item.strip() for item in value if item.strip())
        raise ConfigError(f"{self.key(name)} expects a list of strings, got {value!r}")

    def secret(self, name: str, env_var: str, environ: Mapping[str, str]) -> str | None:
        """A secret from the config (usually `${env.X}`), else from the variable `env_var`."""
        value = self.text(name)
        if value is not None:
            return value
        from_env = environ.get(env_var, "")
        return from_env.strip() or None
