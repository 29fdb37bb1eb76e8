"""Roles plus grants decide what a viewer may do: the `Authorizer` a server with sign-in uses.

What each role may do without any grant (the defaults; `authorization_provider.role_defaults`
changes them per role and kind):

| role      | models / environments | instances                                   | users (accounts, roles) |
|-----------|-----------------------|---------------------------------------------|-------------------------|
| admin     | everything            | everything                                  | everything              |
| operator  | everything            | everything (incl. manage: mark public)      | all but manage          |
| user      | view, launch          | all but manage on instances they own        | -                       |
| viewer    | view                  | view (watch: not inspect)                   | -                       |
| anonymous | -                     | view on instances marked public             | -                       |

"view" on an instance is watching it (status, metrics, inputs, outputs, reward, frames);
"inspect" is looking inside (parameters, owner, architecture, state, activations, weights,
checkpoints, recordings). Viewers and the public watch; owners and operators also inspect.

Users may launch every model by default: a zookeeper exists to share its catalog, and the
operator decides who becomes a user. To make launching opt-in per model, set
`role_defaults: {user: {model: [view]}}` and grant `launch` on chosen models.

Anyone, signed in or not, may view an instance marked public. Grants add to all of this: to a
user by name, or to everyone with a role (`role:viewer`), for one resource or `*`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ainimal_zookeeper.auth.grants import ANY, KINDS, ROLES, Grant, GrantStore
from ainimal_zookeeper.domain.access import ACTIONS, Resource, Viewer
from ainimal_zookeeper.errors import ConfigError

__all__ = ["DEFAULT_ROLE_ACTIONS", "OWNER_ACTIONS", "PUBLIC_ACTIONS", "RoleAuthorizer", "role_actions_from_config"]

ALL = frozenset(ACTIONS)
RoleActions = Mapping[str, Mapping[str, frozenset[str]]]

DEFAULT_ROLE_ACTIONS: RoleActions = {
    "admin": {kind: ALL for kind in KINDS},
    "operator": {"model": ALL, "environment": ALL, "instance": ALL, "user": ALL - {"manage"}},
    "user": {"model": frozenset({"view", "launch"}), "environment": frozenset({"view", "launch"})},
    "viewer": {"model": frozenset({"view"}), "environment": frozenset({"view"}), "instance": frozenset({"view"})},
    "anonymous": {},
}
#: What the owner of an instance may do to it. Marking it public (manage) is the operators' call.
OWNER_ACTIONS = ALL - {"manage"}
#: Roles whose holders control the instances they own (a demoted user loses that).
OWNER_ROLES = frozenset({"admin", "operator", "user"})
#: What anybody may do to an instance marked public.
PUBLIC_ACTIONS = frozenset({"view"})


def role_actions_from_config(raw: Any, where: str = "authorization_provider.role_defaults") -> RoleActions:
    """The defaults with the config's `role_defaults: {role: {kind: [actions]}}` laid over them.

    Raises:
        ConfigError: naming the role, kind or action that is not known.
    """
    merged = {role: dict(kinds) for role, kinds in DEFAULT_ROLE_ACTIONS.items()}
    if raw is None:
        return merged
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} expects {{role: {{kind: [actions]}}}}, got {raw!r}")
    for role, kinds in raw.items():
        if role not in ROLES or role == "admin":
            raise ConfigError(
                f"{where}.{role}: expected one of {', '.join(ROLES[1:])} (admins may always do everything)"
            )
        if not isinstance(kinds, Mapping):
            raise ConfigError(f"{where}.{role} expects {{kind: [actions]}}, got {kinds!r}")
        for kind, actions in kinds.items():
            merged[role][kind] = _actions(actions, f"{where}.{role}.{kind}", kind)
    return merged


def _actions(actions: Any, where: str, kind: str) -> frozenset[str]:
    if kind not in KINDS:
        raise ConfigError(f"{where}: unknown kind; expected one of {', '.join(KINDS)}")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise ConfigError(f"{where} expects a list of actions, got {actions!r}")
    chosen = set(ACTIONS) if ANY in actions else set(actions)
    unknown = sorted(chosen - set(ACTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown action(s) {', '.join(unknown)}; expected some of {', '.join(ACTIONS)}")
    return frozenset(chosen)


def effective_roles(viewer: Viewer) -> tuple[str, ...]:
    """The viewer's roles; a viewer without a name is anonymous whatever it claims."""
    if viewer.username is None:
        return ("anonymous",)
    return tuple(viewer.roles)


class RoleAuthorizer:
    """Implements `ports.authorization.Authorizer` from roles, ownership, public flags and grants.

    Reads `resource.public` with `getattr(..., False)`, so it works before `Resource` gains that field.
    """

    def __init__(self, grants: GrantStore, role_actions: RoleActions | None = None) -> None:
        self._grants = grants
        self._role_actions = role_actions or DEFAULT_ROLE_ACTIONS

    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        """Whether `viewer` may do `action` to `resource` (unknown actions: never)."""
        if action not in ALL:
            return False
        roles = effective_roles(viewer)
        if "admin" in roles:
            return True
        if action in self._by_role(roles, resource.kind):
            return True
        if resource.kind == "instance" and self._instance_rule(viewer, roles, action, resource):
            return True
        return any(
            action in grant.actions
            for grant in self._grants.grants_for(viewer.username, roles)
            if grant.kind == resource.kind and grant.resource in (ANY, resource.id)
        )

    def permissions(self, viewer: Viewer) -> dict[str, Any]:
        """What the viewer may do, for the client to simplify its UI.

        Returns:
            `{"open": False, "username", "roles",
              "global": {kind: [actions on every resource of that kind]},
              "owned": {"instance": [actions on instances the viewer owns]},
              "public": {"instance": ["view"]},
              "grants": [{"kind", "id", "actions"}],     # per-resource extras
              "<action>": bool, ...}`                     # may do it to something
        """
        roles = effective_roles(viewer)
        grants = self._grants.grants_for(viewer.username, roles)
        everywhere = {kind: sorted(self._global(roles, kind, grants)) for kind in KINDS}
        owned = sorted(OWNER_ACTIONS) if viewer.username and OWNER_ROLES & set(roles) else []
        specific = _specific(grants)
        public = sorted(PUBLIC_ACTIONS)
        somewhere = set(owned) | set(public) | {a for acts in everywhere.values() for a in acts}
        somewhere |= {a for grant in specific for a in grant["actions"]}
        return {
            "open": False,
            "username": viewer.username,
            "roles": list(roles),
            "global": everywhere,
            "owned": {"instance": owned},
            "public": {"instance": public},
            "grants": specific,
            **{action: action in somewhere for action in ACTIONS},
        }

    def _by_role(self, roles: Iterable[str], kind: str) -> frozenset[str]:
        allowed: frozenset[str] = frozenset()
        for role in roles:
            allowed |= self._role_actions.get(role, {}).get(kind, frozenset())
        return allowed

    def _global(self, roles: tuple[str, ...], kind: str, grants: list[Grant]) -> frozenset[str]:
        if "admin" in roles:
            return ALL
        wildcard = {a for g in grants if g.kind == kind and g.resource == ANY for a in g.actions}
        return self._by_role(roles, kind) | wildcard

    @staticmethod
    def _instance_rule(viewer: Viewer, roles: tuple[str, ...], action: str, resource: Resource) -> bool:
        if action in PUBLIC_ACTIONS and getattr(resource, "public", False) is True:
            return True
        owner = resource.owner
        return (
            viewer.username is not None
            and owner is not None
            and owner == viewer.username
            and bool(OWNER_ROLES & set(roles))
            and action in OWNER_ACTIONS
        )


def _specific(grants: list[Grant]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], set[str]] = {}
    for grant in grants:
        if grant.resource != ANY:
            merged.setdefault((grant.kind, grant.resource), set()).update(grant.actions)
    return [{"kind": k, "id": r, "actions": sorted(a)} for (k, r), a in sorted(merged.items())]
