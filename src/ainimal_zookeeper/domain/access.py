"""Who asks and what about: the viewer of a request, the resource acted on, and the actions.

What each action covers (docs/access.md has the per-operation table):

- view: see that a resource exists and watch it: an instance's status, mode, step, metrics,
  its events and its inputs / outputs / reward / frame telemetry.
- inspect: look inside: an instance's parameters, owner, architecture, state, errors, its
  activations / weights / state streams, checkpoints, recordings and replays.
- launch (models, environments), control (pause, resume, terminate, replay), override
  (override, clearOverride, act), train (setMode to TRAIN or BOTH), checkpoint (save, restore),
  record (start and stop recordings), delete (reserved for removing stored things), manage
  (marking instances public, granting, and on users: accounts and roles).

Who decides is the `Authorizer` port (`ports/authorization.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTIONS", "ANONYMOUS", "LOCAL_OPERATOR", "Resource", "Viewer", "instance_resource"]

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

#: Who sends a request without a token to a server with sign-in: sees only what is public.
ANONYMOUS = Viewer(None, ("anonymous",))


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
