"""The Python form of a config: `Server(models=[Model(...)], environments=[...]).config`.

It builds the same dict a YAML file would hold and validates it the same way, so the two
forms give equal `ZookeeperConfig`s and the same error messages (with source "<python>").
Relative paths are taken against the current directory unless `base_dir` says otherwise.

Each helper object is one entry of the YAML form, spelt with the same keys: providers of
sign-in (`authentication_providers`), of models (`model_hubs`) and of compute (`backends.compute`
with its `gcp` settings). `Server(...).run()` serves the config; the runner is installed by the
package (see `ainimal_zookeeper._hooks`), since this layer does not import the server.
"""

# Longer than 400 lines: one small class per config object a user can write (providers, models,
# envs, the server), mirroring config/model.py; each is a few lines of keys and docs.

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ainimal_zookeeper import _hooks
from ainimal_zookeeper.config.backends import BackendsConfig, GcpSettings
from ainimal_zookeeper.config.loader import config_from_dict
from ainimal_zookeeper.config.model import (
    EnvConfig,
    LaunchEtcConfig,
    ModelConfig,
    ModelHubConfig,
    WorkerSettings,
    ZookeeperConfig,
)
from ainimal_zookeeper.errors import ConfigError

__all__ = [
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

SOURCE = "<python>"


def _path_text(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _given(**fields: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not None): the YAML form leaves the others out."""
    return {key: value for key, value in fields.items() if value is not None}


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
    """A `models:` entry; `more` takes any other model key (act_func, init_params, weights, ...).

    `class_name` names the class in `path`; model files (`type="onnx"`, `"keras"`, `"tflite"`,
    `"torchscript"`, ...) have none: `Model("Policy", "policy.onnx", type="onnx")`.
    """

    def __init__(
        self,
        name: str,
        path: str | os.PathLike[str],
        class_name: str | None = None,
        type: str = "ainimal",  # noqa: A002  # the config key's own name
        **more: Any,
    ) -> None:
        super().__init__(name=name, type=type, path=path, **_given(class_name=class_name), **more)


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


# Sign-in: `authentication_providers:` and `authorization_provider:` entries (docs/access.md).


class _AuthenticationProvider(_Entry):
    """An `authentication_providers:` entry."""


class BasicAuthenticationProvider(_AuthenticationProvider):
    """`type: jwt`: usernames and passwords, and this server's session tokens.

    Takes the jwt keys of the YAML form: `jwt_secret` (else ZK_JWT_SECRET), `db_path`,
    `public_can_create_account`, `jwt_expires_in`, ...
    """

    def __init__(self, name: str | None = None, **keys: Any) -> None:
        super().__init__(type="jwt", **_given(name=name), **keys)


class GoogleAuthenticationProvider(_AuthenticationProvider):
    """`type: google`: Google accounts (`client_id`, else ZK_GOOGLE_CLIENT_ID; with
    `client_secret` and `redirect_uri` also the code flow)."""

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        name: str | None = None,
        **keys: Any,
    ) -> None:
        given = _given(name=name, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri)
        super().__init__(type="google", **given, **keys)


class OAuthAuthenticationProvider(_AuthenticationProvider):
    """Another sign-in provider by its `type` (github, gitlab, microsoft, bitbucket, amazon, oidc)."""

    def __init__(self, type: str, **keys: Any) -> None:  # noqa: A002  # the config key's own name
        super().__init__(type=type, **keys)


class AuthorizationProvider(_Entry):
    """The `authorization_provider:` entry: `type` database (default) or json_file with `path`."""

    def __init__(self, type: str = "database", **keys: Any) -> None:  # noqa: A002
        super().__init__(type=type, **keys)


# Models: `model_hubs:` entries (docs/configuration.md, "Model hubs").


class _ModelProvider(_Entry):
    """A `model_hubs:` entry."""


class LocalModelProvider(_ModelProvider):
    """`type: local_filesystem`: a folder scanned for AInimal and Env subclasses."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        super().__init__(type="local_filesystem", root=root)


#: The name this helper had first.
LocalModelHub = LocalModelProvider


class GitModelProvider(_ModelProvider):
    """`type: git`: one repository at any git URL (`name`, `revision`, `max_models` optional)."""

    def __init__(self, url: str, **keys: Any) -> None:
        super().__init__(type="git", url=url, **keys)


class GithubModelProvider(_ModelProvider):
    """`type: github`: an account's (`owner`), a search's (`search`) or named (`repos`) repositories.

    The token is never passed here: `token_env` names the variable holding it (default GITHUB_TOKEN).
    """

    def __init__(
        self,
        owner: str | None = None,
        search: str | None = None,
        repos: Sequence[str] | None = None,
        **keys: Any,
    ) -> None:
        _no_token(keys, "GithubModelProvider", "GITHUB_TOKEN")
        listed = list(repos) if repos is not None else None
        super().__init__(type="github", **_given(owner=owner, search=search, repos=listed), **keys)


class HuggingFaceModelProvider(_ModelProvider):
    """`type: huggingface`: `owner` and `domain` are the YAML form's `view_qualifier: {domain, owner}`.

    `account` is who the server signs in as, its token read from `token_env` (default HF_TOKEN).
    """

    def __init__(
        self,
        owner: str | None = None,
        domain: str | None = None,
        account: str | None = None,
        **keys: Any,
    ) -> None:
        _no_token(keys, "HuggingFaceModelProvider", "HF_TOKEN")
        qualifier = {**dict(keys.pop("view_qualifier", None) or {}), **_given(domain=domain, owner=owner)}
        if qualifier:
            keys["view_qualifier"] = qualifier
        super().__init__(type="huggingface", **_given(account=account), **keys)


def _no_token(keys: dict[str, Any], helper: str, variable: str) -> None:
    # Tokens never go in the config, where they would be shown and logged with it.
    if "token" in keys:
        raise ConfigError(
            f"{SOURCE}: {helper} takes no token: put it in .env.local (or the environment) as {variable}, "
            "or name another variable with token_env"
        )


class GcloudBucketModelProvider(_ModelProvider):
    """`type: gcloud_bucket`: each folder under `prefix` in a Cloud Storage bucket is a model."""

    def __init__(self, bucket: str, **keys: Any) -> None:
        super().__init__(type="gcloud_bucket", bucket=bucket, **keys)


class S3ModelProvider(_ModelProvider):
    """`type: aws_s3`: each folder under `prefix` in an S3 bucket is a model."""

    def __init__(self, bucket: str, **keys: Any) -> None:
        super().__init__(type="aws_s3", bucket=bucket, **keys)


class PytorchHubModelProvider(_ModelProvider):
    """`type: pytorch_hub`: a local repository with a hubconf.py."""

    def __init__(self, root: str | os.PathLike[str], **keys: Any) -> None:
        super().__init__(type="pytorch_hub", root=root, **keys)


# Compute: where workers run (`backends.compute` and the `gcp` keys it needs).


class _ComputeProvider:
    """Where workers run: the `backends.compute` value and the `gcp` keys it sets."""

    compute = "local"

    def __init__(self, **gcp: Any) -> None:
        self.gcp = {key: _path_text(value) for key, value in gcp.items() if value is not None}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.gcp == self.gcp  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.gcp.items())})"


class LocalComputeProvider(_ComputeProvider):
    """Workers are processes of this machine (`backends.compute: local`, the default)."""

    def __init__(self) -> None:
        super().__init__()


class GkeComputeProvider(_ComputeProvider):
    """Workers are pods of a GKE cluster (`backends.compute: gke`); the keys are `gcp:` keys."""

    compute = "gke"

    def __init__(
        self,
        worker_image: str,
        namespace: str | None = None,
        gke_cluster: str | None = None,
        gke_location: str | None = None,
        worker_ksa: str | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__(
            worker_image=worker_image,
            namespace=namespace,
            gke_cluster=gke_cluster,
            gke_location=gke_location,
            worker_ksa=worker_ksa,
            project=project,
        )


class CloudRunComputeProvider(_ComputeProvider):
    """Workers are Cloud Run jobs (`backends.compute: cloud_run`); the keys are `gcp:` keys."""

    compute = "cloud_run"

    def __init__(
        self,
        worker_image: str,
        region: str,
        worker_service_account: str | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__(
            worker_image=worker_image, region=region, worker_service_account=worker_service_account, project=project
        )


class Server:
    """A zookeeper server described in Python; `.config` is its validated `ZookeeperConfig`.

    `run()` serves it on this machine (the `PORT` environment variable, when set, says where
    to listen, as on Cloud Run). The keywords are the YAML form's keys; `model_providers` and
    `model_hubs` both fill `model_hubs:` (in that order: hubs, then providers), and the one
    `compute_providers` entry sets `backends.compute` and its `gcp` keys.

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
        model_hubs: Sequence[_ModelProvider | ModelHubConfig | dict[str, Any]] = (),
        max_models: int | None = None,
        max_envs: int | None = None,
        torch_threads: int = 1,
        no_auth: bool = False,
        authentication_providers: Sequence[_AuthenticationProvider | dict[str, Any]] = (),
        authorization_provider: AuthorizationProvider | dict[str, Any] | None = None,
        *,
        https: bool = False,
        ssl_certfile: str | os.PathLike[str] | None = None,
        ssl_keyfile: str | os.PathLike[str] | None = None,
        open_to_network: bool = False,
        allowed_hosts: Sequence[str] | None = None,
        cors_origins: Sequence[str] | None = None,
        inspectable: bool | None = None,
        launch_etc: Sequence[str | LaunchEtcConfig | dict[str, Any]] = (),
        model_providers: Sequence[_ModelProvider | ModelHubConfig | dict[str, Any]] = (),
        compute_providers: Sequence[_ComputeProvider] = (),
        backends: BackendsConfig | Mapping[str, Any] | None = None,
        gcp: GcpSettings | Mapping[str, Any] | None = None,
        workers: WorkerSettings | Mapping[str, Any] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        server = {
            "host": host,
            "port": port,
            "https": https,
            "data_dir": _path_text(data_dir),
            "open_to_network": open_to_network,
            **_given(
                ssl_certfile=_path_text(ssl_certfile),
                ssl_keyfile=_path_text(ssl_keyfile),
                allowed_hosts=None if allowed_hosts is None else list(allowed_hosts),
                cors_origins=None if cors_origins is None else list(cors_origins),
                inspectable=inspectable,
            ),
        }
        backend_keys, gcp_keys = _compute(compute_providers, _mapping(backends), _mapping(gcp))
        data: dict[str, Any] = {
            "server": server,
            "max_envs": max_envs,
            "max_models": max_models,
            "workers": _workers(torch_threads, _mapping(workers)),
            "envs": _entries(environments, (PythonEnvironment, GymEnvironment, EnvConfig), "envs"),
            "models": _entries(models, (Model, ModelConfig), "models"),
            "model_hubs": _entries([*model_hubs, *model_providers], (_ModelProvider, ModelHubConfig), "model_hubs"),
            "no_auth": no_auth,
            "authentication_providers": _entries(
                authentication_providers, (_AuthenticationProvider,), "authentication_providers"
            ),
            "authorization_provider": _entry(authorization_provider, "authorization_provider"),
            # A bare string is the command itself, the common case.
            "launch_etc": _entries(
                [{"cmd": item} if isinstance(item, str) else item for item in launch_etc],
                (LaunchEtcConfig,),
                "launch_etc",
            ),
        }
        # Left out unless given, as the YAML form leaves them out (their defaults read the environment).
        if backend_keys:
            data["backends"] = backend_keys
        if gcp_keys:
            data["gcp"] = gcp_keys
        base = Path(base_dir) if base_dir is not None else None
        self._config = config_from_dict(data, source=SOURCE, base_dir=base)

    @property
    def config(self) -> ZookeeperConfig:
        """The validated config, equal to what the equivalent YAML file loads to."""
        return self._config

    def run(self, with_client: bool = False) -> int:
        """Serve this config on this machine until interrupted (Ctrl-C, SIGTERM); returns the exit code.

        Listens on `PORT` from the environment when it is set, else on `port`.
        """
        runner = _hooks.run_server
        if runner is None:  # the package installs it on import; only a broken install lacks it
            raise RuntimeError("no server runner is installed: import ainimal_zookeeper first")
        return runner(self._config, with_client)


def _workers(torch_threads: int, workers: dict[str, Any]) -> dict[str, Any]:
    if torch_threads != 1 and workers.get("torch_threads", torch_threads) != torch_threads:
        raise ConfigError(
            f"{SOURCE}: torch_threads is {torch_threads!r} but workers.torch_threads is "
            f"{workers['torch_threads']!r}; give one of them"
        )
    return {"torch_threads": torch_threads, **workers}


def _mapping(value: BaseModel | Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return dict(value)


def _compute(
    providers: Sequence[_ComputeProvider], backends: dict[str, Any], gcp: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`backends` and `gcp` with the compute provider's choice laid in; a contradiction is a ConfigError."""
    if isinstance(providers, str | bytes) or not isinstance(providers, Sequence):
        raise ConfigError(f"{SOURCE}: compute_providers: expected a list; got {type(providers).__name__}")
    if len(providers) > 1:
        raise ConfigError(f"{SOURCE}: compute_providers: one compute provider per server for now; got {len(providers)}")
    for index, provider in enumerate(providers):
        if not isinstance(provider, _ComputeProvider):
            raise ConfigError(
                f"{SOURCE}: compute_providers[{index}]: got {type(provider).__name__}; expected "
                "LocalComputeProvider, GkeComputeProvider or CloudRunComputeProvider"
            )
        if backends.get("compute", provider.compute) != provider.compute:
            raise ConfigError(
                f"{SOURCE}: backends.compute is {backends['compute']!r} but compute_providers[{index}] is "
                f"{type(provider).__name__} ({provider.compute!r}); give one of them"
            )
        backends = {**backends, "compute": provider.compute}
        for key, value in provider.gcp.items():
            if gcp.get(key, value) != value:
                raise ConfigError(
                    f"{SOURCE}: gcp.{key} is {gcp[key]!r} but compute_providers[{index}] says {value!r}; give one of them"
                )
            gcp = {**gcp, key: value}
    return backends, gcp


def _entry(item: Any, key: str) -> Any:
    """One entry as a plain dict (None stays None)."""
    if item is None:
        return None
    if isinstance(item, Mapping):
        return dict(item)
    if isinstance(item, _Entry):
        return item.to_dict()
    raise ConfigError(f"{SOURCE}: {key}: got {type(item).__name__}; expected {key.title().replace('_', '')} or a dict")


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
            expected = ", ".join(_shown_name(kind) for kind in accepted)
            raise ConfigError(f"{SOURCE}: {key}[{index}]: got {type(item).__name__}; expected {expected} or a dict")
    return result


def _shown_name(kind: type) -> str:
    """How an accepted kind is named in messages (the base classes by what they stand for)."""
    names: dict[type, str] = {
        _ModelProvider: "a model provider (LocalModelProvider, GithubModelProvider, ...)",
        _AuthenticationProvider: "an authentication provider (BasicAuthenticationProvider, ...)",
    }
    return names.get(kind, kind.__name__)
