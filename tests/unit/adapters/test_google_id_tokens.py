"""Google ID tokens go through google-auth's own verification, against a local test certificate.

The transport handed to google-auth answers Google's certificate URL with a certificate made
here, so the real `google.oauth2.id_token` path (fetch certs, check signature, audience,
issuer and times) runs without a network.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from google.auth import jwt as google_jwt

sys.path.insert(0, str(Path(__file__).parents[1] / "auth"))  # the Google stand-in lives with the auth tests
from google_stand_in import CLIENT_ID, GOOGLE_CERTS_URL, CertsTransport, KeyPair

from ainimal_zookeeper.adapters.auth.google import CachingRequest, GoogleIdTokens
from ainimal_zookeeper.errors import Unauthenticated, Unavailable


@pytest.fixture(scope="module")
def google_key():
    return KeyPair("kid-1")


@pytest.fixture
def verifier(google_key):
    return GoogleIdTokens([CLIENT_ID], request=CertsTransport(google_key))


def refused(verifier, token):
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    return str(caught.value)


def test_a_valid_token_names_the_google_account(verifier, google_key):
    identity = verifier.verify(google_key.sign())
    assert identity.provider == "google" and identity.subject == "110169484474386276334"
    assert identity.email == "ada@example.org" and identity.email_verified and identity.username == "ada@example.org"


def test_certificates_come_from_googles_url(google_key):
    transport_ = CertsTransport(google_key)
    GoogleIdTokens([CLIENT_ID], request=transport_).verify(google_key.sign())
    assert transport_.urls == [GOOGLE_CERTS_URL]


def test_the_short_issuer_form_is_accepted_too(verifier, google_key):
    assert verifier.verify(google_key.sign(iss="accounts.google.com")).subject


def test_an_unverified_email_does_not_name_the_account(verifier, google_key):
    identity = verifier.verify(google_key.sign(email_verified=False))
    assert identity.username is None and not identity.email_verified


def test_a_token_for_another_client_is_refused(verifier, google_key):
    assert "another OAuth client id" in refused(verifier, google_key.sign(aud="someone-else"))


def test_a_token_from_another_issuer_is_refused(verifier, google_key):
    assert "not issued by accounts.google.com" in refused(verifier, google_key.sign(iss="https://evil.example"))


def test_an_expired_token_is_refused(verifier, google_key):
    now = int(time.time())
    assert "expired" in refused(verifier, google_key.sign(iat=now - 7200, exp=now - 3600))


def test_a_token_from_the_future_is_refused(verifier, google_key):
    now = int(time.time())
    assert "not valid yet" in refused(verifier, google_key.sign(iat=now + 600, exp=now + 4200))


def test_a_token_signed_with_another_key_is_refused(verifier):
    impostor = KeyPair("kid-1")
    assert "signature" in refused(verifier, impostor.sign())


def test_a_token_with_an_unknown_key_id_is_refused(verifier):
    assert "signature" in refused(verifier, KeyPair("kid-unknown").sign())


def test_a_tampered_token_is_refused(verifier, google_key):
    header, payload, signature = google_key.sign().split(".")
    forged = google_jwt._helpers.unpadded_urlsafe_b64encode(json.dumps({"sub": "admin"}).encode()).decode()
    assert "signature" in refused(verifier, f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 20000])
def test_malformed_tokens_are_refused_without_echoing_them(verifier, token):
    message = refused(verifier, token)
    assert "malformed" in message and (not token or token not in message)


def test_an_alg_none_token_is_refused(verifier):
    header = google_jwt._helpers.unpadded_urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode()
    now = int(time.time())
    body = {"iss": "accounts.google.com", "aud": CLIENT_ID, "sub": "1", "iat": now, "exp": now + 60}
    payload = google_jwt._helpers.unpadded_urlsafe_b64encode(json.dumps(body).encode()).decode()
    assert "algorithm" in refused(verifier, f"{header}.{payload}.")


def test_the_hosted_domain_is_enforced_when_configured(google_key):
    verifier = GoogleIdTokens([CLIENT_ID], request=CertsTransport(google_key), hosted_domain="example.org")
    assert "example.org" in refused(verifier, google_key.sign())
    assert verifier.verify(google_key.sign(hd="example.org")).subject


def test_unreachable_certificates_are_unavailable_not_unauthenticated(google_key):
    verifier = GoogleIdTokens([CLIENT_ID], request=CertsTransport(google_key, status=503))
    with pytest.raises(Unavailable, match="certificates"):
        verifier.verify(google_key.sign())


def test_certificates_are_cached_for_their_max_age(google_key):
    inner = CertsTransport(google_key)
    now = [0.0]
    cached = CachingRequest(inner, ttl=3600, clock=lambda: now[0])
    verifier = GoogleIdTokens([CLIENT_ID], request=cached)
    verifier.verify(google_key.sign())
    verifier.verify(google_key.sign())
    assert len(inner.urls) == 1
    now[0] = 101.0
    verifier.verify(google_key.sign())
    assert len(inner.urls) == 2
