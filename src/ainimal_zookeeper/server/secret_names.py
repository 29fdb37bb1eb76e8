"""Which of the server's environment variables are its secrets, to keep them from its children.

Processes the server starts are readable by every process of its user (`/proc/<pid>/environ`),
model code included; the server's own are hidden (`process_privacy.py`), its children's are
not. So what it starts besides its workers (`launch_etc`) gets its environment without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["secret_names", "without_secrets"]

#: The server's own secret variables: ZK_JWT_SECRET, ZK_ADMIN_PASSWORD, ZK_<NAME>_CLIENT_SECRET.
_ZK_SECRET = re.compile(r"^ZK_(.*_)?(SECRET|PASSWORD|CLIENT_SECRET)$")
#: Keys of sign-in settings whose values are secrets (`jwt_secret: ${env.X}` names X by value).
_SECRET_KEY = re.compile(r"secret|password|private_key", re.IGNORECASE)


def _secret_values(entries: Iterable[Any]) -> set[str]:
    values: set[str] = set()
    for entry in entries:
        if isinstance(entry, Mapping):
            for key, value in entry.items():
                if isinstance(value, str) and value.strip() and _SECRET_KEY.search(str(key)):
                    values.add(value)
    return values


def secret_names(environ: Mapping[str, str], providers: Iterable[Any] = ()) -> set[str]:
    """The variables of `environ` that hold the server's secrets.

    Args:
        environ: the server's environment.
        providers: the config's sign-in entries (`authentication_providers` and the
            `authorization_provider`), after `${env.X}` was filled in: a variable whose value
            is one of their secret settings is a secret whatever its name.
    """
    values = _secret_values(providers)
    return {name for name, value in environ.items() if _ZK_SECRET.match(name) or (value and value in values)}


def without_secrets(environ: Mapping[str, str], providers: Iterable[Any] = ()) -> dict[str, str]:
    """`environ` without the server's secrets."""
    hidden = secret_names(environ, providers)
    return {name: value for name, value in environ.items() if name not in hidden}
