"""AInimal Zookeeper: observe, steer and manage running AI systems.

Users subclass `AInimal` (models and agents; `AInimal.Agent` is the same class) and `Env`
(custom environments); operators run `python -m ainimal_zookeeper.server`, or describe the
server in Python: `from ainimal_zookeeper import Server, Model` (the config's Python form).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ainimal_zookeeper import _hooks
from ainimal_zookeeper.sdk import RUN_MODES, AInimal, Env, Timestep

if TYPE_CHECKING:
    from ainimal_zookeeper.config.model import ZookeeperConfig
    from ainimal_zookeeper.config.python_api import (
        AuthorizationProvider,
        BasicAuthenticationProvider,
        CloudRunComputeProvider,
        GcloudBucketModelProvider,
        GithubModelProvider,
        GitModelProvider,
        GkeComputeProvider,
        GoogleAuthenticationProvider,
        GymEnvironment,
        HuggingFaceModelProvider,
        LocalComputeProvider,
        LocalModelHub,
        LocalModelProvider,
        Model,
        OAuthAuthenticationProvider,
        PythonEnvironment,
        PytorchHubModelProvider,
        S3ModelProvider,
        Server,
    )

__all__ = [
    "RUN_MODES",
    "AInimal",
    "Env",
    "Timestep",
    "AuthorizationProvider",
    "BasicAuthenticationProvider",
    "CloudRunComputeProvider",
    "GcloudBucketModelProvider",
    "GitModelProvider",
    "GithubModelProvider",
    "GkeComputeProvider",
    "GoogleAuthenticationProvider",
    "GymEnvironment",
    "HuggingFaceModelProvider",
    "LocalComputeProvider",
    "LocalModelHub",
    "LocalModelProvider",
    "Model",
    "OAuthAuthenticationProvider",
    "PythonEnvironment",
    "PytorchHubModelProvider",
    "S3ModelProvider",
    "Server",
]
#: The config's Python form, imported on first use: an AInimal's worker never needs it.
_CONFIG_AS_CODE = frozenset(__all__) - {"RUN_MODES", "AInimal", "Env", "Timestep"}
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _CONFIG_AS_CODE:
        from ainimal_zookeeper.config import python_api

        return getattr(python_api, name)
    raise AttributeError(f"module 'ainimal_zookeeper' has no attribute {name!r}")


def _run_server(config: ZookeeperConfig, with_client: bool) -> int:
    """`Server(...).run()`: serve through the entry point, imported only when a server runs."""
    from ainimal_zookeeper.server.serve import serve

    return serve(config, with_client=with_client)


_hooks.run_server = _run_server
