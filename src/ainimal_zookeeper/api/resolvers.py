"""Resolvers: parse arguments, call the service, shape the answer. Nothing else.

Documents from the store already use the API's camelCase names, so most fields resolve with
graphql-core's default resolver; only fields that reach into other records are listed here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLResolveInfo

from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.errors import InvalidInput, ZookeeperError
from ainimal_zookeeper.service.zookeeper import LaunchRequest

Resolver = Callable[..., Any]


class NotAvailableYet(ZookeeperError):
    """A part of the API that a later version of this server fills in."""

    code = "NOT_IMPLEMENTED"


def _ctx(info: GraphQLResolveInfo) -> RequestContext:
    return info.context  # type: ignore[no-any-return]


# Query


def me(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    ctx = _ctx(info)
    permissions = ctx.zookeeper.authorizer.permissions(ctx.viewer)
    return {"username": ctx.viewer.username, "roles": list(ctx.viewer.roles), "permissions": permissions}


def models(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return [entry.spec for entry in ctx.zookeeper.models(ctx.viewer)]


def environments(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return [entry.spec for entry in ctx.zookeeper.environments(ctx.viewer)]


def instances(_: Any, info: GraphQLResolveInfo, status: list[str] | None = None) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return ctx.zookeeper.instances(ctx.viewer, status)


def instance(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002  # the API's name
    ctx = _ctx(info)
    return ctx.zookeeper.instance(ctx.viewer, id)


def checkpoint(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.checkpoint(ctx.viewer, id)


def recording(_: Any, info: GraphQLResolveInfo, id: str) -> None:  # noqa: A002
    # No recordings exist until recording lands (observe / record issue): unknown id -> null.
    return None


# Mutation


def login(_: Any, info: GraphQLResolveInfo, username: str, password: str) -> None:
    raise InvalidInput("this server runs open (no_auth): no login is needed; send requests without a token")


def launch(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    request = LaunchRequest(
        model=input["model"],
        environment=input.get("environment"),
        parameters=_object(input.get("parameters"), "parameters"),
        environment_parameters=_object(input.get("environmentParameters"), "environmentParameters"),
        mode=input.get("mode") or "INFER",
        checkpoint=input.get("checkpoint"),
        seed=input.get("seed"),
    )
    return ctx.zookeeper.launch(ctx.viewer, request)


def pause(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.pause(ctx.viewer, id)


def resume(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.resume(ctx.viewer, id)


def set_mode(_: Any, info: GraphQLResolveInfo, id: str, mode: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.set_mode(ctx.viewer, id, mode)


def terminate(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.terminate(ctx.viewer, id)


def save_checkpoint(_: Any, info: GraphQLResolveInfo, id: str, tag: str | None = None) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.save_checkpoint(ctx.viewer, id, tag)


def restore_checkpoint(_: Any, info: GraphQLResolveInfo, id: str, checkpoint: str) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.restore_checkpoint(ctx.viewer, id, checkpoint)


# Subscription


def subscribe_instance_events(_: Any, info: GraphQLResolveInfo, id: str | None = None) -> AsyncIterator[dict[str, Any]]:  # noqa: A002
    ctx = _ctx(info)
    return ctx.zookeeper.instance_events(ctx.viewer, id)


def event_payload(payload: dict[str, Any], _info: GraphQLResolveInfo, **_: Any) -> dict[str, Any]:
    return payload


def not_available_yet(feature: str) -> Resolver:
    """A resolver that says clearly which part of the API is not served yet."""

    def resolve(*_: Any, **__: Any) -> None:
        raise NotAvailableYet(f"{feature} is not available in this server version yet")

    return resolve


# Instance and Checkpoint fields that reach into other records


def instance_model(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    spec = _ctx(info).zookeeper.model_spec(doc["model"])
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
    spec = _ctx(info).zookeeper.environment_spec(name)
    return spec or {"name": name, "kind": "unknown", "parameters": [], "error": "no longer in the catalog"}


def instance_checkpoints(doc: dict[str, Any], info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return _ctx(info).zookeeper.checkpoints_of(doc["id"])


def linked_checkpoint(field: str) -> Resolver:
    """Resolve a field holding a checkpoint id into the checkpoint."""

    def resolve(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
        checkpoint_id = doc.get(field)
        if not checkpoint_id:
            return None
        ctx = _ctx(info)
        return ctx.zookeeper.checkpoint(ctx.viewer, checkpoint_id)

    return resolve


def instance_worker(doc: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any] | None:
    return {"pid": doc["pid"]} if doc.get("pid") else None


def empty_list(*_: Any, **__: Any) -> list[Any]:
    return []


def _object(value: Any, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise InvalidInput(f"{name} expects a JSON object of name -> value, got {type(value).__name__}")


RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "me": me,
        "models": models,
        "environments": environments,
        "instances": instances,
        "instance": instance,
        "checkpoint": checkpoint,
        "recording": recording,
    },
    "Mutation": {
        "login": login,
        "launch": launch,
        "pause": pause,
        "resume": resume,
        "setMode": set_mode,
        "terminate": terminate,
        "saveCheckpoint": save_checkpoint,
        "restoreCheckpoint": restore_checkpoint,
        "override": not_available_yet("override"),
        "clearOverride": not_available_yet("clearOverride"),
        "startRecording": not_available_yet("startRecording"),
        "stopRecording": not_available_yet("stopRecording"),
        "replay": not_available_yet("replay"),
    },
    "Instance": {
        "model": instance_model,
        "environment": instance_environment,
        "checkpoints": instance_checkpoints,
        "recordings": empty_list,
        "overrides": empty_list,
        "parentCheckpoint": linked_checkpoint("parentCheckpoint"),
        "headCheckpoint": linked_checkpoint("headCheckpoint"),
        "worker": instance_worker,
    },
    "Checkpoint": {"parent": linked_checkpoint("parent")},
}

#: Subscription fields: field -> (subscribe: the source stream, resolve: one payload).
SUBSCRIPTIONS: dict[str, tuple[Resolver, Resolver]] = {
    "instanceEvents": (subscribe_instance_events, event_payload),
    "telemetry": (not_available_yet("the telemetry subscription"), event_payload),
}
