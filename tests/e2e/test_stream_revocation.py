"""An open stream is not a way around a revocation: an idle event stream whose viewer is
signed out everywhere (account disabled) ends within seconds, over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest
from access_support import PASSWORD, AccessZoo

#: The server re-checks a stream's sign-in every 5 s; the margin is for a busy machine.
RECHECK_SECONDS = 5.0


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    zoo = AccessZoo(tmp_path_factory.mktemp("zk-browsers-revocation"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


def test_an_idle_stream_ends_within_seconds_of_its_viewers_account_being_disabled(zoo):
    create = (
        'mutation($u: String!, $p: String!) { createAccount(username: $u, password: $p, roles: ["user"]) { username } }'
    )
    zoo.admin.gql(create, {"u": "rita", "p": PASSWORD})
    rita = zoo.sign_in("rita")
    with rita.subscribe("subscription { instanceEvents { instance kind } }", {}) as stream:
        assert stream.status == 200
        ended: list[float] = []

        def read_to_the_end() -> None:
            while stream.next() is not None:
                pass
            ended.append(time.monotonic())

        reader = threading.Thread(target=read_to_the_end, daemon=True)
        reader.start()
        time.sleep(RECHECK_SECONDS + 1)  # past one re-check: a signed-in viewer's idle stream stays open
        assert reader.is_alive(), "the stream ended while its viewer was still signed in"
        zoo.admin.gql('mutation { disableAccount(username: "rita") }')
        disabled = time.monotonic()
        reader.join(timeout=3 * RECHECK_SECONDS)
        assert ended, "the stream stayed open after its viewer's account was disabled"
        assert ended[0] - disabled <= 2 * RECHECK_SECONDS
