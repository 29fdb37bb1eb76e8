"""The validated shape of a zookeeper config: pydantic models with one field per YAML key.

Validators take `context={"base_dir": Path}` to turn relative `path` / `root` values into
absolute ones; without it they are kept as given. Every model but `ModelHubConfig` forbids
unknown keys, so a typo fails instead of being silently ignored.
"""

# Longer than 400 lines: it is the reference of every config key, one pydantic class per YAML
# section in the order the docs list them; cross-section validators need them side by side.

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ainimal_zookeeper.config.backends import BackendsConfig, GcpSettings, missing_gcp_settings

__all__ = [
    "ENV_TYPE_ALIASES",
    "CatalogSettings",
    "MODEL_TYPE_ALIASES",
    "SUPPORTED_HUB_TYPES",
    "EnvConfig",
    "LaunchEtcConfig",
    "ModelConfig",
    "ModelHubConfig",
    "ServerSettings",
    "WorkerSettings",
    "ZookeeperConfig",
    "is_loopback",
    "open_server_problem",
]

#: Spellings accepted for an env's `type` (compared lower-case) -> the canonical type.
ENV_TYPE_ALIASES: dict[str, str] = {
    "gymnasium": "gymnasium",
    "gymnasium.env": "gymnasium",
    "gym": "gymnasium",
    "gym.env": "gymnasium",
    "dm_env": "dm_env",
    "dm_env.env": "dm_env",
    "python_class": "python_class",
    "ainimal": "ainimal",
    "ainimal_zookeeper.env": "ainimal",
}
#: Spellings accepted for a model's `type` (compared lower-case) -> the canonical type.
MODEL_TYPE_ALIASES: dict[str, str] = {
    "ainimal": "ainimal",
    "ainimal_zookeeper.ainimal": "ainimal",
    "python_class": "python_class",
    "torch": "torch",
    "torch.nn.module": "torch",
    "nn.module": "torch",
    # model files: the file's format is the type
    "onnx": "onnx",
    ".onnx": "onnx",
    "keras": "keras",
    ".keras": "keras",
    ".h5": "keras",
    "h5": "keras",
    "tflite": "tflite",
    ".tflite": "tflite",
    "litert": "tflite",
    "tensorflow": "tensorflow",
    ".tensorflow": "tensorflow",
    "saved_model": "tensorflow",
    "torchscript": "torchscript",
    "torch.jit": "torchscript",
    "torch_export": "torch_export",
    "torch.export": "torch_export",
    ".pt2": "torch_export",
    # a state dict (.pt / .pth / .pytorch) loaded into the module class path + class_name name
    "pytorch": "pytorch",
    ".pytorch": "pytorch",
    ".pt": "pytorch",
    ".pth": "pytorch",
    "state_dict": "pytorch",
    # framework agents: path + class_name (for sb3, the .zip and its algorithm, e.g. PPO)
    "lightning": "lightning",
    "ptl.module": "lightning",
    "pl.lightningmodule": "lightning",
    "lightning.lightningmodule": "lightning",
    "pytorch_lightning": "lightning",
    "sb3": "sb3",
    "stable_baselines3": "sb3",
    "stable-baselines3": "sb3",
    "tf_agents": "tf_agents",
    "tf-agents": "tf_agents",
    "tfagents": "tf_agents",
    "tfagents.agent": "tf_agents",
    "tfagents.policy": "tf_agents",
    "acme": "acme",
    "acme.agent": "acme",
    "acme.actor": "acme",
}
#: Model hub types this build can scan; other types parse but the loader rejects them.
SUPPORTED_HUB_TYPES: tuple[str, ...] = (
    "local_filesystem",
    "git",
    "github",
    "gcloud_bucket",
    "aws_s3",
    "huggingface",
    "pytorch_hub",
)

EnvType = Literal["gymnasium", "dm_env", "python_class", "ainimal"]
ModelType = Literal[
    "ainimal",
    "python_class",
    "torch",
    "onnx",
    "keras",
    "torchscript",
    "torch_export",
    "pytorch",
    "tflite",
    "tensorflow",
    "lightning",
    "sb3",
    "tf_agents",
    "acme",
]
#: Model types that name a file (path) rather than a class: class_name is not used.
MODEL_FILE_TYPES: tuple[str, ...] = ("onnx", "keras", "torchscript", "torch_export", "tflite", "tensorflow")


def _reject_bool(value: Any) -> Any:
    # pydantic's lax mode reads `true` as 1; a boolean where a number belongs is a mistake.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "expected an integer")
    return value


def _no_limit_to_none(value: Any) -> Any:
    value = _reject_bool(value)
    return None if value in (-1, "-1") else value


def _at_least(minimum: int, no_limit: bool) -> Any:
    def check(value: int | None) -> int | None:
        if value is not None and value < minimum:
            extra = ", or -1 / null for no limit" if no_limit else ""
            raise PydanticCustomError("limit", f"expected an integer >= {minimum}{extra}")
        return value

    return AfterValidator(check)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("non_empty", "expected a non-empty string")
    return value


Int = Annotated[int, BeforeValidator(_reject_bool)]
#: A count where -1 and null both mean "no limit" (stored as None).
Limit = Annotated[int | None, BeforeValidator(_no_limit_to_none), _at_least(0, True)]
Text = Annotated[str, AfterValidator(_non_empty)]


def _canonical_type(value: Any, aliases: dict[str, str], what: str) -> Any:
    """The canonical spelling of a `type` value; unknown strings name every accepted one."""
    if not isinstance(value, str):
        return value  # the Literal check reports the wrong type
    canonical = aliases.get(value.strip().lower())
    if canonical is None:
        accepted = ", ".join(sorted(set(aliases.values())))
        raise PydanticCustomError("unknown_type", f"unknown {what} type {value!r}; expected one of {accepted}")
    return canonical


def _absolute(value: str | None, info: ValidationInfo) -> str | None:
    """`value` made absolute against the config file's folder, when the context names one."""
    base = (info.context or {}).get("base_dir")
    if value is None or base is None:
        return value
    return str((Path(base) / Path(value).expanduser()).resolve())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Strict):
    """Where the GraphQL server listens and keeps its data."""

    host: Text = "127.0.0.1"
    port: Annotated[Int, _at_least(1, False)] = 8000
    https: bool = False
    data_dir: str | None = None
    #: Origins of web clients served elsewhere (e.g. `python -m ainimal_zookeeper.client` on
    #: another port) that may call the API from a browser; none by default.
    cors_origins: list[Text] = Field(default_factory=list)
    #: An open server (`no_auth: true`) listens only on loopback and refuses cloud backends,
    #: unless this says everyone who reaches it may do everything, on purpose.
    open_to_network: bool = False
    #: Host names (beyond loopback and `host`) that browsers may reach this server by; "*" any,
    #: "*.example.org" the subdomains. Others are refused (they would allow DNS rebinding).
    allowed_hosts: list[Text] = Field(default_factory=list)
    #: Whether other processes of the server's user (model code in workers included) may read
    #: its environment and memory (/proc, ptrace: profilers, core dumps). Off: secrets stay hidden.
    inspectable: bool = False
    #: With `https: true`: the PEM certificate (chain) and private key files TLS is served from.
    ssl_certfile: Text | None = None
    ssl_keyfile: Text | None = None
    #: Queries and mutations one viewer, and one client address, may have running at once (a
    #: mutation may wait minutes for a worker); more are refused with HTTP 429 until one ends.
    max_requests_per_viewer: Annotated[int, Field(ge=1, le=1000)] = 16
    max_requests_per_address: Annotated[int, Field(ge=1, le=10000)] = 64

    @field_validator("ssl_certfile", "ssl_keyfile", mode="after")
    @classmethod
    def _resolve_tls_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _absolute(value, info)

    @model_validator(mode="after")
    def _tls_files_with_https(self) -> ServerSettings:
        # Either half alone, or files without https, would be silently unused.
        files = {"ssl_certfile": self.ssl_certfile, "ssl_keyfile": self.ssl_keyfile}
        missing = [key for key, value in files.items() if value is None]
        if self.https and missing:
            raise ValueError(
                f"https: true needs ssl_certfile and ssl_keyfile (PEM files); missing {' and '.join(missing)}"
            )
        if not self.https and len(missing) < 2:
            raise ValueError("ssl_certfile and ssl_keyfile apply only with https: true")
        return self


class WorkerSettings(_Strict):
    """Settings for every worker process."""

    # Passed to torch.set_num_threads: one thread per worker keeps many workers from thrashing.
    torch_threads: Annotated[Int, _at_least(1, False)] = 1
    # Seconds without a heartbeat (workers send four a second) before an instance is FAILED.
    heartbeat_timeout: Annotated[float, Field(gt=0)] = 30.0
    # Seconds a telemetry stream's lease at its worker lasts; open streams renew it three times
    # a lease, so a control plane that vanishes leaves no observers behind for longer than this.
    telemetry_lease_seconds: Annotated[float, Field(gt=0, le=3600)] = 15.0
    # Seconds an ended instance's worker (terminated, or FAILED for silence) has to stop by
    # itself before it is killed (SIGTERM, then SIGKILL).
    stop_grace_seconds: Annotated[float, Field(ge=0, le=3600)] = 5.0
    # The most steps `train` gets at once: an episode longer than this is trained in slices.
    train_slice_steps: Annotated[Int, _at_least(1, False)] = 2048
    # Seconds a recording retries a chunk that could not be stored before it ends as failed.
    # A worker whose recording buffer is full waits for the writer meanwhile, sending no
    # heartbeat: at most half the heartbeat timeout, so that it is not taken for lost.
    # None: 15 s, or half the heartbeat timeout when that is less.
    recording_retry_seconds: Annotated[float | None, Field(ge=0, le=3600)] = None
    # Takeovers: seconds without renewal or input before control goes back to the AInimal
    # (when the override gives no holdSeconds), how long a lockstep step waits for a person
    # (when it gives no timeoutSeconds), and how old an action may be before it is dropped.
    takeover_hold_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    takeover_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    max_input_age_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0
    # Names of environment variables passed to local workers beyond the allow-list of what
    # they need to run (PATH, HOME, locale, caches, GPUs...): model code can read them.
    environment: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]] = Field(
        default_factory=list, max_length=256
    )

    @model_validator(mode="after")
    def _retry_within_heartbeat(self) -> WorkerSettings:
        if self.recording_retry_seconds is not None and self.recording_retry_seconds > self.heartbeat_timeout / 2:
            raise ValueError(
                f"recording_retry_seconds ({self.recording_retry_seconds:g}) must be at most half of "
                f"heartbeat_timeout ({self.heartbeat_timeout:g}): a worker waiting for a chunk to be "
                "stored sends no heartbeat; lower it or raise heartbeat_timeout"
            )
        return self

    @property
    def recording_retry(self) -> float:
        """The recording retry time in effect (see `recording_retry_seconds`)."""
        if self.recording_retry_seconds is not None:
            return self.recording_retry_seconds
        return min(15.0, self.heartbeat_timeout / 2)


class _Entry(_Strict):
    """Fields shared by env and model entries."""

    name: Text
    type: str  # narrowed to the accepted types by each subclass
    path: Text | None = None
    class_name: Text | None = None
    max_instances: Limit = None
    description: str | None = None
    # Raw parameter declarations; the catalog parses them when it inspects the entry.
    create_params: list[dict[str, Any]] = Field(default_factory=list)
    # None (not {}) means "pass the launch parameters as keyword arguments".
    init_params: dict[str, Any] | None = None

    @field_validator("path", mode="after")
    @classmethod
    def _resolve_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _absolute(value, info)

    def _require_source(self, kind: str) -> None:
        missing = [key for key in ("path", "class_name") if getattr(self, key) is None]
        if missing:
            raise ValueError(f"type {kind} needs path and class_name; missing {' and '.join(missing)}")

    def _only_for_type(self, kind: str, defaults: dict[str, Any]) -> None:
        """Refuse keys that only `kind` reads, when changed on another type (else ignored)."""
        for key, default in defaults.items():
            if getattr(self, key) != default and self.type != kind:
                raise ValueError(f"{key} applies only to type {kind}, not {self.type}")


class EnvConfig(_Entry):
    """One environment the server offers."""

    type: EnvType = "gymnasium"
    env_name: Text | None = None
    step_function: Text = "step"
    reset_function: Text = "reset"
    max_connected: Annotated[int | None, BeforeValidator(_no_limit_to_none), _at_least(1, True)] = 1

    @field_validator("type", mode="before")
    @classmethod
    def _normalise_type(cls, value: Any) -> Any:
        return _canonical_type(value, ENV_TYPE_ALIASES, "env")

    @model_validator(mode="after")
    def _check_source(self) -> EnvConfig:
        if self.type == "gymnasium":
            self._check_gymnasium_source()
        else:
            self._require_source(self.type)
        self._only_for_type("gymnasium", {"env_name": None})
        self._only_for_type("python_class", {"step_function": "step", "reset_function": "reset"})
        return self

    @model_validator(mode="after")
    def _not_shared(self) -> EnvConfig:
        # Accepted and ignored, a larger value would promise sharing that does not happen.
        if self.max_connected != 1:
            shown = "null (no limit)" if self.max_connected is None else str(self.max_connected)
            raise ValueError(
                f"max_connected: {shown}: environments cannot be shared between instances yet (each "
                "instance runs its own copy of its environment); remove max_connected or set it to 1"
            )
        return self

    def _check_gymnasium_source(self) -> None:
        by_file = self.path is not None or self.class_name is not None
        if self.env_name is not None and by_file:
            # Both would leave one silently unused: the factory builds from the file.
            raise ValueError("a gymnasium env takes env_name or path + class_name, not both")
        if self.env_name is None:
            if not by_file:
                raise ValueError("a gymnasium env needs env_name, or path and class_name")
            self._require_source("gymnasium")


#: A model's method-name keys and their defaults; only type python_class may change them.
_METHOD_DEFAULTS: dict[str, str | None] = {
    "act_func": "act",
    "train_func": "train",
    "save_func": "save",
    "load_func": "load",
    "input_modalities_func": None,
    "output_modalities_func": None,
}


class ModelConfig(_Entry):
    """One model (AInimal, plain class or torch module) the server offers."""

    type: ModelType = "ainimal"
    path: Text  # type: ignore[assignment]  # required for every model type
    class_name: Text | None = None  # required, except for model files (MODEL_FILE_TYPES)
    # Method names used for type python_class; the other types keep the defaults.
    act_func: Text = "act"
    train_func: Text = "train"
    save_func: Text = "save"
    load_func: Text = "load"
    input_modalities_func: Text | None = None
    output_modalities_func: Text | None = None
    # type pytorch: the state-dict file loaded into the module class that path + class_name name
    weights: Text | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _normalise_type(cls, value: Any) -> Any:
        return _canonical_type(value, MODEL_TYPE_ALIASES, "model")

    @field_validator("weights", mode="after")
    @classmethod
    def _resolve_weights(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _absolute(value, info)

    @model_validator(mode="after")
    def _check_method_names(self) -> ModelConfig:
        self._only_for_type("python_class", _METHOD_DEFAULTS)
        if self.class_name is None and self.type not in MODEL_FILE_TYPES:
            raise ValueError(f"type {self.type} needs path and class_name; missing class_name")
        if self.class_name is not None and self.type in MODEL_FILE_TYPES:
            raise ValueError(f"type {self.type} reads the model from the file at path; class_name does not apply")
        if (self.weights is None) == (self.type == "pytorch"):
            raise ValueError(
                "type pytorch needs weights (the state-dict file) beside path and class_name (its module class)"
                if self.type == "pytorch"
                else f"weights applies only to type pytorch, not {self.type}"
            )
        return self


class ModelHubConfig(BaseModel):
    """A place the catalog scans for AInimals and envs.

    Unknown keys are allowed for hub types this build does not support yet (their keys are
    not known here); a local_filesystem hub takes exactly `type` and `root`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Text
    root: str | None = None

    @field_validator("type", mode="after")
    @classmethod
    def _normalise_type(cls, value: str) -> str:
        value = value.strip().lower()
        return "local_filesystem" if value == "local" else value

    @field_validator("root", mode="after")
    @classmethod
    def _resolve_root(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") not in ("local_filesystem", "pytorch_hub"):
            return value
        return _absolute(value, info)

    @model_validator(mode="after")
    def _check_local(self) -> ModelHubConfig:
        if self.type != "local_filesystem":
            return self._check_hub_keys()
        if self.model_extra:
            unknown = ", ".join(map(repr, sorted(self.model_extra)))
            raise ValueError(f"unknown key {unknown} for a local_filesystem hub; expected one of: type, root")
        if not self.root:
            raise ValueError("a local_filesystem hub needs root (a folder)")
        return self

    @property
    def supported(self) -> bool:
        """Whether this build can scan a hub of this type."""
        return self.type in SUPPORTED_HUB_TYPES

    def _check_hub_keys(self) -> ModelHubConfig:
        # Each hub type's keys live in config/hub_settings.py; unknown types are left to the loader.
        from pydantic import ValidationError

        from ainimal_zookeeper.config.hub_settings import HUB_SETTINGS, hub_settings

        if self.type not in HUB_SETTINGS:
            return self
        data = {"type": self.type, **({"root": self.root} if self.root is not None else {}), **(self.model_extra or {})}
        try:
            hub_settings(data)
        except ValidationError as exc:
            problems = "; ".join(_hub_problem(e) for e in exc.errors(include_url=False))
            raise ValueError(f"{self.type} hub: {problems}") from None
        return self


def _hub_problem(error: Any) -> str:
    where = ".".join(map(str, error["loc"]))
    message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


class LaunchEtcConfig(_Strict):
    """A helper command started alongside the server (a static file server, a dashboard)."""

    cmd: Text


def _unique_names(entries: list[Any], key: str) -> list[Any]:
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.name in seen:
            raise ValueError(
                f"duplicate name {entry.name!r} in {key}[{seen[entry.name]}] and {key}[{index}]; names must be unique"
            )
        seen[entry.name] = index
    return entries


#: Where `ZookeeperConfig.source_dir` is kept: not a field name, so pydantic ignores it.
SOURCE_DIR_KEY = "source dir"
#: Where `ZookeeperConfig.launch_etc_as_written` is kept (likewise not a field name).
LAUNCH_ETC_AS_WRITTEN_KEY = "launch_etc as written"

#: Where `ZookeeperConfig.source` is kept (the same way).
SOURCE_KEY = "source"


class CatalogSettings(_Strict):
    """How the config's models and envs are checked when the server starts, and the hubs listed."""

    #: Start even when an entry cannot be used (a wrong path, a class name typo, an unknown
    #: gymnasium id): it is listed with its error and cannot be launched. Off: the server
    #: refuses to start, naming the file, the key and the fix.
    lenient: bool = False
    #: Model hubs are listed in the background; for this long after the server starts, a
    #: request waits for hubs still on their first listing (so the first `models` query shows
    #: their models). Past it, a request answers with what is ready and never waits for a hub.
    hub_wait_seconds: float = Field(default=10.0, ge=0, le=300)
    #: How often a hub listed in full is listed again, for the models and revisions published
    #: since (0: only at start). A model whose revision did not change is not fetched again.
    hub_refresh_seconds: float = Field(default=900.0, ge=0, le=7 * 24 * 3600)


class ZookeeperConfig(_Strict):
    """The whole config: server settings, limits, the catalog and authentication."""

    server: ServerSettings = Field(default_factory=ServerSettings)
    # Concurrently running instances that have an env / in total; None means no limit.
    max_envs: Limit = None
    max_models: Limit = None
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    envs: list[EnvConfig] = Field(default_factory=list)
    models: list[ModelConfig] = Field(default_factory=list)
    model_hubs: list[ModelHubConfig] = Field(default_factory=list)
    # Sign-in is required unless the config says otherwise (an open server: loopback only).
    no_auth: bool = False
    # Kept as given: their own validation belongs to the authentication work.
    authentication_providers: list[dict[str, Any]] = Field(default_factory=list)
    authorization_provider: dict[str, Any] | None = None
    launch_etc: list[LaunchEtcConfig] = Field(default_factory=list)
    backends: BackendsConfig = Field(default_factory=BackendsConfig)
    gcp: GcpSettings = Field(default_factory=GcpSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)

    @property
    def source_dir(self) -> Path | None:
        """The config file's folder (or the Python config's `base_dir`); None when neither was given.

        Sign-in reads relative db_path / key paths and `.env.local` (ZK_JWT_SECRET, ...) against
        it when the server starts. It is not a key of the file, and two configs that say the same
        things are equal wherever they came from.
        """
        return self.__dict__.get(SOURCE_DIR_KEY)

    def remember_source_dir(self, folder: Path | None, source: str | None = None) -> None:
        """Record where the config was read from (the loader calls this once)."""
        # Kept beside the fields (a key no field can have), so equality and dumps ignore it.
        self.__dict__[SOURCE_DIR_KEY] = folder
        if source is not None:
            self.__dict__[SOURCE_KEY] = source

    @property
    def source(self) -> str:
        """What messages call the config: its file as given, or "<python>" / "<config>"."""
        return str(self.__dict__.get(SOURCE_KEY) or "<config>")

    @property
    def launch_etc_as_written(self) -> list[str]:
        """Each `launch_etc` command as the config spells it, `${env.X}` not filled in (for display:
        a filled-in command may hold a secret); the commands themselves when not recorded."""
        written = self.__dict__.get(LAUNCH_ETC_AS_WRITTEN_KEY)
        if isinstance(written, list) and len(written) == len(self.launch_etc):
            return list(written)
        return [entry.cmd for entry in self.launch_etc]

    def remember_launch_etc_as_written(self, commands: list[str]) -> None:
        """Record the commands before interpolation (the loader calls this once)."""
        self.__dict__[LAUNCH_ETC_AS_WRITTEN_KEY] = list(commands)

    @model_validator(mode="after")
    def _open_only_on_loopback(self) -> ZookeeperConfig:
        problem = open_server_problem(self, self.server.host)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _gcp_settings_present(self) -> ZookeeperConfig:
        missing = missing_gcp_settings(self.backends, self.gcp)
        if missing:
            raise ValueError(f"the chosen backends need {', '.join(missing)}")
        return self

    @field_validator("envs", mode="after")
    @classmethod
    def _unique_env_names(cls, value: list[EnvConfig]) -> list[EnvConfig]:
        return _unique_names(value, "envs")

    @field_validator("models", mode="after")
    @classmethod
    def _unique_model_names(cls, value: list[ModelConfig]) -> list[ModelConfig]:
        return _unique_names(value, "models")

    def unsupported_model_hubs(self) -> list[tuple[int, ModelHubConfig]]:
        """(index, hub) for every model hub whose type this build cannot scan yet."""
        return [(i, hub) for i, hub in enumerate(self.model_hubs) if not hub.supported]


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def open_server_problem(config: ZookeeperConfig, host: str) -> str | None:
    """Why `config` may not run open on `host`, or None when it may.

    An open server lets everyone who reaches it launch, control and delete everything: it may
    listen only on loopback, and never with the cloud backends (their API is on the internet),
    unless `server.open_to_network: true` says so on purpose.
    """
    if not config.no_auth or config.server.open_to_network:
        return None
    if config.backends.uses_gcp:
        return (
            "no_auth: true (an open server) cannot use the cloud backends: anyone on the internet could launch "
            "workers. Configure sign-in (no_auth: false and authentication_providers, see docs/access.md), "
            "or set server.open_to_network: true if you really mean it"
        )
    if not is_loopback(host):
        return (
            f"no_auth: true (an open server) listens only on loopback, not on {host!r}: anyone who reaches it "
            "could do everything. Listen on 127.0.0.1, configure sign-in (no_auth: false and "
            "authentication_providers, see docs/access.md), or set server.open_to_network: true if you really mean it"
        )
    return None
