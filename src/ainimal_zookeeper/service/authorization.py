"""The one place every resolver asks "may this viewer do this?".

Every call site names an action from `ACTIONS` and the resource it acts on; the `Authorizer`
decides. A server running open (`no_auth`) uses `OpenAuthorizer`, which allows everything; a
server with sign-in uses `auth.RoleAuthorizer` (roles, ownership, public instances, grants).

What each action covers (docs/access.md has the per-operation table):

- view: see that a resource exists and watch it: an instance's status, mode, step, metrics,
  its events and its inputs / outputs / reward / frame telemetry.
- inspect: look inside: an instance's parameters, owner, architecture, state, errors, its
  activations / weights / state streams, checkpoints, recordings and replays.
- launch (models, environments), control (pause, resume, terminate, replay), override
  (override, clearOverride, act), train (setMode to TRAIN or BOTH), checkpoint (save, restore),
  record (start and stop recordings), delete (reserved for removing stored things), manage
  (marking instances public, granting, and on users: accounts and roles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ainimal_zookeeper.errors import Forbidden

#: What can be done to a resource; roles and grants are written with these names.
ACTIONS = (
    "view",
    "inspect",
    "launch",
    "control",
    "override",
    "train",
    "checkpoint",
    "record",
    "delete",
    "manage",
)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user name (None when anonymous) and roles."""

    username: str | None
    roles: tuple[str, ...] = field(default_factory=tuple)


#: The viewer of a server running open: a local operator who may do everything.
LOCAL_OPERATOR = Viewer(username="local", roles=("admin",))


@dataclass(frozen=True)
class Resource:
    """What is acted on: a kind ("model", "environment", "instance", "user") and its id or name.

    `owner` and `public` matter for instances only: owners control their own instances, and
    anybody may watch (view) an instance an operator marked public.
    """

    kind: str
    id: str | None = None
    owner: str | None = None
    public: bool = False


def instance_resource(doc: Mapping[str, Any]) -> Resource:
    """The resource of a stored instance document: its id, owner and public flag."""
    return Resource("instance", str(doc["id"]), doc.get("owner"), doc.get("public") is True)


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
    """Raise `Forbidden` unless `viewer` may do `action` to `resource`.

    Callers check visibility first (a hidden instance is NOT_FOUND, never FORBIDDEN), so the
    refusal names only what the viewer can already see.
    """
    if not authorizer.allows(viewer, action, resource):
        who = viewer.username or "an anonymous viewer"
        raise Forbidden(f"{who} may not {action} {resource.kind} {resource.id or ''}".rstrip())
