"""Google sign-in through the HTTP API: an ID token signed by a test key, verified by google-auth's
own path (its certificates served by a stand-in transport, so no network), becomes a session
whose bearer token the API then accepts."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import pytest_asyncio
from argon2 import profiles

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.api.browser_guards import BrowserPolicy, HostAllowList
from ainimal_zookeeper.api.executor import Executor
from ainimal_zookeeper.api.http import GraphQLEndpoint, build_http_app
from ainimal_zookeeper.api.schema import build_executable_schema
from ainimal_zookeeper.auth import Passwords
from ainimal_zookeeper.bootstrap.authentication import build_authentication

sys.path.insert(0, str(Path(__file__).parents[1] / "auth"))  # the Google stand-in lives with the auth tests
from google_stand_in import CLIENT_ID, CertsTransport, KeyPair

SIGN_IN = "mutation($t: String!) { signInWithGoogle(idToken: $t) { token viewer { username roles } } }"

ZOO_TEST = BrowserPolicy(HostAllowList(["zoo.test"]))


@pytest.fixture(scope="module")
def key():
    return KeyPair("test-kid")


@pytest_asyncio.fixture
async def client(tmp_path, key):
    documents = SqliteDocumentStore(tmp_path / "state.db")
    providers = [
        {"type": "jwt", "jwt_secret": "google-over-http-" + "s" * 32},
        {"type": "google", "client_id": CLIENT_ID},
    ]
    authenticator, authorizer = build_authentication(
        False,
        providers,
        None,
        documents,
        environ={},
        passwords=Passwords(profiles.CHEAPEST),
        google_request=CertsTransport(key),
    )
    zookeeper = SimpleNamespace(authorizer=authorizer)  # sign-in and `me` need nothing else of the service
    endpoint = GraphQLEndpoint(zookeeper, Executor(build_executable_schema()), authenticator)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=build_http_app(endpoint, policy=ZOO_TEST))  # the name it answers to
    async with httpx.AsyncClient(transport=transport, base_url="http://zoo.test") as client:
        yield client
    documents.close()


@pytest.mark.asyncio
async def test_a_google_id_token_becomes_a_session_the_api_accepts(client, key):
    response = await client.post("/graphql", json={"query": SIGN_IN, "variables": {"t": key.sign()}})
    session = response.json()["data"]["signInWithGoogle"]
    assert session["viewer"] == {"username": "google:ada@example.org", "roles": ["viewer"]}
    me = await client.post(
        "/graphql", json={"query": "{ me { username } }"}, headers={"Authorization": f"Bearer {session['token']}"}
    )
    assert me.json()["data"]["me"]["username"] == "google:ada@example.org"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("claims", "words"),
    [({"aud": "another-client"}, "another OAuth client id"), ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired")],
)
async def test_a_google_id_token_for_someone_else_or_out_of_date_is_refused(client, key, claims, words):
    response = await client.post("/graphql", json={"query": SIGN_IN, "variables": {"t": key.sign(**claims)}})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and words in error["message"]
