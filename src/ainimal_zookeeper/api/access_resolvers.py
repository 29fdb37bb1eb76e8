"""Resolvers of sign-in, administration and field visibility.

- Sign-in: `login`, `signInWithGoogle`, `createAccount`, `setPassword`, `me`, `authProviders`.
- Administration (roles, grants, accounts): each call is authorized by `auth.Administration`
  through the same authorizer as every other request.
- Visibility: an Instance's insides (parameters, owner, architecture, state, error, seed,
  worker, checkpoints, recordings, overrides) are shown only to viewers who may `inspect` it;
  others, who may only watch it, get null (or an empty object / list where the core schema
  says the field is never null). Event messages, which can name people and errors, likewise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.api.permission_resolvers import VIEWER_KEY
from ainimal_zookeeper.auth.administration import Administration
from ainimal_zookeeper.auth.grants import Grant
from ainimal_zookeeper.domain.access import ACTIONS, Resource, Viewer, instance_resource
from ainimal_zookeeper.errors import Forbidden, InvalidInput
from ainimal_zookeeper.ports.authorization import authorize
from ainimal_zookeeper.ports.identity import Session, SignIn

__all__ = ["ACCESS_RESOLVERS", "inside"]

Resolver = Callable[..., Any]
_OPEN = "this server runs open (no_auth): there are no accounts, roles or grants to administer"
#: Actions that can apply to an instance (launching is done to models and environments).
INSTANCE_ACTIONS = tuple(action for action in ACTIONS if action != "launch")


def _ctx(info: GraphQLResolveInfo) -> RequestContext:
    return info.context  # type: ignore[no-any-return]


def _sign_in(ctx: RequestContext) -> SignIn:
    if ctx.sign_in is None:
        raise InvalidInput("this server was built without sign-in")
    return ctx.sign_in


def _administration(ctx: RequestContext) -> Administration:
    if ctx.administration is None:
        raise InvalidInput(_OPEN)
    return ctx.administration


def viewer_info(ctx: RequestContext, viewer: Viewer) -> dict[str, Any]:
    """The API's Viewer: who, with which roles, and what they may do."""
    permissions = ctx.zookeeper.authorizer.permissions(viewer)
    shown = {"username": viewer.username, "roles": list(viewer.roles), "permissions": permissions}
    return {**shown, VIEWER_KEY: viewer}  # for Viewer.globalPermissions (permission_resolvers.py)


def _session(ctx: RequestContext, session: Session) -> dict[str, Any]:
    return {
        "token": session.token,
        "expiresAt": session.expires_at.isoformat(),
        "viewer": viewer_info(ctx, session.viewer),
    }


# Query


def me(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    ctx = _ctx(info)
    return viewer_info(ctx, ctx.viewer)


def auth_providers(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return _sign_in(_ctx(info)).providers_for_client()


def users(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    return [_account(entry) for entry in _administration(ctx).list_accounts(ctx.viewer)]


def grants(
    _: Any, info: GraphQLResolveInfo, kind: str | None = None, resource: str | None = None, subject: str | None = None
) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    found = _administration(ctx).list_grants(ctx.viewer, kind=kind, resource=resource, subject=subject)
    return [_grant(grant) for grant in found]


# Mutation: sign-in


def login(_: Any, info: GraphQLResolveInfo, username: str, password: str) -> dict[str, Any]:
    ctx = _ctx(info)
    return _session(ctx, _sign_in(ctx).login(username, password, ctx.address))


def sign_in_with_google(_: Any, info: GraphQLResolveInfo, idToken: str, provider: str | None = None) -> dict[str, Any]:  # noqa: N803  # the API's name
    ctx = _ctx(info)
    return _session(ctx, _sign_in(ctx).sign_in_with_google(idToken, provider))


def create_account(
    _: Any, info: GraphQLResolveInfo, username: str, password: str, roles: list[str] | None = None
) -> dict[str, Any]:
    ctx = _ctx(info)
    created = _sign_in(ctx).create_account(username, password, ctx.viewer, roles, ctx.address)
    return viewer_info(ctx, created)


def set_password(
    _: Any,
    info: GraphQLResolveInfo,
    username: str,
    password: str,
    currentPassword: str | None = None,  # noqa: N803
) -> bool:
    """Your own password with the current one; anyone's with `manage` on users (admins)."""
    ctx = _ctx(info)
    sign_in = _sign_in(ctx)
    if ctx.viewer.username is None:
        raise Forbidden("sign in to change a password")
    if username.strip().lower() == ctx.viewer.username:
        if not currentPassword:
            raise InvalidInput("changing your own password needs currentPassword")
        sign_in.login(username, currentPassword, ctx.address)  # checked, and rate-limited, like a login
    else:
        authorize(ctx.zookeeper.authorizer, ctx.viewer, "manage", Resource("user", username))
    sign_in.set_password(username, password)
    return True


# Mutation: administration


def set_roles(_: Any, info: GraphQLResolveInfo, username: str, roles: list[str]) -> list[str]:
    ctx = _ctx(info)
    return list(_administration(ctx).set_roles(ctx.viewer, username, roles))


def grant(
    _: Any, info: GraphQLResolveInfo, subject: str, kind: str, resource: str, actions: list[str]
) -> dict[str, Any]:
    ctx = _ctx(info)
    return _grant(_administration(ctx).grant(ctx.viewer, subject, kind, resource, actions))


def revoke(
    _: Any, info: GraphQLResolveInfo, subject: str, kind: str, resource: str, actions: list[str] | None = None
) -> dict[str, Any] | None:
    ctx = _ctx(info)
    left = _administration(ctx).revoke(ctx.viewer, subject, kind, resource, actions)
    return _grant(left) if left is not None else None


def disable_account(_: Any, info: GraphQLResolveInfo, username: str, disabled: bool = True) -> bool:
    ctx = _ctx(info)
    _administration(ctx).disable_account(ctx.viewer, username, disabled)
    return True


def delete_account(_: Any, info: GraphQLResolveInfo, username: str) -> bool:
    ctx = _ctx(info)
    _administration(ctx).delete_account(ctx.viewer, username)
    ctx.zookeeper.ownership.disown(username)  # a later account of this name must not inherit its instances
    return True


def set_public(_: Any, info: GraphQLResolveInfo, id: str, public: bool) -> dict[str, Any]:  # noqa: A002  # the API's name
    ctx = _ctx(info)
    return ctx.zookeeper.control.set_public(ctx.viewer, id, public).to_document()


# Visibility


def _field(doc: dict[str, Any], info: GraphQLResolveInfo) -> Any:
    return doc.get(info.field_name)


def inside(empty: Any = None, resolve: Resolver = _field) -> Resolver:
    """A resolver for an Instance field only viewers who may inspect it see; `empty` for the others."""

    def guarded(doc: dict[str, Any], info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        if not _ctx(info).may_inspect(doc):
            return copy.copy(empty)
        return resolve(doc, info, **kwargs)

    return guarded


def instance_public(doc: dict[str, Any], _info: GraphQLResolveInfo) -> bool:
    return doc.get("public") is True


def instance_permissions(doc: dict[str, Any], info: GraphQLResolveInfo) -> list[str]:
    ctx = _ctx(info)
    resource = instance_resource(doc)
    return [action for action in INSTANCE_ACTIONS if ctx.zookeeper.authorizer.allows(ctx.viewer, action, resource)]


def event_message(payload: dict[str, Any], info: GraphQLResolveInfo) -> str | None:
    """An event's message (it can name people, checkpoints and errors) for those who may inspect."""
    message = payload.get("message")
    if message is None or not _ctx(info).may_inspect_id(str(payload["instance"])):
        return None
    return str(message)


def _account(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "username": entry["username"],
        "provider": entry.get("provider") or "local",
        "email": entry.get("email"),
        "disabled": bool(entry.get("disabled")),
        "createdAt": entry.get("created_at") or None,
        "roles": list(entry.get("roles") or []),
    }


def _grant(grant: Grant) -> dict[str, Any]:
    shown = grant.to_json()
    return {
        "subject": shown["subject"],
        "kind": shown["kind"],
        "resource": shown["resource"],
        "actions": shown["actions"],
        "grantedBy": shown["granted_by"],
    }


ACCESS_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {"me": me, "authProviders": auth_providers, "users": users, "grants": grants},
    "Mutation": {
        "login": login,
        "signInWithGoogle": sign_in_with_google,
        "createAccount": create_account,
        "setPassword": set_password,
        "setRoles": set_roles,
        "grant": grant,
        "revoke": revoke,
        "disableAccount": disable_account,
        "deleteAccount": delete_account,
        "setPublic": set_public,
    },
    "Instance": {
        "public": instance_public,
        "permissions": instance_permissions,
        "parameters": inside({}),
        "owner": inside(),
        "architecture": inside(),
        "state": inside(),
        "error": inside(),
        "seed": inside(),
    },
    "InstanceEvent": {"message": event_message},
}
