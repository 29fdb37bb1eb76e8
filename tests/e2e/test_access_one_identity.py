"""One identity per person, over real HTTP: a look-alike spelling of a name is the same account
for the login limit, and concurrent attempts never get more tries than the limit.

The access zoo limits failed sign-ins to 3 per account (access_zoo.yaml).
"""

from __future__ import annotations

import threading

import httpx
import pytest
from access_support import PASSWORD, AccessZoo

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
CREATE = "mutation($u: String!, $p: String!) { createAccount(username: $u, password: $p) { username } }"
PER_ACCOUNT = 3
FULLWIDTH_VICTIM = "\uff56\uff49\uff43\uff54\uff49\uff4d"  # ｖｉｃｔｉｍ


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    zoo = AccessZoo(tmp_path_factory.mktemp("zk-access-identity"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


def login(zoo: AccessZoo, username: str, password: str) -> httpx.Response:
    return zoo.anonymous.post(LOGIN, {"u": username, "p": password})


def test_a_fullwidth_spelling_of_a_locked_account_is_refused_with_429(zoo):
    zoo.admin.gql(CREATE, {"u": "victim", "p": PASSWORD})
    for _ in range(PER_ACCOUNT):
        wrong = login(zoo, "victim", "not the password at all")
        assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", wrong.text
    for spelling in (FULLWIDTH_VICTIM, "VICTIM", "victim"):
        refused = login(zoo, spelling, PASSWORD)
        assert refused.status_code == 429, refused.text
        assert "data" not in refused.json() or refused.json()["data"] is None
        assert int(refused.headers["Retry-After"]) > 0


def test_a_fullwidth_spelling_signs_in_to_the_same_account_and_cannot_make_a_second(zoo):
    zoo.admin.gql(CREATE, {"u": "\uff41\uff4c\uff49\uff43\uff45", "p": PASSWORD})  # ａｌｉｃｅ
    signed_in = zoo.anonymous.gql(
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { viewer { username } } }",
        {"u": "Alice", "p": PASSWORD},
    )
    assert signed_in["login"]["viewer"]["username"] == "alice"
    assert zoo.admin.code(CREATE, {"u": "ALICE", "p": PASSWORD}) == "CONFLICT"


def test_forty_concurrent_wrong_logins_get_exactly_the_limit_of_tries(zoo):
    zoo.admin.gql(CREATE, {"u": "target", "p": PASSWORD})
    barrier = threading.Barrier(40)
    statuses: list[int] = []

    def attempt(i: int) -> None:
        spelling = ("target", "TARGET", "\uff54\uff41\uff52\uff47\uff45\uff54")[i % 3]
        with httpx.Client(base_url=zoo.server.url, timeout=60) as client:
            barrier.wait()
            answer = client.post("/graphql", json={"query": LOGIN, "variables": {"u": spelling, "p": "wrong guess!!"}})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 40
    assert sum(status != 429 for status in statuses) == PER_ACCOUNT, sorted(statuses)
    assert login(zoo, "target", PASSWORD).status_code == 429  # the right password waits too
