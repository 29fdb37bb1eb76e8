"""The zookeeper's configuration: a YAML / JSON file or Python objects, one validated model.

`load_config("zoo.yaml")` and `Server(models=[Model(...)]).config` both give a
`ZookeeperConfig`; `resolve_params` fills `${params.x}` in init_params at launch.
"""

from ainimal_zookeeper.config.interpolation import interpolate_env, load_environment, resolve_params
from ainimal_zookeeper.config.loader import config_from_dict, load_config
from ainimal_zookeeper.config.model import (
    ENV_TYPE_ALIASES,
    MODEL_TYPE_ALIASES,
    SUPPORTED_HUB_TYPES,
    EnvConfig,
    LaunchEtcConfig,
    ModelConfig,
    ModelHubConfig,
    ServerSettings,
    WorkerSettings,
    ZookeeperConfig,
    is_loopback,
    open_server_problem,
)
from ainimal_zookeeper.config.python_api import (
    GymEnvironment,
    LocalModelHub,
    Model,
    PythonEnvironment,
    Server,
)

__all__ = [
    "ENV_TYPE_ALIASES",
    "MODEL_TYPE_ALIASES",
    "SUPPORTED_HUB_TYPES",
    "EnvConfig",
    "GymEnvironment",
    "LaunchEtcConfig",
    "LocalModelHub",
    "Model",
    "ModelConfig",
    "ModelHubConfig",
    "PythonEnvironment",
    "Server",
    "ServerSettings",
    "WorkerSettings",
    "ZookeeperConfig",
    "is_loopback",
    "open_server_problem",
    "config_from_dict",
    "interpolate_env",
    "load_config",
    "load_environment",
    "resolve_params",
]
