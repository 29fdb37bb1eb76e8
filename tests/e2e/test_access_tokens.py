"""Bad credentials and expensive requests are refused over HTTP before anything runs.

Every refused token gets 401 with `WWW-Authenticate: Bearer` and a message saying what is
wrong, on every route (GraphQL POST and GET, subscriptions, recording downloads, sign-in),
and a launch sent with it creates no instance. Login attempts are rate-limited; documents too
deep, too wide or too costly are refused at validation.
"""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from access_support import ADMIN, PASSWORD, SECRET, AccessZoo, Client, token

LAUNCH = 'mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id } }'
COUNT = "{ instances { id } }"


def _tampered() -> str:
    header, payload, signature = token({}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _unsigned() -> str:
    return jwt.encode({"sub": ADMIN, "iss": "zookeeper-access-tests", "aud": "zookeeper-access-tests"}, None, "none")


#: name -> (Authorization header, words the 401's message must contain).
BAD_HEADERS = {
    "expired": (f"Bearer {token({'exp': 1_000_000_000, 'iat': 999_999_000, 'nbf': 999_999_000})}", "expired"),
    "not yet valid": (f"Bearer {token({'nbf': 4_000_000_000})}", "not valid yet"),
    "wrong audience": (f"Bearer {token({'aud': 'another-service'})}", "audience"),
    "wrong issuer": (f"Bearer {token({'iss': 'someone-else'})}", "issued by someone else"),
    "tampered": (f"Bearer {_tampered()}", "signature"),
    "alg none": (f"Bearer {_unsigned()}", "algorithm"),
    "another key": (f"Bearer {token({}, key='another-secret-' + 'z' * 40)}", "signature"),
    "another algorithm": (f"Bearer {token({}, key=SECRET, algorithm='HS512')}", "algorithm"),
    "no claims": (f"Bearer {jwt.encode({'sub': ADMIN}, SECRET, 'HS256')}", "claim"),
    "not a jwt": ("Bearer abc.def.ghi", "malformed"),
    "basic scheme": ("Basic Ym9zczpwYXNzd29yZA==", "Bearer"),
    "no token": ("Bearer", "no token"),
    "two tokens": ("Bearer a.b.c d.e.f", "exactly one token"),
    "bad characters": ("Bearer <script>", "malformed"),
}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    zoo = AccessZoo(tmp_path_factory.mktemp("zk-access-tokens"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


def _assert_refused(response, words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer ")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and words in error["message"], error


@pytest.mark.parametrize("case", BAD_HEADERS)
def test_a_refused_token_is_401_with_a_clear_message_and_the_launch_never_runs(zoo, case):
    header, words = BAD_HEADERS[case]
    client = Client(zoo.server, header=header)
    _assert_refused(client.post(LAUNCH), words)
    assert zoo.admin.gql(COUNT)["instances"] == []


@pytest.mark.parametrize("case", ["expired", "tampered", "alg none", "basic scheme"])
def test_every_route_refuses_a_bad_token_before_doing_anything(zoo, case):
    header, words = BAD_HEADERS[case]
    client = Client(zoo.server, header=header)
    _assert_refused(client.get("/graphql", params={"query": "{ me { username } }"}), words)
    subscription = "subscription { instanceEvents { instance kind } }"
    with client.subscribe(subscription, {}) as stream:
        assert stream.status == 401 and stream.response.headers["www-authenticate"].startswith("Bearer ")
    _assert_refused(client.get("/recordings/0123456789abcdef/arrow"), words)
    _assert_refused(client.get("/auth/github/authorize", follow_redirects=False), words)
    assert zoo.provider.token_requests == []


def test_no_token_is_the_anonymous_viewer_and_a_good_token_is_its_owner(zoo):
    assert zoo.anonymous.gql("{ me { username roles } }")["me"] == {"username": None, "roles": ["anonymous"]}
    assert zoo.admin.gql("{ me { username roles } }")["me"] == {"username": ADMIN, "roles": ["admin"]}
    assert zoo.anonymous.code(LAUNCH) == "NOT_FOUND"


def test_a_token_stops_working_when_its_account_is_disabled_deleted_or_its_password_changes(zoo):
    create = (
        'mutation($u: String!, $p: String!) { createAccount(username: $u, password: $p, roles: ["user"]) { username } }'
    )
    for name in ("dora", "dave", "pete"):
        zoo.admin.gql(create, {"u": name, "p": PASSWORD})
    dora, dave, pete = (zoo.sign_in(name) for name in ("dora", "dave", "pete"))
    zoo.admin.gql('mutation { disableAccount(username: "dora") }')
    zoo.admin.gql('mutation { deleteAccount(username: "dave") }')
    new_password = "an entirely new passphrase"
    change = 'mutation($p: String!, $c: String) { setPassword(username: "pete", password: $p, currentPassword: $c) }'
    assert pete.gql(change, {"p": new_password, "c": PASSWORD})["setPassword"] is True
    for client in (dora, dave, pete):
        _assert_refused(client.post("{ me { username } }"), "sign in again")
    assert zoo.sign_in("pete", new_password).gql("{ me { username } }")["me"]["username"] == "pete"
    login = 'mutation($p: String!) { login(username: "dora", password: $p) { token } }'
    assert zoo.anonymous.code(login, {"p": PASSWORD}) == "UNAUTHENTICATED"


def test_failed_logins_are_limited_per_account_with_429_and_retry_after(zoo):
    zoo.admin.gql(
        'mutation($p: String!) { createAccount(username: "rita", password: $p, roles: ["viewer"]) { username } }',
        {"p": PASSWORD},
    )
    login = 'mutation($p: String!) { login(username: "rita", password: $p) { token } }'
    for _ in range(3):  # max_login_attempts_per_account: 3 in access_zoo.yaml
        assert zoo.anonymous.code(login, {"p": "not the password at all"}) == "UNAUTHENTICATED"
    limited = zoo.anonymous.post(login, {"p": PASSWORD})  # even the right password now waits
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    error = limited.json()["errors"][0]
    assert error["extensions"]["code"] == "LIMIT_REACHED" and error["extensions"]["retryAfter"] > 0
    assert "too many failed sign-ins" in error["message"]


def _refused_at_validation(client: Client, query: str, words: str) -> None:
    response = client.post(query)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert any(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" and words in e["message"] for e in errors), errors


def test_documents_too_deep_too_wide_or_too_costly_are_refused_before_they_run(zoo):
    deep = '{ checkpoint(id: "x") { ' + "parent { " * 12 + "id" + " }" * 12 + " } }"
    _refused_at_validation(zoo.admin, deep, "levels deep")
    aliased = "mutation { " + " ".join(f'l{i}: launch(input: {{model: "Counter"}}) {{ id }}' for i in range(31)) + " }"
    _refused_at_validation(zoo.admin, aliased, "aliases")
    fields = {
        "recordings": "id instance streams status steps sizeBytes startedAt stoppedAt chunks cutShort error model "
        "environment checkpoint replayOf downloadUrl minariUrl",
        "overrides": "id target value mode setBy createdAt instance index takeover holdSeconds timeoutSeconds active "
        "clearedAt clearedBy",
        "checkpoints": "id tag step createdAt metrics sizeBytes instance model episode",
        "model": "parameters { name type default description range choices display }",
        "environment": "parameters { name type default description range choices display }",
    }
    costly = "{ instances { " + " ".join(f"{name} {{ {inner} }}" for name, inner in fields.items()) + " } }"
    _refused_at_validation(zoo.admin, costly, "would cost")
    many = " ".join(f"query q{i} {{ me {{ username }} }}" for i in range(6))
    _refused_at_validation(zoo.admin, many, "operations")
    assert zoo.admin.gql(COUNT)["instances"] == []  # the 31 launches never ran


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(zoo):
    huge = {"query": "{ me { username } }", "variables": {"padding": "x" * (2 << 20)}}
    response = zoo.server.http.post("/graphql", json=huge, headers=zoo.admin.headers)
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "LIMIT_REACHED"
