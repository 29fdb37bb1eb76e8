"""Launching: what may be launched, and starting an instance of it.

A launch is validated (catalog, rights, modes, pacing, checkpoint) before anything is stored,
reserves its slot against the limits in one transaction, then asks the compute provider for a
worker and waits (a little) for it to run.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.catalog.catalog import Catalog, CatalogEntry
from ainimal_zookeeper.domain.access import Resource, Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode, parse_mode
from ainimal_zookeeper.errors import InvalidInput, NotFound, Unavailable, ZookeeperError
from ainimal_zookeeper.ports import ComputeProvider, DocumentStore, WorkerSpec
from ainimal_zookeeper.ports.authorization import authorize
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock
from ainimal_zookeeper.service import pacing
from ainimal_zookeeper.service.command_sender import CommandSender
from ainimal_zookeeper.service.git_checkpoints import GitCheckpoints, TaggedLaunch
from ainimal_zookeeper.service.instance_access import InstanceAccess
from ainimal_zookeeper.service.limits import Limits, check_limits
from ainimal_zookeeper.service.records import Checkpoint, Instance, now_iso
from ainimal_zookeeper.service.repository import InstanceRepository


@dataclass(frozen=True)
class LaunchRequest:
    """The API's LaunchInput."""

    model: str
    environment: str | None = None
    parameters: dict[str, Any] | None = None
    environment_parameters: dict[str, Any] | None = None
    mode: str = "INFER"
    checkpoint: str | None = None
    seed: int | None = None
    # Pacing and budgets (service/pacing.py validates them).
    pace: float | None = None
    realtime: bool = False
    stop_after: dict[str, Any] | None = None
    checkpoint_every: dict[str, Any] | None = None
    #: A tag, branch or commit of a git-backed model's repository (its checkpoint, if the tree holds one).
    revision: str | None = None


@dataclass(frozen=True)
class WorkerLaunchSettings:
    """What every worker is started with, from the config."""

    #: How a worker reaches the buses (the adapters' connection details).
    connection: dict[str, Any] = field(default_factory=dict)
    torch_threads: int = 1
    #: More `WorkerSpec` fields (timings of the worker).
    spec_fields: dict[str, Any] = field(default_factory=dict)


class LaunchService:
    """`models`, `environments` and `launch`."""

    def __init__(
        self,
        catalog: Catalog,
        access: InstanceAccess,
        instances: InstanceRepository,
        compute: ComputeProvider,
        sender: CommandSender,
        workers: WorkerLaunchSettings,
        limits: Limits | None = None,
        timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        git: GitCheckpoints | None = None,
    ) -> None:
        self.catalog, self.access, self.instances, self.compute = catalog, access, instances, compute
        self.sender, self.workers, self.limits = sender, workers, limits or Limits()
        self.timeout, self.clock = timeout, clock
        self.git = git  # launches at a revision of a git-backed model

    def models(self, viewer: Viewer) -> list[CatalogEntry]:
        return [e for e in self.catalog.models() if self.access.may(viewer, "view", Resource("model", e.name))]

    def environments(self, viewer: Viewer) -> list[CatalogEntry]:
        return [
            e for e in self.catalog.environments() if self.access.may(viewer, "view", Resource("environment", e.name))
        ]

    def model_spec(self, name: str) -> dict[str, Any] | None:
        try:
            return self.catalog.model(name).spec
        except NotFound:
            return None

    def environment_spec(self, name: str) -> dict[str, Any] | None:
        try:
            return self.catalog.environment(name).spec
        except NotFound:
            return None

    def launch(self, viewer: Viewer, request: LaunchRequest) -> Instance:
        """Validate, reserve a slot, start a worker; returns the instance once it runs (or fails)."""
        self._launchable(viewer, Resource("model", request.model))
        if request.environment:
            self._launchable(viewer, Resource("environment", request.environment))
        plan = self.catalog.plan_launch(
            request.model, request.environment, request.parameters, request.environment_parameters
        )
        mode = parse_mode(request.mode)
        require_mode(plan.model, mode)
        pace, realtime = pacing.validate_pace(request.pace, request.realtime)
        stop_after = pacing.validate_budget(request.stop_after)
        checkpoint_every = pacing.validate_schedule(request.checkpoint_every)
        tagged = self._at_revision(plan.model, request) if request.revision else None
        checkpoint = (
            self.access.checkpoint_of_model(viewer, request.checkpoint, plan.model.name) if request.checkpoint else None
        )
        # Where the run starts: a stored checkpoint, the one in a tagged tree, or the beginning.
        start_id, start_step, start_episode = (
            (checkpoint.id, checkpoint.step, checkpoint.episode) if checkpoint else (None, 0, 0)
        )
        if tagged is not None and tagged.harness is not None:
            start_id, start_step = tagged.checkpoint_id, int(tagged.harness["step"])
            start_episode = int(tagged.harness.get("episode") or 0)
        seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**31)
        instance = Instance(
            id=uuid.uuid4().hex[:12],
            model=plan.model.name,
            environment=plan.environment.name if plan.environment else None,
            status=InstanceStatus.PENDING,
            mode=mode,
            parameters=plan.parameters,
            environment_parameters=plan.environment_parameters,
            step=start_step,
            episode=start_episode,
            metrics={},
            owner=viewer.username,
            public=False,
            created_at=now_iso(),
            created_epoch=self.clock.time(),
            seed=seed,
            modes=plan.model.spec["modes"],
            parent_checkpoint=start_id,
            head_checkpoint=start_id,
            error=None,
            pace=pace,
            stop_after=stop_after,
            checkpoint_every=checkpoint_every,
        )

        def within_limits(store: DocumentStore) -> None:
            check_limits(store, plan, self.limits)

        self.instances.create(instance, within_limits)
        if tagged is not None:
            checkpoint = self._import_tagged(tagged, instance)
        spec = WorkerSpec(
            instance_id=instance.id,
            model=tagged.config if tagged is not None else plan.model.config,
            environment=plan.environment.config if plan.environment else None,
            init_params=plan.init_params,
            env_init_params=plan.env_init_params,
            mode=mode.value,
            connection=self.workers.connection,
            seed=seed,
            checkpoint_id=checkpoint.id if checkpoint else None,
            checkpoint_blob_key=checkpoint.blob_key if checkpoint else None,
            torch_threads=self.workers.torch_threads,
            pace=pace,
            realtime=realtime,
            stop_after=stop_after,
            checkpoint_every=checkpoint_every,
            **self.workers.spec_fields,
        )
        try:
            self.compute.start(spec)
        except Exception as exc:
            self.instances.update(
                instance.id, {"status": InstanceStatus.FAILED.value, "error": f"could not start a worker: {exc}"}
            )
            if isinstance(exc, ZookeeperError):
                raise  # e.g. a ConfigError: a path the worker image cannot reach; retrying will not help
            raise Unavailable(f"could not start a worker for instance {instance.id}: {exc}") from exc
        self.instances.update_if(instance.id, InstanceStatus.PENDING, {"status": InstanceStatus.STARTING.value})
        starting = (InstanceStatus.PENDING, InstanceStatus.STARTING)
        return self.sender.wait_for_status(instance.id, lambda s: s not in starting, self.timeout)

    def _at_revision(self, model: CatalogEntry, request: LaunchRequest) -> TaggedLaunch:
        """The model at `request.revision` of its git repository (see service/git_checkpoints.py)."""
        if request.checkpoint:
            raise InvalidInput("give checkpoint or revision, not both: a revision's checkpoint is in its tree")
        if self.git is None:
            raise InvalidInput("launching at a revision needs a blob store; this server has none")
        assert request.revision is not None
        return self.git.at_revision(model, request.revision)

    def _import_tagged(self, tagged: TaggedLaunch, instance: Instance) -> Checkpoint | None:
        """The tagged tree's checkpoint, stored for the new instance; a failure fails the instance."""
        assert self.git is not None
        try:
            return self.git.import_checkpoint(tagged, instance)
        except ZookeeperError as exc:
            self.instances.update(instance.id, {"status": InstanceStatus.FAILED.value, "error": str(exc)})
            raise

    def _launchable(self, viewer: Viewer, resource: Resource) -> None:
        """Refuse a launch with a model or env the viewer may not launch; unseen ones are "unknown"."""
        if not self.access.may(viewer, "view", resource):
            raise NotFound(f"unknown {resource.kind} {resource.id!r}")
        authorize(self.access.authorizer, viewer, "launch", resource)


def require_mode(model: CatalogEntry, mode: RunMode) -> None:
    """`InvalidInput` unless the model can run in `mode`."""
    modes = model.spec.get("modes", [])
    if mode.value not in modes:
        why = " it has no train()" if mode.learns else ""
        raise InvalidInput(
            f"model {model.name!r} cannot run in mode {mode.value}:{why}; supported modes: {', '.join(modes)}"
        )
