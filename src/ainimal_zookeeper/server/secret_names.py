"""Which of the server's environment variables are its secrets, to keep them from its children.

Processes the server starts are readable by every process of its user (`/proc/<pid>/environ`),
model code included; the server's own are hidden (`process_privacy.py`), its children's are
not. So what it starts besides its workers (`launch_etc`) gets its environment without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ainimal_zookeeper.config.hub_settings import HUB_SETTINGS, hub_settings

if TYPE_CHECKING:
    from ainimal_zookeeper.config import ZookeeperConfig

__all__ = ["config_secrets", "secret_names", "without_secrets"]

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


def secret_names(
    environ: Mapping[str, str],
    providers: Iterable[Any] = (),
    names: Iterable[str] = (),
    values: Iterable[str] = (),
) -> set[str]:
    """The variables of `environ` that hold the server's secrets.

    Args:
        environ: the server's environment.
        providers: the config's sign-in entries (`authentication_providers` and the
            `authorization_provider`), after `${env.X}` was filled in: a variable whose value
            is one of their secret settings is a secret whatever its name.
        names: more variables that are secrets by name (a model hub's token variable).
        values: more secret values (the bus signing secret): a variable holding one is a secret.
    """
    secret = _secret_values(providers) | {value for value in values if value}
    by_name = set(names)
    return {
        name
        for name, value in environ.items()
        if _ZK_SECRET.match(name) or name in by_name or (value and value in secret)
    }


def without_secrets(
    environ: Mapping[str, str], providers: Iterable[Any] = (), names: Iterable[str] = (), values: Iterable[str] = ()
) -> dict[str, str]:
    """`environ` without the server's secrets (see `secret_names`)."""
    hidden = secret_names(environ, providers, names, values)
    return {name: value for name, value in environ.items() if name not in hidden}


#: Credentials the aws_s3 hub reads from the environment.
_AWS_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def config_secrets(config: ZookeeperConfig) -> tuple[list[Any], set[str], set[str]]:
    """What a config makes secret: its sign-in entries, variable names and values.

    The names are the model hubs' token variables (`token_env`, e.g. GITHUB_TOKEN, HF_TOKEN)
    and AWS's secret keys when an aws_s3 hub reads them; the values, the bus signing secret.
    """
    providers = [*config.authentication_providers, config.authorization_provider]
    names: set[str] = set()
    for hub in config.model_hubs:
        if hub.type in HUB_SETTINGS:
            root = {"root": hub.root} if hub.root else {}
            settings = hub_settings({"type": hub.type, **root, **(hub.model_extra or {})})
            token_env = getattr(settings, "token_env", None)
            if isinstance(token_env, str):
                names.add(token_env)
        if hub.type == "aws_s3":
            names.update(_AWS_SECRETS)
    signing = config.gcp.bus_signing_secret
    values = {signing} if signing else set()
    return providers, names, values
