"""Session tokens: every bad token is refused with a clear 401 message, good ones pass."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ainimal_zookeeper.auth.settings import ProviderSettings, parse_duration
from ainimal_zookeeper.auth.tokens import SECRET_ENV_VAR, TokenPolicy, TokenService, bearer_token
from ainimal_zookeeper.errors import ConfigError, Unauthenticated
from conftest import SECRET

JWT_KEYS = (
    "type", "jwt_secret", "jwt_algorithm", "jwt_issuer", "jwt_audience", "jwt_expires_in", "jwt_not_before",
    "jwt_leeway", "jwt_jti", "jwt_private_key_path", "jwt_public_key_path",
)  # fmt: skip


def settings(**raw):
    return ProviderSettings({"type": "jwt", **raw}, "authentication_providers[0] (type: jwt)", JWT_KEYS)


def refusal(service, token):
    with pytest.raises(Unauthenticated) as caught:
        service.verify(token)
    return str(caught.value)


def test_an_issued_token_verifies_with_its_claims(tokens):
    issued = tokens.issue("alice", {"idp": "local"})
    claims = tokens.verify(issued.token)
    assert claims["sub"] == "alice" and claims["idp"] == "local"
    assert claims["iss"] == "ainimal-zookeeper" and claims["aud"] == "ainimal-zookeeper"
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]
    assert abs(issued.expires_at.timestamp() - (time.time() + 3600)) < 5


def test_an_expired_token_is_refused():
    past = TokenService.hmac(SECRET, clock=lambda: time.time() - 7200)
    assert "expired" in refusal(past, past.issue("alice").token)


def test_a_token_not_valid_yet_is_refused():
    later = TokenService.hmac(SECRET, policy=TokenPolicy(not_before=600))
    assert "not valid yet" in refusal(later, later.issue("alice").token)


def test_a_token_issued_in_the_future_is_refused():
    future = TokenService.hmac(SECRET, clock=lambda: time.time() + 3600)
    assert "not valid yet" in refusal(future, future.issue("alice").token)


def test_the_leeway_forgives_small_clock_differences():
    skewed = TokenService.hmac(SECRET, clock=lambda: time.time() + 5)
    assert skewed.verify(skewed.issue("alice").token)["sub"] == "alice"


def test_a_token_for_another_audience_is_refused(tokens):
    other = TokenService.hmac(SECRET, policy=TokenPolicy(audience="someone-else"))
    assert "another audience" in refusal(tokens, other.issue("alice").token)


def test_a_token_from_another_issuer_is_refused(tokens):
    other = TokenService.hmac(SECRET, policy=TokenPolicy(issuer="evil"))
    assert "issued by someone else" in refusal(tokens, other.issue("alice").token)


def test_a_tampered_token_is_refused(tokens):
    header, payload, signature = tokens.issue("alice").token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    message = refusal(tokens, f"{header}.{forged}.{signature}")
    assert "signature does not match" in message


def test_a_token_signed_with_another_key_is_refused(tokens):
    other = TokenService.hmac("another-secret-that-is-long-enough-0123456789")
    assert "signature does not match" in refusal(tokens, other.issue("alice").token)


def test_an_alg_none_token_is_refused(tokens):
    now = int(time.time())
    claims = {"sub": "admin", "iss": "ainimal-zookeeper", "aud": "ainimal-zookeeper"}
    claims |= {"iat": now, "nbf": now, "exp": now + 60}
    unsigned = jwt.encode(claims, None, algorithm="none")
    message = refusal(tokens, unsigned)
    assert "'none' is not accepted" in message and "HS256" in message


def test_a_token_using_the_public_key_as_an_hmac_secret_is_refused(tmp_path):
    service = TokenService.from_settings(settings(jwt_algorithm="RS256", jwt_private_key_path=_rsa_file(tmp_path)), {})
    token = service.issue("alice").token
    header, payload, _ = token.split(".")
    confused = jwt.api_jws.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).decode()
    assert "not accepted" in refusal(service, f"{confused}.{payload}.c2lnbmF0dXJl")


@pytest.mark.parametrize("text", ["", "garbage", "a.b", "a.b.c", "x" * 9000, "eyJhbGciOiJIUzI1NiJ9.%%%.abc"])
def test_malformed_tokens_are_refused(tokens, text):
    assert "malformed" in refusal(tokens, text)


def test_a_token_without_required_claims_is_refused(tokens):
    bare = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    assert "lacks the required" in refusal(tokens, bare)


def test_refusals_never_repeat_the_token_or_the_secret(tokens):
    other = TokenService.hmac("another-secret-that-is-long-enough-0123456789")
    token = other.issue("alice").token
    message = refusal(tokens, token)
    assert token not in message and SECRET not in message and "Traceback" not in message


class TestBearerHeader:
    def test_no_header_means_no_token(self):
        assert bearer_token(None) is None and bearer_token("  ") is None

    def test_the_token_follows_the_bearer_scheme_in_any_case(self):
        assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
        assert bearer_token("bearer   abc.def.ghi ") == "abc.def.ghi"

    def test_another_scheme_is_named_in_the_refusal(self):
        with pytest.raises(Unauthenticated, match="got the scheme 'Basic'"):
            bearer_token("Basic dXNlcjpwYXNz")

    def test_a_bare_token_is_refused_without_echoing_it(self):
        with pytest.raises(Unauthenticated) as caught:
            bearer_token("eyJhbGciOi.eyJzdWIi.c2ln")
        assert "without the 'Bearer' scheme" in str(caught.value) and "eyJ" not in str(caught.value)

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("Bearer", "carries no token"),
            ("Bearer a.b.c d.e.f", "exactly one token"),
            ("Bearer a.b.c\u00e9", "malformed"),
            ("Bearer <script>", "malformed"),
            ("Bearer " + "a" * 9000, "malformed"),
        ],
    )
    def test_malformed_headers_are_refused_clearly(self, header, expected):
        with pytest.raises(Unauthenticated, match=expected):
            bearer_token(header)


class TestConfiguration:
    def test_a_missing_secret_stops_the_start_naming_the_environment_variable(self):
        with pytest.raises(ConfigError) as caught:
            TokenService.from_settings(settings(), {})
        assert SECRET_ENV_VAR in str(caught.value) and "authentication_providers[0].jwt_secret" in str(caught.value)

    def test_a_short_secret_is_refused(self):
        with pytest.raises(ConfigError, match="needs at least 32"):
            TokenService.from_settings(settings(jwt_secret="short"), {})

    def test_hs512_needs_a_longer_secret(self):
        with pytest.raises(ConfigError, match="needs at least 64"):
            TokenService.from_settings(settings(jwt_secret="x" * 40, jwt_algorithm="HS512"), {})

    def test_the_secret_may_come_from_the_environment(self):
        service = TokenService.from_settings(settings(), {SECRET_ENV_VAR: SECRET})
        assert service.verify(service.issue("alice").token)["sub"] == "alice"

    def test_claims_and_lifetime_come_from_the_config(self):
        service = TokenService.from_settings(
            settings(jwt_secret=SECRET, jwt_issuer="zoo", jwt_audience="web", jwt_expires_in="7d", jwt_jti="false"),
            {},
        )
        claims = service.verify(service.issue("alice").token)
        assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == ("zoo", "web", 7 * 86400)
        assert "jti" not in claims

    def test_an_unknown_algorithm_is_refused(self):
        with pytest.raises(ConfigError, match="jwt_algorithm must be one of"):
            TokenService.from_settings(settings(jwt_secret=SECRET, jwt_algorithm="none"), {})

    def test_rs256_signs_with_the_private_key_file(self, tmp_path):
        service = TokenService.from_settings(
            settings(jwt_algorithm="RS256", jwt_private_key_path=_rsa_file(tmp_path)), {}
        )
        token = service.issue("alice").token
        assert jwt.get_unverified_header(token)["alg"] == "RS256" and service.verify(token)["sub"] == "alice"

    def test_es256_signs_with_a_p256_key(self, tmp_path):
        path = tmp_path / "ec.pem"
        path.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1())))
        service = TokenService.from_settings(settings(jwt_algorithm="ES256", jwt_private_key_path=str(path)), {})
        assert service.verify(service.issue("alice").token)["sub"] == "alice"

    def test_a_key_of_the_wrong_kind_is_refused(self, tmp_path):
        with pytest.raises(ConfigError, match="ES256 needs EllipticCurvePrivateKey"):
            TokenService.from_settings(settings(jwt_algorithm="ES256", jwt_private_key_path=_rsa_file(tmp_path)), {})

    def test_an_unreadable_key_file_is_named(self, tmp_path):
        with pytest.raises(ConfigError, match="jwt_private_key_path could not be read"):
            TokenService.from_settings(settings(jwt_algorithm="RS256", jwt_private_key_path=str(tmp_path / "none")), {})

    def test_unknown_keys_are_refused(self):
        with pytest.raises(ConfigError, match="unknown key"):
            ProviderSettings({"type": "jwt", "jwt_secrte": "x"}, "authentication_providers[0]", JWT_KEYS)


@pytest.mark.parametrize(("text", "seconds"), [(90, 90), ("90", 90), ("15m", 900), ("1h", 3600), ("7d", 604800)])
def test_durations_read_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5", "1y", True, 1.5])
def test_bad_durations_name_the_key(text):
    with pytest.raises(ConfigError, match="jwt_expires_in expects seconds"):
        parse_duration(text, "jwt_expires_in")


def _pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _rsa_file(tmp_path):
    path = tmp_path / "rsa.pem"
    path.write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    return str(path)
