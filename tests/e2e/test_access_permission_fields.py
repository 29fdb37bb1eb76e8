"""The server says what a viewer may do, over the real HTTP API, so clients only follow it.

`me { globalPermissions }` for the whole server, `Instance.permissions` per instance and
`ModelSpec.permissions` / `EnvSpec.permissions` per catalog entry: for the instance's owner,
a viewer, an admin and anonymous.
"""

from __future__ import annotations

import pytest
from access_support import ADMIN, PASSWORD, AccessZoo

ME = "{ me { username globalPermissions } }"
INSTANCE = "query($id: ID!) { instance(id: $id) { id permissions } }"
CATALOG = "{ models { name permissions } environments { name permissions } }"


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    zoo = AccessZoo(tmp_path_factory.mktemp("zk-permission-fields"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


@pytest.fixture(scope="module")
def owned(zoo):
    """A running instance the user "uma" launched."""
    return zoo.launch(zoo.owner)


def test_the_owner_may_do_everything_but_manage_to_its_instance(zoo, owned):
    permissions = zoo.owner.gql(INSTANCE, {"id": owned["id"]})["instance"]["permissions"]
    assert permissions == ["view", "inspect", "control", "override", "train", "checkpoint", "record", "delete"]


def test_a_viewer_may_only_watch_an_instance_and_anonymous_does_not_see_it(zoo, owned):
    assert zoo.viewer.gql(INSTANCE, {"id": owned["id"]})["instance"]["permissions"] == ["view"]
    assert zoo.anonymous.gql(INSTANCE, {"id": owned["id"]})["instance"] is None


def test_global_permissions_follow_the_roles(zoo):
    seen = {role: client.gql(ME)["me"]["globalPermissions"] for role, client in zoo.roles().items()}
    assert seen["admin"] == ["VIEW", "LAUNCH", "ADMINISTER", "MANAGE_USERS"]
    assert seen["operator"] == ["VIEW", "LAUNCH", "ADMINISTER"]  # views users, does not manage them
    assert seen["owner"] == ["VIEW", "LAUNCH"]
    assert seen["viewer"] == ["VIEW"]
    assert seen["anonymous"] == ["VIEW"]  # public instances


def test_a_session_carries_the_global_permissions_of_who_signed_in(zoo):
    session = zoo.anonymous.gql(
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { viewer { username globalPermissions } } }",
        {"u": ADMIN, "p": PASSWORD},
    )["login"]
    assert session["viewer"] == {
        "username": ADMIN,
        "globalPermissions": ["VIEW", "LAUNCH", "ADMINISTER", "MANAGE_USERS"],
    }


def test_catalog_entries_say_who_may_launch_and_train_them(zoo):
    user = zoo.owner.gql(CATALOG)
    assert user["models"] == [{"name": "Counter", "permissions": ["view", "launch"]}]
    assert user["environments"] == [{"name": "CartPole", "permissions": ["view", "launch"]}]
    viewer = zoo.viewer.gql(CATALOG)
    assert viewer["models"] == [{"name": "Counter", "permissions": ["view"]}]
    admin = zoo.admin.gql(CATALOG)
    assert {"launch", "train"} <= set(admin["models"][0]["permissions"])
    assert zoo.anonymous.gql(CATALOG) == {"models": [], "environments": []}  # anonymous sees no catalog
