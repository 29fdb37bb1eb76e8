"""The one place every resolver asks "may this viewer do this?".

The federated-access issue fills in real roles and grants; until then the server runs open
(`no_auth`) and `OpenAuthorizer` allows everything, while every call site already names the
action and the resource it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ainimal_zookeeper.errors import Forbidden

#: What can be done to a resource; the grants of the federated-access issue use these names.
ACTIONS = ("view", "launch", "control", "override", "train", "checkpoint", "record", "delete", "manage")


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user name (None when anonymous) and roles."""

    username: str | None
    roles: tuple[str, ...] = field(default_factory=tuple)


#: The viewer of a server running open: a local operator who may do everything.
LOCAL_OPERATOR = Viewer(username="local", roles=("admin",))


@dataclass(frozen=True)
class Resource:
    """What is acted on: a kind ("model", "environment", "instance") and its id or name."""

    kind: str
    id: str | None = None
    owner: str | None = None


class Authorizer(Protocol):
    """Decides what viewers may do."""

    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        """Whether `viewer` may do `action` to `resource`."""
        ...

    def permissions(self, viewer: Viewer) -> dict[str, Any]:
        """What the viewer may do, for the client to simplify its UI."""
        ...


class OpenAuthorizer:
    """Everyone may do everything: the `no_auth` server on a laptop."""

    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        return True

    def permissions(self, viewer: Viewer) -> dict[str, Any]:
        return {"open": True, **{action: True for action in ACTIONS}}


def authorize(authorizer: Authorizer, viewer: Viewer, action: str, resource: Resource) -> None:
    """Raise `Forbidden` unless `viewer` may do `action` to `resource`."""
    if not authorizer.allows(viewer, action, resource):
        who = viewer.username or "an anonymous viewer"
        raise Forbidden(f"{who} may not {action} {resource.kind} {resource.id or ''}".rstrip())
