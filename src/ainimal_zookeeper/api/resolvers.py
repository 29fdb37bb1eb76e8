"""Resolvers: parse arguments, call the service, shape the answer. Nothing else.

The services answer with typed records (`service/records.py`); their documents use the API's
camelCase names, so most fields resolve with graphql-core's default resolver; only fields
that reach into other records are listed here.
Sign-in, administration and which Instance fields a viewer sees are in `access_resolvers`.
Authorization happens in the service: every call passes the viewer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Protocol

from graphql import GraphQLResolveInfo

from ainimal_zookeeper.api.access_resolvers import ACCESS_RESOLVERS, inside
from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.api.permission_resolvers import PERMISSION_RESOLVERS
from ainimal_zookeeper.api.side_process_resolvers import side_processes
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.service.launching import LaunchRequest
from ainimal_zookeeper.service.records import Replay

Resolver = Callable[..., Any]


class _Record(Protocol):
    def to_document(self) -> dict[str, Any]: ...


def _doc(record: _Record | None) -> dict[str, Any] | None:
    """A record as the API shows it (None stays None)."""
    return record.to_document() if record is not None else None


def _docs(records: Iterable[_Record]) -> list[dict[str, Any]]:
    return [record.to_document() for record in records]


def _ctx(info: GraphQLResolveInfo) -> RequestContext:
    return info.context  # type: ignore[no-any-return]


# Query


def models(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return [entry.spec for entry in ctx.zookeeper.launching.models(ctx.viewer)]


def environments(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return [entry.spec for entry in ctx.zookeeper.launching.environments(ctx.viewer)]


def instances(_: Any, info: GraphQLResolveInfo, status: list[str] | None = None) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return _docs(ctx.zookeeper.access.list_visible(ctx.viewer, status))


def instance(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002  # the API's name
    ctx = _ctx(info)
    return _doc(ctx.zookeeper.access.instance(ctx.viewer, id))


def checkpoint(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
    ctx = _ctx(info)
    return _doc(ctx.zookeeper.checkpoints.checkpoint(ctx.viewer, id))


def recording(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
    ctx = _ctx(info)
    return _doc(ctx.zookeeper.recordings.get(ctx.viewer, id))


def latest_frame(_: Any, info: GraphQLResolveInfo, id: str, streams: list[str] | None = None) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.telemetry.latest(ctx.viewer, id, streams)


def replay_query(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
    ctx = _ctx(info)
    return _doc(ctx.zookeeper.replays.get(ctx.viewer, id))


def compare_recordings(
    _: Any,
    info: GraphQLResolveInfo,
    recorded: str,
    replayed: str,
    streams: list[str] | None = None,
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    ctx = _ctx(info)
    return ctx.zookeeper.replays.compare(ctx.viewer, recorded, replayed, streams, offset, limit)


def metric_history(
    _: Any,
    info: GraphQLResolveInfo,
    ids: list[str],
    names: list[str] | None = None,
    since: str | None = None,
    maxPoints: int | None = None,  # noqa: N803  # the API's name
) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return ctx.zookeeper.observation.metric_history(ctx.viewer, ids, names, since, maxPoints)


def logs(_: Any, info: GraphQLResolveInfo, id: str, tail: int | None = None) -> list[dict[str, Any]]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.observation.logs(ctx.viewer, id, tail)


# Mutation


def launch(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    request = LaunchRequest(
        model=input["model"],
        environment=input.get("environment"),
        parameters=_object(input.get("parameters"), "parameters"),
        environment_parameters=_object(input.get("environmentParameters"), "environmentParameters"),
        mode=input.get("mode") or "INFER",
        checkpoint=input.get("checkpoint"),
        seed=input.get("seed"),
        pace=input.get("pace"),
        realtime=bool(input.get("realtime")),
        stop_after=input.get("stopAfter"),
        checkpoint_every=input.get("checkpointEvery"),
        revision=input.get("revision"),
    )
    return _ctx(info).zookeeper.launching.launch(_ctx(info).viewer, request).to_document()


def set_pace(
    _: Any,
    info: GraphQLResolveInfo,
    id: str,  # noqa: A002
    pace: float | None = None,
    realtime: bool | None = None,
) -> dict[str, Any]:
    ctx = _ctx(info)
    return ctx.zookeeper.control.set_pace(ctx.viewer, id, pace, realtime).to_document()


def pause(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.control.pause(ctx.viewer, id).to_document()


def resume(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.control.resume(ctx.viewer, id).to_document()


def set_mode(_: Any, info: GraphQLResolveInfo, id: str, mode: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.control.set_mode(ctx.viewer, id, mode).to_document()


def terminate(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.control.terminate(ctx.viewer, id).to_document()


def save_checkpoint(_: Any, info: GraphQLResolveInfo, id: str, tag: str | None = None) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return _doc(ctx.zookeeper.checkpoints.save(ctx.viewer, id, tag)) or {}


def restore_checkpoint(_: Any, info: GraphQLResolveInfo, id: str, checkpoint: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.checkpoints.restore(ctx.viewer, id, checkpoint).to_document()


def override(_: Any, info: GraphQLResolveInfo, id: str, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.overrides.override(
        ctx.viewer,
        id,
        input["target"],
        input["value"],
        input.get("mode") or "set",
        input.get("index"),
        input.get("takeover"),
        input.get("holdSeconds"),
        input.get("timeoutSeconds"),
    ).to_document()


def clear_override(_: Any, info: GraphQLResolveInfo, id: str, override: str) -> bool:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.overrides.clear(ctx.viewer, id, override)


def act(_: Any, info: GraphQLResolveInfo, id: str, value: Any = None, target: str = "outputs/action") -> bool:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.overrides.act(ctx.viewer, id, value, target)


def renew_takeover(_: Any, info: GraphQLResolveInfo, id: str, override: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.overrides.renew(ctx.viewer, id, override).to_document()


def emergency_stop(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.overrides.emergency_stop(ctx.viewer, id).to_document()


def start_recording(_: Any, info: GraphQLResolveInfo, id: str, streams: list[str] | None = None) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.recordings.start(ctx.viewer, id, streams).to_document()


def stop_recording(_: Any, info: GraphQLResolveInfo, recording: str) -> dict[str, Any]:
    ctx = _ctx(info)
    return ctx.zookeeper.recordings.stop(ctx.viewer, recording).to_document()


def replay_mutation(mode: str) -> Resolver:
    def resolve(_: Any, info: GraphQLResolveInfo, id: str, recording: str) -> dict[str, Any]:  # noqa: A002
        ctx = _ctx(info)
        return ctx.zookeeper.replays.replay(ctx.viewer, id, recording, mode).to_document()

    return resolve


# Subscription


def subscribe_instance_events(_: Any, info: GraphQLResolveInfo, id: str | None = None) -> AsyncIterator[dict[str, Any]]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.observation.instance_events(ctx.viewer, id)


def subscribe_logs(_: Any, info: GraphQLResolveInfo, id: str) -> AsyncIterator[dict[str, Any]]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.observation.log_stream(ctx.viewer, id)


def subscribe_telemetry(
    _: Any,
    info: GraphQLResolveInfo,
    id: str,  # noqa: A002
    streams: list[str] | None = None,
    maxHz: float | None = None,  # noqa: N803  # the API's name
) -> AsyncIterator[dict[str, Any]]:
    ctx = _ctx(info)
    return ctx.zookeeper.telemetry.stream(ctx.viewer, id, streams, maxHz)


def event_payload(payload: dict[str, Any], _info: GraphQLResolveInfo, **_: Any) -> dict[str, Any]:
    return payload


# Instance and Checkpoint fields that reach into other records


def instance_model(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    spec = _ctx(info).zookeeper.launching.model_spec(doc["model"])
    # A model removed from the config since launch still has a name to show.
    return spec or {
        "name": doc["model"],
        "kind": "unknown",
        "parameters": [],
        "trainable": False,
        "modes": doc.get("modes", []),
        "checkpointable": False,
        "error": "no longer in the catalog",
    }


def instance_environment(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    name = doc.get("environment")
    if not name:
        return None
    spec = _ctx(info).zookeeper.launching.environment_spec(name)
    return spec or {"name": name, "kind": "unknown", "parameters": [], "error": "no longer in the catalog"}


def instance_checkpoints(doc: dict[str, Any], info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return _docs(_ctx(info).zookeeper.checkpoints.of_instance(doc["id"]))


def linked_checkpoint(field: str) -> Resolver:
    """Resolve a field holding a checkpoint id into the checkpoint."""

    def resolve(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
        checkpoint_id = doc.get(field)
        if not checkpoint_id:
            return None
        ctx = _ctx(info)
        return _doc(ctx.zookeeper.checkpoints.checkpoint(ctx.viewer, checkpoint_id))

    return resolve


def instance_worker(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    return {"pid": doc["pid"]} if doc.get("pid") else None


def instance_recordings(doc: dict[str, Any], info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return _docs(_ctx(info).zookeeper.recordings.of_instance(doc["id"]))


def instance_overrides(doc: dict[str, Any], info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return _docs(_ctx(info).zookeeper.overrides.in_force(doc["id"]))


def recording_url(suffix: str) -> Resolver:
    def resolve(doc: dict[str, Any], _info: GraphQLResolveInfo) -> str:
        return f"/recordings/{doc['id']}/{suffix}"

    return resolve


def replay_output(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    ctx = _ctx(info)
    return _doc(ctx.zookeeper.recordings.get(ctx.viewer, doc["outputRecording"]))


def replay_comparison(
    doc: dict[str, Any], info: GraphQLResolveInfo, streams: list[str] | None = None, offset: int = 0, limit: int = 100
) -> dict[str, Any] | None:
    ctx = _ctx(info)
    return ctx.zookeeper.replays.comparison(ctx.viewer, Replay.from_document(doc), streams, offset, limit)


def _object(value: Any, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise InvalidInput(f"{name} expects a JSON object of name -> value, got {type(value).__name__}")


_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "models": models,
        "environments": environments,
        "instances": instances,
        "instance": instance,
        "checkpoint": checkpoint,
        "recording": recording,
        "latestFrame": latest_frame,
        "replay": replay_query,
        "compareRecordings": compare_recordings,
        "metricHistory": metric_history,
        "logs": logs,
        "sideProcesses": side_processes,
    },
    "Mutation": {
        "launch": launch,
        "pause": pause,
        "resume": resume,
        "setMode": set_mode,
        "terminate": terminate,
        "saveCheckpoint": save_checkpoint,
        "restoreCheckpoint": restore_checkpoint,
        "override": override,
        "clearOverride": clear_override,
        "act": act,
        "startRecording": start_recording,
        "stopRecording": stop_recording,
        "replay": replay_mutation("open_loop"),
        "replayClosedLoop": replay_mutation("closed_loop"),
        "setPace": set_pace,
        "renewTakeover": renew_takeover,
        "emergencyStop": emergency_stop,
    },
    "Instance": {
        "model": instance_model,
        "environment": instance_environment,
        # An instance's insides: for viewers who may inspect it, empty for those who only watch.
        "checkpoints": inside([], instance_checkpoints),
        "recordings": inside([], instance_recordings),
        "overrides": inside([], instance_overrides),
        "parentCheckpoint": inside(None, linked_checkpoint("parentCheckpoint")),
        "headCheckpoint": inside(None, linked_checkpoint("headCheckpoint")),
        "worker": inside(None, instance_worker),
    },
    "Checkpoint": {"parent": linked_checkpoint("parent")},
    "Recording": {"downloadUrl": recording_url("arrow"), "minariUrl": recording_url("minari.zip")},
    "Replay": {"outputRecording": replay_output, "comparison": replay_comparison},
}
_PARTS = (_RESOLVERS, ACCESS_RESOLVERS, PERMISSION_RESOLVERS)
RESOLVERS: dict[str, dict[str, Resolver]] = {
    type_name: {name: resolver for part in _PARTS for name, resolver in part.get(type_name, {}).items()}
    for type_name in dict.fromkeys(type_name for part in _PARTS for type_name in part)
}

#: Subscription fields: field -> (subscribe: the source stream, resolve: one payload).
SUBSCRIPTIONS: dict[str, tuple[Resolver, Resolver]] = {
    "instanceEvents": (subscribe_instance_events, event_payload),
    "telemetry": (subscribe_telemetry, event_payload),
    "logs": (subscribe_logs, event_payload),
}
