"""The application service: launch, control and checkpoint instances.

Thin resolvers call these methods; each authorizes, checks the request against the catalog
and the stored state, then talks to workers only through the ports (commands out, events
back through the projection, bytes in the BlobStore).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ainimal_zookeeper.catalog.catalog import Catalog, CatalogEntry
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.access import Resource, Viewer, instance_resource
from ainimal_zookeeper.domain.instance import ACTIVE_STATUSES, InstanceStatus, RunMode, parse_mode, require_controllable
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable, ZookeeperError
from ainimal_zookeeper.ports import BlobStore, CommandBus, ComputeProvider, DocumentStore, EventBus, WorkerSpec
from ainimal_zookeeper.ports.authorization import Authorizer, authorize
from ainimal_zookeeper.service import pacing
from ainimal_zookeeper.service.event_stream import EventFanout
from ainimal_zookeeper.service.limits import Limits, check_limits
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.reaper import WorkerReaper
from ainimal_zookeeper.service.records import CHECKPOINTS, COMMANDS, INSTANCES, now_iso
from ainimal_zookeeper.service.stream_guard import GuardedStream

log = logging.getLogger(__name__)

#: How often an open stream re-checks that its viewer may still see the instance (an operator
#: may unmark it public, or a grant may be revoked, while someone watches).
VISIBILITY_RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Timeouts:
    """How long a request waits for a worker to confirm, in seconds."""

    launch: float = 5.0
    command: float = 5.0
    checkpoint: float = 120.0
    terminate_grace: float = 5.0


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


class Zookeeper:
    """Instances and checkpoints, as seen and changed through the API."""

    def __init__(
        self,
        catalog: Catalog,
        documents: DocumentStore,
        commands: CommandBus,
        compute: ComputeProvider,
        authorizer: Authorizer,
        notifier: Notifier,
        worker_connection: dict[str, Any],
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        torch_threads: int = 1,
        event_fanout: EventFanout | None = None,
        events: EventBus | None = None,
        blobs: BlobStore | None = None,
        telemetry_lease_seconds: float = 15.0,
        worker_settings: dict[str, Any] | None = None,
    ) -> None:
        from ainimal_zookeeper.service.overrides import OverrideService
        from ainimal_zookeeper.service.recordings import RecordingService
        from ainimal_zookeeper.service.replays import ReplayService
        from ainimal_zookeeper.service.side_processes import SideProcessBoard
        from ainimal_zookeeper.service.telemetry import TelemetryService
        from ainimal_zookeeper.service.telemetry_hub import TelemetryHub

        self.catalog, self.documents, self.commands, self.compute = catalog, documents, commands, compute
        self.authorizer, self.notifier = authorizer, notifier
        self.worker_connection = worker_connection
        self.limits, self.timeouts = limits or Limits(), timeouts or Timeouts()
        self.torch_threads = torch_threads
        self.worker_settings = dict(worker_settings or {})  # more WorkerSpec fields, from the config
        self.event_fanout = event_fanout or EventFanout()
        self.blobs = blobs
        self.events = events  # live logs subscribe to it (service/instance_logs.py)
        self.telemetry = TelemetryService(
            self, TelemetryHub(commands, events, telemetry_lease_seconds) if events is not None else None
        )
        self.overrides = OverrideService(self)
        self.recordings = RecordingService(self)
        self.replays = ReplayService(self)
        self.side_processes = SideProcessBoard(authorizer)  # launch_etc, attached by the entry point
        self.reaper = WorkerReaper(compute, self.timeouts.terminate_grace, on_killed=self._worker_killed)

    # queries

    def models(self, viewer: Viewer) -> list[CatalogEntry]:
        return [e for e in self.catalog.models() if self._may(viewer, "view", Resource("model", e.name))]

    def environments(self, viewer: Viewer) -> list[CatalogEntry]:
        return [e for e in self.catalog.environments() if self._may(viewer, "view", Resource("environment", e.name))]

    def instances(self, viewer: Viewer, statuses: list[str] | None = None) -> list[dict[str, Any]]:
        where = [("status", "in", list(statuses))] if statuses else []
        docs = self.documents.find(INSTANCES, where, order_by="createdAt")
        return [d for d in docs if self._may(viewer, "view", instance_resource(d))]

    def instance(self, viewer: Viewer, instance_id: str) -> dict[str, Any] | None:
        doc = self.documents.get(INSTANCES, instance_id)
        # Hidden and missing look the same, so ids of others' instances leak nothing.
        return doc if doc and self._may(viewer, "view", instance_resource(doc)) else None

    def checkpoint(self, viewer: Viewer, checkpoint_id: str) -> dict[str, Any] | None:
        """A checkpoint of an instance the viewer may inspect; None otherwise (hidden looks missing)."""
        doc = self.documents.get(CHECKPOINTS, checkpoint_id)
        if doc is None or self.inspectable(viewer, doc["instance"]) is None:
            return None
        return doc

    def inspectable(self, viewer: Viewer, instance_id: str) -> dict[str, Any] | None:
        """The instance when the viewer may look inside it (parameters, checkpoints, recordings)."""
        doc = self.instance(viewer, instance_id)
        return doc if doc is not None and self.may_inspect(viewer, doc) else None

    def may_inspect(self, viewer: Viewer, doc: dict[str, Any]) -> bool:
        """Whether the viewer may see an instance's insides, not only watch it."""
        return self._may(viewer, "inspect", instance_resource(doc))

    def checkpoints_of(self, instance_id: str) -> list[dict[str, Any]]:
        return self.documents.find(CHECKPOINTS, [("instance", "==", instance_id)], order_by="createdAt")

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

    def instance_events(self, viewer: Viewer, instance_id: str | None) -> AsyncIterator[dict[str, Any]]:
        """Live events of one instance the viewer may see (or of all, filtered per event)."""
        if instance_id is not None:
            self.visible(viewer, instance_id)
            return self.while_visible(viewer, instance_id, self.event_fanout.stream(instance_id))
        return self._visible_events(viewer)

    def while_visible(
        self, viewer: Viewer, instance_id: str, items: AsyncIterator[dict[str, Any]]
    ) -> AsyncIterator[dict[str, Any]]:
        """`items` until the viewer may no longer see the instance or it has ended (re-checked
        every few seconds)."""
        ended_checks = 0

        async def still_visible() -> bool:
            nonlocal ended_checks
            doc = await asyncio.to_thread(self.instance, viewer, instance_id)
            if doc is None:
                log.info("a stream of instance %s ended: its viewer may no longer see it", instance_id)
                return False
            # Streams end by themselves on the worker's last event; this catches a worker that
            # died without one. Seen ended at two checks in a row, so that a last event still on
            # its way is delivered first.
            ended_checks = ended_checks + 1 if InstanceStatus(doc["status"]).is_final else 0
            return ended_checks < 2

        return GuardedStream(items, still_visible, VISIBILITY_RECHECK_SECONDS)

    async def _visible_events(self, viewer: Viewer) -> AsyncIterator[dict[str, Any]]:
        async for item in self.event_fanout.stream(None):
            if self.instance(viewer, item["instance"]) is not None:
                yield item

    # launching

    def launch(self, viewer: Viewer, request: LaunchRequest) -> dict[str, Any]:
        """Validate, reserve a slot, start a worker; returns the instance once it runs (or fails)."""
        self._launchable(viewer, Resource("model", request.model))
        if request.environment:
            self._launchable(viewer, Resource("environment", request.environment))
        plan = self.catalog.plan_launch(
            request.model, request.environment, request.parameters, request.environment_parameters
        )
        mode = parse_mode(request.mode)
        _require_mode(plan.model, mode)
        pace, realtime = pacing.validate_pace(request.pace, request.realtime)
        stop_after = pacing.validate_budget(request.stop_after)
        checkpoint_every = pacing.validate_schedule(request.checkpoint_every)
        checkpoint = self._launch_checkpoint(viewer, request.checkpoint, plan.model.name)
        instance_id = uuid.uuid4().hex[:12]
        seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**31)
        doc = {
            "id": instance_id,
            "model": plan.model.name,
            "environment": plan.environment.name if plan.environment else None,
            "status": InstanceStatus.PENDING.value,
            "mode": mode.value,
            "parameters": plan.parameters,
            "environmentParameters": plan.environment_parameters,
            "step": checkpoint["step"] if checkpoint else 0,
            "episode": checkpoint["episode"] if checkpoint else 0,
            "metrics": {},
            "owner": viewer.username,
            "public": False,
            "createdAt": now_iso(),
            "createdEpoch": time.time(),
            "seed": seed,
            "modes": plan.model.spec["modes"],
            "parentCheckpoint": checkpoint["id"] if checkpoint else None,
            "headCheckpoint": checkpoint["id"] if checkpoint else None,
            "error": None,
            "pace": pace,
            "stopAfter": stop_after,
            "checkpointEvery": checkpoint_every,
        }

        def reserve(store: DocumentStore) -> None:
            check_limits(store, plan, self.limits)
            store.create(INSTANCES, instance_id, doc)

        self.documents.run_in_transaction(reserve)
        spec = WorkerSpec(
            instance_id=instance_id,
            model=plan.model.config,
            environment=plan.environment.config if plan.environment else None,
            init_params=plan.init_params,
            env_init_params=plan.env_init_params,
            mode=mode.value,
            connection=self.worker_connection,
            seed=seed,
            checkpoint_id=checkpoint["id"] if checkpoint else None,
            checkpoint_blob_key=checkpoint["blobKey"] if checkpoint else None,
            torch_threads=self.torch_threads,
            pace=pace,
            realtime=realtime,
            stop_after=stop_after,
            checkpoint_every=checkpoint_every,
            **self.worker_settings,
        )
        try:
            self.compute.start(spec)
        except Exception as exc:
            self.documents.update(
                INSTANCES, instance_id, {"status": "FAILED", "error": f"could not start a worker: {exc}"}
            )
            if isinstance(exc, ZookeeperError):
                raise  # e.g. a ConfigError: a path the worker image cannot reach; retrying will not help
            raise Unavailable(f"could not start a worker for instance {instance_id}: {exc}") from exc
        self._update_if(instance_id, InstanceStatus.PENDING, {"status": InstanceStatus.STARTING.value})
        return self._wait_for_status(instance_id, lambda s: s not in ("PENDING", "STARTING"), self.timeouts.launch)

    def _launchable(self, viewer: Viewer, resource: Resource) -> None:
        """Refuse a launch with a model or env the viewer may not launch; unseen ones are "unknown"."""
        if not self._may(viewer, "view", resource):
            raise NotFound(f"unknown {resource.kind} {resource.id!r}")
        authorize(self.authorizer, viewer, "launch", resource)

    def _launch_checkpoint(self, viewer: Viewer, checkpoint_id: str | None, model: str) -> dict[str, Any] | None:
        if not checkpoint_id:
            return None
        checkpoint = self.checkpoint(viewer, checkpoint_id)
        if checkpoint is None:
            raise NotFound(f"unknown checkpoint {checkpoint_id!r}")
        if checkpoint.get("model") != model:
            raise InvalidInput(
                f"checkpoint {checkpoint_id} belongs to model {checkpoint.get('model')!r}, not {model!r}"
            )
        return checkpoint

    # controlling

    def pause(self, viewer: Viewer, instance_id: str) -> dict[str, Any]:
        doc = self.controllable(viewer, instance_id, "control", "pause")
        if doc["status"] == InstanceStatus.PAUSED.value:
            return doc
        self.send_and_wait(cmd.Pause(instance_id), self.timeouts.command)
        return self.get(instance_id)

    def set_pace(self, viewer: Viewer, instance_id: str, pace: Any, realtime: Any) -> dict[str, Any]:
        """At most `pace` steps a second (None: as fast as it goes), or the env's realtime rate."""
        value, realtime = pacing.validate_pace(pace, realtime)
        self.controllable(viewer, instance_id, "control", "pace")
        self.send_and_wait(cmd.SetPace(instance_id, pace=value, realtime=realtime), self.timeouts.command)
        return self.get(instance_id)

    def resume(self, viewer: Viewer, instance_id: str) -> dict[str, Any]:
        doc = self.controllable(viewer, instance_id, "control", "resume")
        if doc["status"] == InstanceStatus.RUNNING.value:
            return doc
        self.send_and_wait(cmd.Resume(instance_id), self.timeouts.command)
        return self.get(instance_id)

    def set_mode(self, viewer: Viewer, instance_id: str, mode_name: str) -> dict[str, Any]:
        mode = parse_mode(mode_name)
        doc = self.controllable(viewer, instance_id, "train" if mode.learns else "control", "change the mode of")
        _require_mode(self.catalog.model(doc["model"]), mode)
        if doc["mode"] != mode.value:
            self.send_and_wait(cmd.SetMode(instance_id, mode=mode.value), self.timeouts.command)
        return self.get(instance_id)

    def set_public(self, viewer: Viewer, instance_id: str, public: bool) -> dict[str, Any]:
        """Let anybody, signed in or not, watch the instance (or stop that); needs `manage` on it."""
        doc = self.visible(viewer, instance_id)
        authorize(self.authorizer, viewer, "manage", instance_resource(doc))
        if bool(doc.get("public", False)) != public:
            self.documents.update(INSTANCES, instance_id, {"public": public, "updatedAt": now_iso()})
            log.info("%s marked instance %s %s", viewer.username, instance_id, "public" if public else "private")
        return self.get(instance_id)

    def disown(self, username: str) -> int:
        """Clear `username` as the owner of its instances (its account was deleted); returns how many.

        Ownership is by name, so a later account of the same name must not inherit control of
        these instances; admins and operators keep it. The former owner stays on record.
        """
        owned = self.documents.find(INSTANCES, [("owner", "==", username)])
        for doc in owned:
            self.documents.update(
                INSTANCES, doc["id"], {"owner": None, "formerOwner": username, "updatedAt": now_iso()}
            )
        return len(owned)

    def terminate(self, viewer: Viewer, instance_id: str) -> dict[str, Any]:
        doc = self.visible(viewer, instance_id)
        authorize(self.authorizer, viewer, "control", instance_resource(doc))
        if InstanceStatus(doc["status"]).is_final:
            self.reaper.reap(instance_id)  # a FAILED instance's worker may still run, stuck
            return doc
        self._update_if(instance_id, None, {"status": InstanceStatus.STOPPING.value})
        command = cmd.Terminate(instance_id)
        self.record_command(command)
        self.commands.send(command)
        grace = self.timeouts.terminate_grace
        final = self._wait_for_status(instance_id, lambda s: s in ("TERMINATED", "FAILED"), grace)
        if final["status"] not in ("TERMINATED", "FAILED"):
            # The worker did not stop by itself (a step stuck in user code): kill its process,
            # after saying so (its exit by a signal must not read as a failure).
            killed = f"its worker did not stop within {grace:g}s of terminate and was killed"
            self._update_if(
                instance_id, InstanceStatus.STOPPING, {"status": "TERMINATED", "endedAt": now_iso(), "error": killed}
            )
            self.compute.stop(instance_id, grace_seconds=0)
        else:
            self.reaper.reap(instance_id)  # it stopped stepping; its process has the grace to end
        self.commands.forget(instance_id)
        return self.get(instance_id)

    # checkpoints

    def save_checkpoint(self, viewer: Viewer, instance_id: str, tag: str | None) -> dict[str, Any]:
        doc = self.controllable(viewer, instance_id, "checkpoint", "checkpoint")
        model = self.catalog.model(doc["model"])
        if not model.spec.get("checkpointable"):
            raise InvalidInput(f"model {model.name!r} cannot be checkpointed: it has no save() and load()")
        command = cmd.SaveCheckpoint(instance_id, checkpoint_id=uuid.uuid4().hex[:16], tag=(tag or "").strip())
        self.send_and_wait(command, self.timeouts.checkpoint)
        return self.documents.get(CHECKPOINTS, command.checkpoint_id) or {}

    def restore_checkpoint(self, viewer: Viewer, instance_id: str, checkpoint_id: str) -> dict[str, Any]:
        doc = self.controllable(viewer, instance_id, "checkpoint", "restore a checkpoint into")
        checkpoint = self._launch_checkpoint(viewer, checkpoint_id, doc["model"])
        assert checkpoint is not None
        command = cmd.RestoreCheckpoint(instance_id, checkpoint_id=checkpoint["id"], blob_key=checkpoint["blobKey"])
        self.send_and_wait(command, self.timeouts.checkpoint)
        return self.get(instance_id)

    # lifecycle

    def reconcile(self) -> int:
        """Mark instances whose workers are gone as FAILED; returns how many were."""
        lost = 0
        for doc in self.documents.find(INSTANCES, [("status", "in", [s.value for s in ACTIVE_STATUSES])]):
            if self.compute.is_alive(doc["id"]) is False:
                error = (
                    f"worker lost while {doc['status']} (the server restarted or the worker died); "
                    "launch a new instance from its last checkpoint"
                )
                self._update_if(doc["id"], None, {"status": "FAILED", "error": error, "endedAt": now_iso()})
                lost += 1
        return lost

    def stop_all(self, reason: str) -> None:
        """Ask every active instance's worker to stop (server shutdown); `reason` is recorded."""
        stopping = [
            d["id"] for d in self.documents.find(INSTANCES, [("status", "in", [s.value for s in ACTIVE_STATUSES])])
        ]
        for instance_id in stopping:
            self.commands.send(cmd.Terminate(instance_id))
            self._update_if(instance_id, None, {"status": "STOPPING", "error": reason})
        deadline = time.monotonic() + self.timeouts.terminate_grace
        while time.monotonic() < deadline and self.documents.find(INSTANCES, [("status", "==", "STOPPING")]):
            self.notifier.wait(0.05)
        for doc in self.documents.find(INSTANCES, [("status", "==", "STOPPING")]):
            self._update_if(doc["id"], None, {"status": "TERMINATED", "endedAt": now_iso()})

    def worker_lost(self, instance_id: str) -> None:
        """An instance was FAILED for silence: ask its worker to stop, and kill it after the grace."""
        self.commands.send(cmd.Terminate(instance_id))
        self.reaper.reap(instance_id)

    def _worker_killed(self, instance_id: str) -> None:
        """Say on a FAILED instance that its worker had to be killed (terminate says so itself)."""
        doc = self.documents.get(INSTANCES, instance_id)
        if doc is None or doc["status"] != InstanceStatus.FAILED.value:
            return
        killed = f"its worker did not stop within {self.timeouts.terminate_grace:g}s and was killed"
        error = f"{doc['error']}; {killed}" if doc.get("error") else killed
        self.documents.update(INSTANCES, instance_id, {"error": error, "updatedAt": now_iso()})
        self.notifier.notify()

    # helpers

    def _may(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        return self.authorizer.allows(viewer, action, resource)

    def visible(self, viewer: Viewer, instance_id: str) -> dict[str, Any]:
        doc = self.instance(viewer, instance_id)
        if doc is None:
            raise NotFound(f"unknown instance {instance_id!r}")
        return doc

    def controllable(self, viewer: Viewer, instance_id: str, action: str, verb: str) -> dict[str, Any]:
        doc = self.visible(viewer, instance_id)
        authorize(self.authorizer, viewer, action, instance_resource(doc))
        require_controllable(instance_id, InstanceStatus(doc["status"]), verb)
        if doc["status"] == InstanceStatus.STOPPING.value:
            raise Conflict(f"cannot {verb} instance {instance_id}: it is STOPPING")
        return doc

    def get(self, instance_id: str) -> dict[str, Any]:
        doc = self.documents.get(INSTANCES, instance_id)
        if doc is None:
            raise NotFound(f"unknown instance {instance_id!r}")
        return doc

    def record_command(self, command: cmd.Command) -> None:
        self.documents.put(
            COMMANDS,
            command.command_id,
            {
                "id": command.command_id,
                "instance": command.instance_id,
                "kind": command.kind,
                "status": "sent",
                "sentAt": time.time(),
            },
        )

    def send_and_wait(self, command: cmd.Command, timeout: float) -> None:
        """Send `command` and wait for the worker's verdict; a refusal becomes a Conflict."""
        self.record_command(command)
        self.commands.send(command)
        deadline = time.monotonic() + timeout
        while True:
            record = self.documents.get(COMMANDS, command.command_id) or {}
            if record.get("status") == "applied":
                return
            if record.get("status") == "rejected":
                raise Conflict(f"{command.kind} on instance {command.instance_id} failed: {record.get('error')}")
            instance = self.get(command.instance_id)
            if InstanceStatus(instance["status"]).is_final:
                raise Conflict(
                    f"instance {command.instance_id} ended ({instance['status']}): {instance.get('error') or ''}".rstrip(
                        ": "
                    )
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Unavailable(
                    f"the worker of instance {command.instance_id} did not confirm {command.kind} within {timeout:.0f}s; "
                    "the command stays queued and applies when the worker catches up"
                )
            self.notifier.wait(min(remaining, 0.05))

    def _wait_for_status(self, instance_id: str, done: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.get(instance_id)
            remaining = deadline - time.monotonic()
            if done(doc["status"]) or remaining <= 0:
                return doc
            self.notifier.wait(min(remaining, 0.05))

    def _update_if(self, instance_id: str, expected: InstanceStatus | None, fields: dict[str, Any]) -> None:
        """Update unless the instance has ended (or left `expected`), atomically."""

        def update(store: DocumentStore) -> None:
            doc = store.get(INSTANCES, instance_id)
            if doc is None or InstanceStatus(doc["status"]).is_final:
                return
            if expected is not None and doc["status"] != expected.value:
                return
            store.update(INSTANCES, instance_id, {**fields, "updatedAt": now_iso()})

        self.documents.run_in_transaction(update)


def _require_mode(model: CatalogEntry, mode: RunMode) -> None:
    modes = model.spec.get("modes", [])
    if mode.value not in modes:
        why = " it has no train()" if mode.learns else ""
        raise InvalidInput(
            f"model {model.name!r} cannot run in mode {mode.value}:{why}; supported modes: {', '.join(modes)}"
        )


__all__ = ["LaunchRequest", "Timeouts", "Zookeeper", "ZookeeperError", "instance_resource"]
