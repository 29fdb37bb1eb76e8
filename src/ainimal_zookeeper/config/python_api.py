"""The Python form of a config: `Server(models=[Model(...)], environments=[...]).config`.

It builds the same dict a YAML file would hold and validates it the same way, so the two
forms give equal `ZookeeperConfig`s and the same error messages (with source "<python>").
Relative paths are taken against the current directory unless `base_dir` says otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ainimal_zookeeper.config.loader import config_from_dict
from ainimal_zookeeper.config.model import (
    EnvConfig,
    LaunchEtcConfig,
    ModelConfig,
    ModelHubConfig,
    ZookeeperConfig,
)
from ainimal_zookeeper.errors import ConfigError

__all__ = ["GymEnvironment", "LocalModelHub", "Model", "PythonEnvironment", "Server"]

SOURCE = "<python>"


def _path_text(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


class _Entry:
    """A config entry written in Python: exactly the keys it will have in the config."""

    def __init__(self, **fields: Any) -> None:
        self.fields = {key: _path_text(value) for key, value in fields.items()}

    def to_dict(self) -> dict[str, Any]:
        """The entry as the YAML form would spell it."""
        return dict(self.fields)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.fields == self.fields  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.fields.items())
        return f"{type(self).__name__}({args})"


class Model(_Entry):
    """A `models:` entry; `more` takes any other model key (act_func, init_params, ...)."""

    def __init__(
        self,
        name: str,
        path: str | os.PathLike[str],
        class_name: str,
        type: str = "ainimal",  # noqa: A002  # the config key's own name
        **more: Any,
    ) -> None:
        super().__init__(name=name, type=type, path=path, class_name=class_name, **more)


class PythonEnvironment(_Entry):
    """An `envs:` entry built from a class in a Python file (type python_class by default)."""

    def __init__(
        self,
        name: str,
        path: str | os.PathLike[str],
        class_name: str,
        step_function: str = "step",
        reset_function: str = "reset",
        type: str = "python_class",  # noqa: A002  # the config key's own name
        **more: Any,
    ) -> None:
        # Defaults are left out so that another `type` (which has no step function) still fits.
        if step_function != "step":
            more["step_function"] = step_function
        if reset_function != "reset":
            more["reset_function"] = reset_function
        super().__init__(name=name, type=type, path=path, class_name=class_name, **more)


class GymEnvironment(_Entry):
    """An `envs:` entry for a gymnasium registry id, e.g. `GymEnvironment("CartPole", "CartPole-v1")`."""

    def __init__(self, name: str, env_name: str, **more: Any) -> None:
        super().__init__(name=name, type="gymnasium", env_name=env_name, **more)


class LocalModelHub(_Entry):
    """A `model_hubs:` entry: a local folder scanned for AInimal and Env subclasses."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        super().__init__(type="local_filesystem", root=root)


class Server:
    """A zookeeper server described in Python; `.config` is its validated `ZookeeperConfig`.

    Raises:
        ConfigError: at construction, for anything the equivalent YAML would be refused for.
    """

    def __init__(
        self,
        port: int = 8000,
        host: str = "127.0.0.1",
        data_dir: str | os.PathLike[str] | None = None,
        models: Sequence[Model | ModelConfig | dict[str, Any]] = (),
        environments: Sequence[PythonEnvironment | GymEnvironment | EnvConfig | dict[str, Any]] = (),
        model_hubs: Sequence[LocalModelHub | ModelHubConfig | dict[str, Any]] = (),
        max_models: int | None = None,
        max_envs: int | None = None,
        torch_threads: int = 1,
        no_auth: bool = False,
        authentication_providers: Sequence[dict[str, Any]] = (),
        authorization_provider: dict[str, Any] | None = None,
        *,
        https: bool = False,
        open_to_network: bool = False,
        launch_etc: Sequence[str | LaunchEtcConfig | dict[str, Any]] = (),
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        data = {
            "server": {
                "host": host,
                "port": port,
                "https": https,
                "data_dir": _path_text(data_dir),
                "open_to_network": open_to_network,
            },
            "max_envs": max_envs,
            "max_models": max_models,
            "workers": {"torch_threads": torch_threads},
            "envs": _entries(environments, (PythonEnvironment, GymEnvironment, EnvConfig), "envs"),
            "models": _entries(models, (Model, ModelConfig), "models"),
            "model_hubs": _entries(model_hubs, (LocalModelHub, ModelHubConfig), "model_hubs"),
            "no_auth": no_auth,
            "authentication_providers": list(authentication_providers),
            "authorization_provider": authorization_provider,
            # A bare string is the command itself, the common case.
            "launch_etc": _entries(
                [{"cmd": item} if isinstance(item, str) else item for item in launch_etc],
                (LaunchEtcConfig,),
                "launch_etc",
            ),
        }
        base = Path(base_dir) if base_dir is not None else None
        self._config = config_from_dict(data, source=SOURCE, base_dir=base)

    @property
    def config(self) -> ZookeeperConfig:
        """The validated config, equal to what the equivalent YAML file loads to."""
        return self._config

    def run(self, with_client: bool = False) -> int:
        """Serve this config on this machine until interrupted; returns the exit code."""
        from ainimal_zookeeper.server.serve import serve

        return serve(self._config, with_client=with_client)


def _entries(items: Sequence[Any], accepted: tuple[type, ...], key: str) -> list[Any]:
    """Each item as a plain dict; an item of the wrong kind is a ConfigError naming it."""
    if isinstance(items, str | bytes | dict) or not isinstance(items, Sequence):
        raise ConfigError(f"{SOURCE}: {key}: expected a list; got {type(items).__name__}")
    result = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            result.append(dict(item))
        elif isinstance(item, accepted) and isinstance(item, BaseModel):
            result.append(item.model_dump(exclude_unset=True))
        elif isinstance(item, accepted) and isinstance(item, _Entry):
            result.append(item.to_dict())
        else:
            expected = ", ".join(kind.__name__ for kind in accepted)
            raise ConfigError(f"{SOURCE}: {key}[{index}]: got {type(item).__name__}; expected {expected} or a dict")
    return result
