"""Who may do what: every role against every action on models, environments, instances and users."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ainimal_zookeeper.auth.role_authorizer import RoleAuthorizer, role_actions_from_config
from ainimal_zookeeper.domain.access import ACTIONS, Resource, Viewer
from ainimal_zookeeper.errors import ConfigError


@dataclass(frozen=True)
class PublicResource(Resource):
    """A Resource with the `public` field the lead adds to domain.access.Resource."""

    public: bool = False


ADMIN = Viewer("ann", ("admin",))
OPERATOR = Viewer("otto", ("operator",))
USER = Viewer("ursula", ("user",))
VIEWER = Viewer("vic", ("viewer",))
ANONYMOUS = Viewer(None, ("anonymous",))
NOBODY = Viewer("nora", ())

MODEL = Resource("model", "cartpole-dqn")
ENV = Resource("environment", "CartPole-v1")
OWN = Resource("instance", "i-1", owner="ursula")
OTHERS = Resource("instance", "i-2", owner="otto")
PUBLIC = PublicResource("instance", "i-3", owner="otto", public=True)
SOMEONE = Resource("user", "vic")

ALL = set(ACTIONS)
VIEW = {"view"}
#: role -> resource -> actions allowed, straight from the table in role_authorizer's docstring.
MATRIX = {
    ADMIN: {MODEL: ALL, ENV: ALL, OWN: ALL, OTHERS: ALL, PUBLIC: ALL, SOMEONE: ALL},
    OPERATOR: {MODEL: ALL, ENV: ALL, OWN: ALL, OTHERS: ALL, PUBLIC: ALL, SOMEONE: ALL - {"manage"}},
    USER: {
        MODEL: {"view", "launch"},
        ENV: {"view", "launch"},
        OWN: ALL - {"manage"},
        OTHERS: set(),
        PUBLIC: VIEW,
        SOMEONE: set(),
    },
    VIEWER: {MODEL: VIEW, ENV: VIEW, OWN: VIEW, OTHERS: VIEW, PUBLIC: VIEW, SOMEONE: set()},
    ANONYMOUS: {MODEL: set(), ENV: set(), OWN: set(), OTHERS: set(), PUBLIC: VIEW, SOMEONE: set()},
    NOBODY: {MODEL: set(), ENV: set(), OWN: set(), OTHERS: set(), PUBLIC: VIEW, SOMEONE: set()},
}
CASES = [
    pytest.param(
        viewer,
        resource,
        action,
        action in allowed,
        id=f"{viewer.roles or ('none',)}-{resource.kind}:{resource.id}-{action}",
    )
    for viewer, row in MATRIX.items()
    for resource, allowed in row.items()
    for action in ACTIONS
]


@pytest.fixture
def authorizer(grants):
    return RoleAuthorizer(grants)


@pytest.mark.parametrize(("viewer", "resource", "action", "expected"), CASES)
def test_the_role_matrix(authorizer, viewer, resource, action, expected):
    assert authorizer.allows(viewer, action, resource) is expected


def test_unknown_actions_are_never_allowed(authorizer):
    assert not authorizer.allows(ADMIN, "teleport", MODEL)


def test_a_nameless_viewer_is_anonymous_whatever_roles_it_claims(authorizer):
    assert not authorizer.allows(Viewer(None, ("admin",)), "view", MODEL)


def test_a_demoted_owner_loses_control_of_their_instances(authorizer):
    assert not authorizer.allows(Viewer("ursula", ("viewer",)), "control", OWN)


def test_a_public_flag_that_is_not_true_does_not_count(authorizer):
    assert not authorizer.allows(ANONYMOUS, "view", PublicResource("instance", "i", public="yes"))


class TestGrants:
    def test_a_grant_to_a_user_opens_one_resource(self, authorizer, grants):
        grants.grant("vic", "instance", "i-2", ["control"])
        assert authorizer.allows(VIEWER, "control", OTHERS)
        assert not authorizer.allows(VIEWER, "control", Resource("instance", "i-9", owner="otto"))

    def test_a_star_grant_opens_every_resource_of_a_kind(self, authorizer, grants):
        grants.grant("ursula", "instance", "*", ["view"])
        assert authorizer.allows(USER, "view", OTHERS) and not authorizer.allows(USER, "control", OTHERS)

    def test_a_grant_to_a_role_reaches_anonymous_viewers(self, authorizer, grants):
        grants.grant("role:anonymous", "model", "cartpole-dqn", ["view"])
        assert authorizer.allows(ANONYMOUS, "view", MODEL)

    def test_a_grant_by_name_never_reaches_an_anonymous_viewer(self, authorizer, grants):
        grants.grant("anonymous", "model", "*", ["view"])
        assert not authorizer.allows(ANONYMOUS, "view", MODEL)


class TestRoleDefaults:
    def test_launching_can_be_made_opt_in_per_model(self, grants):
        authorizer = RoleAuthorizer(grants, role_actions_from_config({"user": {"model": ["view"]}}))
        assert not authorizer.allows(USER, "launch", MODEL)
        grants.grant("ursula", "model", "cartpole-dqn", ["launch"])
        assert authorizer.allows(USER, "launch", MODEL)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ({"admin": {"model": ["view"]}}, "admins may always"),
            ({"wizard": {"model": ["view"]}}, "role_defaults.wizard"),
            ({"user": {"planet": ["view"]}}, "unknown kind"),
            ({"user": {"model": ["fly"]}}, "unknown action"),
            ({"user": ["view"]}, "expects"),
        ],
    )
    def test_bad_defaults_name_the_key(self, raw, message):
        with pytest.raises(ConfigError, match=message):
            role_actions_from_config(raw)


class TestPermissions:
    def test_an_anonymous_viewer_may_only_watch_public_instances(self, authorizer):
        permissions = authorizer.permissions(ANONYMOUS)
        assert permissions["open"] is False and permissions["roles"] == ["anonymous"]
        assert all(actions == [] for actions in permissions["global"].values())
        assert permissions["public"] == {"instance": ["view"]} and permissions["owned"] == {"instance": []}
        assert permissions["view"] is True and permissions["launch"] is False and permissions["control"] is False

    def test_a_user_sees_what_they_may_launch_and_do_to_their_own(self, authorizer, grants):
        grants.grant("ursula", "instance", "i-2", ["view", "record"])
        permissions = authorizer.permissions(USER)
        assert permissions["global"]["model"] == ["launch", "view"]
        assert "manage" not in permissions["owned"]["instance"] and "train" in permissions["owned"]["instance"]
        assert permissions["grants"] == [{"kind": "instance", "id": "i-2", "actions": ["record", "view"]}]
        assert permissions["launch"] and permissions["control"] and not permissions["manage"]

    def test_an_admin_may_do_everything(self, authorizer):
        permissions = authorizer.permissions(ADMIN)
        assert all(sorted(actions) == sorted(ACTIONS) for actions in permissions["global"].values())
        assert all(permissions[action] for action in ACTIONS)

    def test_permissions_are_plain_json(self, authorizer):
        import json

        json.dumps(authorizer.permissions(USER))
