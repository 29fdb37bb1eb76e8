"""Signing in and sharing, over the real HTTP API: the OAuth code flow through /auth/<provider>/...
against a local stand-in provider, public instances, grants, and the first admin."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from access_support import PASSWORD, AccessServer, AccessZoo, Client, create_admin

from support import REPO, ServerProcess, wait_for

SET_PUBLIC = "mutation($id: ID!, $p: Boolean!) { setPublic(id: $id, public: $p) { public } }"
INSTANCE = "query($id: ID!) { instance(id: $id) { id status public permissions parameters owner state seed } }"
TELEMETRY = "subscription($id: ID!, $s: [String!]) { telemetry(id: $id, streams: $s, maxHz: 20) { step streams } }"
EVENTS = "subscription($id: ID) { instanceEvents(id: $id) { instance kind } }"
#: What an anonymous viewer of a public instance tries and is refused.
MUTATIONS = [
    "mutation($id: ID!) { pause(id: $id) { status } }",
    "mutation($id: ID!) { setMode(id: $id, mode: TRAIN) { mode } }",
    "mutation($id: ID!) { saveCheckpoint(id: $id) { id } }",
    "mutation($id: ID!) { startRecording(id: $id) { id } }",
    'mutation($id: ID!) { override(id: $id, input: {target: "outputs/action", value: 1}) { id } }',
    "mutation($id: ID!) { setPublic(id: $id, public: false) { public } }",
    "mutation($id: ID!) { terminate(id: $id) { status } }",
]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    zoo = AccessZoo(tmp_path_factory.mktemp("zk-access-sign-in"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


def session_from(page: httpx.Response) -> dict:
    found = re.search(r'<script type="application/json" id="zk-session">(.*?)</script>', page.text)
    assert found, page.text
    return json.loads(found.group(1))


def test_the_sign_in_screen_learns_the_providers_without_secrets(zoo):
    providers = zoo.anonymous.gql("{ authProviders { type name canCreateAccount authorizePath clientId } }")
    assert providers["authProviders"] == [
        {"type": "jwt", "name": "local", "canCreateAccount": False, "authorizePath": None, "clientId": None},
        {
            "type": "github",
            "name": "github",
            "canCreateAccount": None,
            "authorizePath": "/auth/github/authorize",
            "clientId": None,
        },
    ]


def test_signing_in_with_github_goes_through_the_routes_and_hands_the_session_to_the_page(zoo):
    with httpx.Client(base_url=zoo.server.url) as browser:
        start = browser.get("/auth/github/authorize", follow_redirects=False)
        assert start.status_code == 302 and start.headers["location"].startswith(f"{zoo.provider.url}/authorize?")
        assert (
            "httponly" in start.headers["set-cookie"].lower() and "samesite=lax" in start.headers["set-cookie"].lower()
        )
        at_provider = httpx.get(start.headers["location"], follow_redirects=False)
        callback = at_provider.headers["location"]
        assert at_provider.status_code == 302 and callback.startswith(zoo.callback)
        page = browser.get(callback)
        replayed = browser.get(callback)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert (
        page.headers["referrer-policy"] == "no-referrer"
        and "script-src 'nonce-" in page.headers["content-security-policy"]
    )
    session = session_from(page)
    assert session["token"] not in callback and session["username"] == "github:octocat"
    me = Client(zoo.server, session["token"]).gql("{ me { username roles } }")["me"]
    assert me == {"username": "github:octocat", "roles": ["viewer"]}  # outside identities start as viewers
    assert replayed.status_code == 401  # a code and state work once


def test_a_callback_from_another_browser_is_refused_before_the_code_is_redeemed(zoo):
    with httpx.Client(base_url=zoo.server.url) as victim:
        start = victim.get("/auth/github/authorize", follow_redirects=False)
    callback = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    redeemed = len(zoo.provider.token_requests)
    with httpx.Client(base_url=zoo.server.url) as other:  # no state cookie: login CSRF
        refused = other.get(callback, headers={"Accept": "text/html"})
    assert refused.status_code == 401 and "not started in this browser" in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert len(zoo.provider.token_requests) == redeemed


def test_a_declined_sign_in_says_so(zoo):
    with httpx.Client(base_url=zoo.server.url) as browser:
        start = browser.get("/auth/github/authorize", follow_redirects=False)
        state = re.search(r"state=([^&]+)", start.headers["location"]).group(1)
        declined = browser.get("/auth/github/callback", params={"state": state, "error": "access_denied"})
    assert declined.status_code == 401 and "access_denied" in declined.json()["errors"][0]["message"]
    assert zoo.anonymous.get("/auth/gitea/authorize", follow_redirects=False).status_code == 404


def test_a_public_instance_is_watchable_anonymously_and_nothing_more(zoo):
    ids = {"id": zoo.launch(zoo.owner)["id"]}
    assert zoo.anonymous.gql(INSTANCE, ids)["instance"] is None
    assert zoo.owner.code(SET_PUBLIC, {**ids, "p": True}) == "FORBIDDEN"
    assert zoo.operator.gql(SET_PUBLIC, {**ids, "p": True})["setPublic"]["public"] is True
    anonymous = zoo.anonymous
    assert ids["id"] in [i["id"] for i in anonymous.gql("{ instances { id } }")["instances"]]
    seen = anonymous.gql(INSTANCE, ids)["instance"]
    assert seen["public"] is True and seen["permissions"] == ["view"] and seen["status"] == "RUNNING"
    assert seen["parameters"] == {} and seen["owner"] is seen["state"] is seen["seed"] is None
    assert anonymous.gql('query($id: ID!) { latestFrame(id: $id, streams: ["inputs"]) { step } }', ids)["latestFrame"]
    with anonymous.subscribe(TELEMETRY, {**ids, "s": ["inputs", "outputs", "reward", "frame"]}) as stream:
        assert stream.status == 200 and stream.next()["telemetry"]["streams"]["frame"]
    with anonymous.subscribe(TELEMETRY, {**ids, "s": ["state"]}) as stream:
        assert stream.status == 200 and stream.refused_code() == "FORBIDDEN"
    with anonymous.subscribe(EVENTS, ids) as stream:
        assert stream.status == 200
    for mutation in MUTATIONS:
        assert anonymous.code(mutation, ids) == "FORBIDDEN", mutation
    assert anonymous.code('mutation { launch(input: {model: "Counter"}) { id } }') == "NOT_FOUND"
    assert anonymous.gql("{ models { name } environments { name } }") == {"models": [], "environments": []}
    assert anonymous.code("{ users { username } }") == "FORBIDDEN"


def test_unmarking_an_instance_ends_anonymous_streams_and_hides_it_again(zoo):
    ids = {"id": zoo.launch(zoo.owner)["id"]}
    zoo.operator.gql(SET_PUBLIC, {**ids, "p": True})
    with zoo.anonymous.subscribe(TELEMETRY, {**ids, "s": ["inputs"]}) as stream:
        assert stream.next() is not None
        zoo.operator.gql(SET_PUBLIC, {**ids, "p": False})
        while stream.next() is not None:  # the server re-checks every few seconds, then completes
            pass
    assert zoo.anonymous.gql(INSTANCE, ids)["instance"] is None
    assert zoo.viewer.gql(INSTANCE, ids)["instance"]["public"] is False


def test_grants_share_one_instance_with_one_user_and_insides_with_every_viewer(zoo):
    ids = {"id": zoo.launch(zoo.owner)["id"]}
    grant = 'mutation($s: String!, $r: String!, $a: [String!]!) { grant(subject: $s, kind: "instance", resource: $r, actions: $a) { subject actions grantedBy } }'
    assert zoo.other_user.gql(INSTANCE, ids)["instance"] is None
    assert zoo.owner.code(grant, {"s": "ned", "r": ids["id"], "a": ["view"]}) == "FORBIDDEN"  # granting is managing
    given = zoo.operator.gql(grant, {"s": "ned", "r": ids["id"], "a": ["view", "control"]})["grant"]
    assert given == {"subject": "ned", "actions": ["control", "view"], "grantedBy": "otto"}
    shared = zoo.other_user.gql(INSTANCE, ids)["instance"]
    assert shared["permissions"] == ["view", "control"] and shared["parameters"] == {}
    assert zoo.other_user.gql("mutation($id: ID!) { pause(id: $id) { status } }", ids)["pause"]["status"] == "PAUSED"
    assert zoo.other_user.code("mutation($id: ID!) { saveCheckpoint(id: $id) { id } }", ids) == "FORBIDDEN"
    zoo.admin.gql(grant, {"s": "role:viewer", "r": "*", "a": ["inspect"]})
    assert zoo.viewer.gql(INSTANCE, ids)["instance"]["parameters"] == {"start": 0, "label": "a"}
    listed = zoo.admin.gql('{ grants(kind: "instance") { subject resource actions } }')["grants"]
    assert {"subject": "role:viewer", "resource": "*", "actions": ["inspect"]} in listed
    zoo.admin.gql('mutation { revoke(subject: "role:viewer", kind: "instance", resource: "*") { actions } }')
    wait_for(lambda: zoo.viewer.gql(INSTANCE, ids)["instance"]["parameters"] == {}, what="the revoked grant to apply")


def test_accounts_are_made_by_admins_and_listed_for_operators_only(zoo):
    create = (
        'mutation($u: String!) { createAccount(username: $u, password: "a fine long passphrase") { username roles } }'
    )
    assert zoo.anonymous.code(create, {"u": "visitor"}) == "FORBIDDEN"  # public_can_create_account: false
    assert zoo.owner.code(create, {"u": "visitor"}) == "FORBIDDEN"
    assert zoo.admin.gql(create, {"u": "visitor"})["createAccount"] == {"username": "visitor", "roles": ["user"]}
    users = {u["username"]: u for u in zoo.operator.gql("{ users { username provider roles disabled } }")["users"]}
    assert users["boss"]["roles"] == ["admin"] and users["visitor"] == {
        "username": "visitor",
        "provider": "local",
        "roles": ["user"],
        "disabled": False,
    }
    assert zoo.owner.code("{ users { username } }") == "FORBIDDEN"
    assert zoo.operator.code('mutation { setRoles(username: "visitor", roles: ["admin"]) }') == "FORBIDDEN"
    assert zoo.admin.gql('mutation { setRoles(username: "visitor", roles: ["operator"]) }')["setRoles"] == ["operator"]
    assert zoo.admin.code('mutation { setRoles(username: "boss", roles: ["user"]) }') == "CONFLICT"  # the last admin


def test_a_new_account_under_a_deleted_ones_name_does_not_inherit_its_instances(zoo):
    create = 'mutation { createAccount(username: "olga", password: "olga passphrase 1", roles: ["user"]) { username } }'
    zoo.admin.gql(create)
    ids = {"id": zoo.launch(zoo.sign_in("olga", "olga passphrase 1"))["id"]}
    zoo.admin.gql('mutation { deleteAccount(username: "olga") }')
    zoo.admin.gql(create)
    assert zoo.sign_in("olga", "olga passphrase 1").gql(INSTANCE, ids)["instance"] is None
    assert zoo.operator.gql(INSTANCE, ids)["instance"]["owner"] is None


def test_create_admin_adds_an_admin_and_resets_its_password_which_signs_it_out(zoo):
    made = create_admin(zoo.data_dir, zoo.env, "root", "first root passphrase")
    assert made.returncode == 0 and "created the admin account 'root'" in made.stdout, made.stderr
    root = zoo.sign_in("root", "first root passphrase")
    # The server reads roles from a snapshot a few seconds old: another process's change shows soon.
    wait_for(lambda: root.gql("{ me { roles } }")["me"]["roles"] == ["admin"], what="the new admin's role")
    reset = create_admin(zoo.data_dir, zoo.env, "root", "second root passphrase")
    assert reset.returncode == 0 and "reset the password of 'root'" in reset.stdout, reset.stderr
    wait_for(lambda: root.post("{ me { username } }").status_code == 401, what="the old session to be refused")
    assert zoo.sign_in("root", "second root passphrase").gql("{ me { username } }")["me"]["username"] == "root"
    weak = create_admin(zoo.data_dir, zoo.env, "root2", "short")
    assert weak.returncode == 2 and "at least 12 characters" in weak.stderr


def test_the_first_admin_can_come_from_the_environment_at_start(tmp_path, zoo):
    env = {**zoo.env, "ZK_ADMIN_USERNAME": "founder", "ZK_ADMIN_PASSWORD": "founding passphrase"}
    server = AccessServer(tmp_path / "data", env)
    try:
        session = Client(server).gql(
            'mutation { login(username: "founder", password: "founding passphrase") { viewer { username roles } } }'
        )
        assert session["login"]["viewer"] == {"username": "founder", "roles": ["admin"]}
        assert "made 'founder' the initial admin" in server.log()
    finally:
        assert server.stop() == 0, server.log()


def test_an_open_server_says_so_loudly_and_lets_everyone_do_everything(tmp_path):
    server = ServerProcess(REPO / "tests" / "e2e" / "zoo.yaml", tmp_path / "data")
    try:
        assert "runs OPEN (no_auth: true)" in server.log()
        me = Client(server, header="Bearer anything").gql("{ me { username permissions } }")["me"]
        assert me["username"] == "local" and me["permissions"]["open"] is True
        assert Client(server).code('mutation { login(username: "a", password: "b") { token } }') == "BAD_USER_INPUT"
    finally:
        assert server.stop() == 0, server.log()


def test_the_password_never_reaches_the_log(zoo):
    assert PASSWORD not in zoo.server.log()


def test_a_zoo_whose_port_is_taken_first_starts_on_another_and_sign_in_calls_back_there(tmp_path, monkeypatch):
    # Every test picks ports; one taken between the pick and the server's bind used to fail the
    # zoo, whose sign-in callback names the port. Here the first pick is held open on purpose.
    import socket

    import access_support

    picks = []

    def picked() -> int:
        picks.append(real_free_port())
        return held.getsockname()[1] if len(picks) == 1 else picks[-1]

    real_free_port = access_support.free_port
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        monkeypatch.setattr(access_support, "free_port", picked)
        zoo = AccessZoo(tmp_path)
        try:
            taken = held.getsockname()[1]
            assert zoo.server.port != taken and zoo.callback.startswith(f"http://127.0.0.1:{zoo.server.port}/")
            with httpx.Client(base_url=zoo.server.url) as browser:
                start = browser.get("/auth/github/authorize", follow_redirects=False)
                at_provider = httpx.get(start.headers["location"], follow_redirects=False)
                assert at_provider.headers["location"].startswith(zoo.callback)
                page = browser.get(at_provider.headers["location"])
            assert page.status_code == 200 and session_from(page)["username"] == "github:octocat"
        finally:
            assert zoo.stop() == 0, zoo.server.log()
