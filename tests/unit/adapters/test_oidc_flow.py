"""The OAuth 2 code flow with PKCE, over real HTTP through Authlib, against a local stand-in provider."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "auth"))  # the OAuth stand-in lives with the auth tests
from oauth_stand_in import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, StandInProvider

from ainimal_zookeeper.adapters.auth.oidc import OAuthProvider
from ainimal_zookeeper.adapters.auth.oidc_presets import PRESETS
from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.auth.oauth_state import DocumentStates, MemoryStates
from ainimal_zookeeper.errors import InvalidInput, Unauthenticated, Unavailable


@pytest.fixture
def documents():
    return InMemoryDocumentStore()


@pytest.fixture
def stand_in():
    with StandInProvider() as provider:
        yield provider


def endpoints_of(url):
    from dataclasses import replace

    return replace(
        PRESETS["github"], authorize_url=f"{url}/authorize", token_url=f"{url}/token", userinfo_url=f"{url}/userinfo"
    )


@pytest.fixture
def github(stand_in):
    return OAuthProvider("github", CLIENT_ID, CLIENT_SECRET, endpoints_of(stand_in.url), MemoryStates(), kind="github")


def browse(url):
    """What the browser does: follow the provider's page to its redirect, and read code and state."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0], query["state"][0]


def test_a_full_sign_in_names_the_provider_account(github, stand_in):
    url, state = github.authorization_url(REDIRECT_URI)
    code, returned_state = browse(url)
    assert returned_state == state
    identity = github.complete(code, state, REDIRECT_URI)
    assert (identity.provider, identity.subject, identity.username) == ("github", "583231", "octocat")
    assert identity.email == "octocat@example.org" and not identity.email_verified


def test_the_authorization_url_asks_for_a_code_with_pkce(github):
    url, state = github.authorization_url(REDIRECT_URI)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] == state and query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "read:user user:email"
    assert CLIENT_SECRET not in url


def test_the_code_is_redeemed_with_the_secret_and_the_verifier(github, stand_in):
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    github.complete(code, state, REDIRECT_URI)
    (sent,) = stand_in.token_requests
    assert sent["code_verifier"] and sent["grant_type"] == "authorization_code"
    assert sent["authorization"].startswith("Basic ") and "client_secret" not in sent


def test_an_unknown_state_is_refused(github):
    url, _ = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    with pytest.raises(Unauthenticated, match="unknown, used already or expired"):
        github.complete(code, "forged-state", REDIRECT_URI)


def test_a_state_works_once(github):
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    github.complete(code, state, REDIRECT_URI)
    with pytest.raises(Unauthenticated, match="used already"):
        github.complete(code, state, REDIRECT_URI)


def test_an_expired_state_is_refused(stand_in):
    now = [1000.0]
    states = MemoryStates(clock=lambda: now[0])
    github = OAuthProvider("github", CLIENT_ID, CLIENT_SECRET, endpoints_of(stand_in.url), states, clock=lambda: now[0])
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    now[0] += 601
    with pytest.raises(Unauthenticated, match="expired"):
        github.complete(code, state, REDIRECT_URI)


def test_a_state_from_another_provider_is_refused(stand_in):
    states = MemoryStates()
    github = OAuthProvider("github", CLIENT_ID, CLIENT_SECRET, endpoints_of(stand_in.url), states)
    gitlab = OAuthProvider("gitlab", CLIENT_ID, CLIENT_SECRET, endpoints_of(stand_in.url), states)
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    with pytest.raises(Unauthenticated, match="started with 'github'"):
        gitlab.complete(code, state, REDIRECT_URI)


def test_another_callback_url_is_refused(github):
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    with pytest.raises(Unauthenticated, match="callback URL differs"):
        github.complete(code, state, "http://127.0.0.1:9/elsewhere")


def test_a_wrong_code_is_refused_by_the_provider(github):
    url, state = github.authorization_url(REDIRECT_URI)
    browse(url)
    with pytest.raises(Unauthenticated, match=r"refused the sign-in \(invalid_grant\)"):
        github.complete("not-the-code", state, REDIRECT_URI)


def test_a_wrong_client_secret_is_refused(stand_in):
    github = OAuthProvider("github", CLIENT_ID, "wrong", endpoints_of(stand_in.url), MemoryStates())
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    with pytest.raises(Unauthenticated, match="refused the sign-in"):
        github.complete(code, state, REDIRECT_URI)


def test_a_declined_sign_in_says_so(github):
    _, state = github.authorization_url(REDIRECT_URI)
    with pytest.raises(Unauthenticated, match=r"did not sign you in \(access_denied\)"):
        github.complete(None, state, REDIRECT_URI, error="access_denied")


def test_a_profile_without_an_id_is_refused(github, stand_in):
    del stand_in.profile["id"]
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    with pytest.raises(Unauthenticated, match="has no 'id'"):
        github.complete(code, state, REDIRECT_URI)


def test_an_unreachable_provider_is_unavailable(stand_in):
    from support import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    endpoints = endpoints_of(stand_in.url)
    from dataclasses import replace

    github = OAuthProvider(
        "github", CLIENT_ID, CLIENT_SECRET, replace(endpoints, token_url=f"{dead}/token"), MemoryStates()
    )
    url, state = github.authorization_url(REDIRECT_URI)
    code, _ = browse(url)
    with pytest.raises(Unavailable, match="could not reach github"):
        github.complete(code, state, REDIRECT_URI)


def test_a_configured_redirect_uri_is_the_only_one_accepted(stand_in):
    github = OAuthProvider(
        "github", CLIENT_ID, CLIENT_SECRET, endpoints_of(stand_in.url), MemoryStates(), redirect_uri=REDIRECT_URI
    )
    with pytest.raises(InvalidInput, match="configured redirect_uri"):
        github.authorization_url("https://attacker.example/callback")
    url, state = github.authorization_url()
    code, _ = browse(url)
    assert github.complete(code, state).subject == "583231"


def test_pending_sign_ins_can_live_in_the_document_store(stand_in, documents):
    states = DocumentStates(documents)
    github = OAuthProvider("github", CLIENT_ID, CLIENT_SECRET, endpoints_of(stand_in.url), states)
    url, state = github.authorization_url(REDIRECT_URI)
    stored = documents.find("oauth_states")
    assert len(stored) == 1 and state not in repr(stored)
    code, _ = browse(url)
    assert github.complete(code, state, REDIRECT_URI).username == "octocat"
    assert documents.find("oauth_states") == []
