"""Session tokens: JWTs issued and verified with PyJWT, and the `Authorization: Bearer` header.

One algorithm is configured and only that one is accepted (RFC 8725 §2.1): a token's own `alg`
header never chooses the key, so `alg: none` and HS/RS confusion are refused. `exp`, `nbf`,
`iat`, `iss`, `aud` and `sub` are required and checked. Every refusal is an `Unauthenticated`
with a message the client can act on; none carries the token, a key or a stack trace.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ainimal_zookeeper.auth.settings import ProviderSettings
from ainimal_zookeeper.errors import ConfigError, Unauthenticated

__all__ = [
    "ALGORITHMS",
    "SECRET_ENV_VAR",
    "IssuedToken",
    "TokenPolicy",
    "TokenService",
    "bearer_token",
]

#: The environment variable read when the config has no `jwt_secret`.
SECRET_ENV_VAR = "ZK_JWT_SECRET"
#: HMAC algorithms and the least secret length in bytes each needs (RFC 7518 §3.2: the hash size).
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
#: Asymmetric algorithms and the private key type each needs.
ASYMMETRIC_KEY_TYPES: dict[str, type] = {
    **{name: rsa.RSAPrivateKey for name in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    **{name: ec.EllipticCurvePrivateKey for name in ("ES256", "ES384", "ES512")},
    "EdDSA": ed25519.Ed25519PrivateKey,
}
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
ALGORITHMS = (*HMAC_MIN_BYTES, *ASYMMETRIC_KEY_TYPES)
#: Our tokens are a few hundred bytes; anything far longer is not one of ours.
MAX_TOKEN_LENGTH = 8192
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub"]
# RFC 6750 §2.1 b64token: what may follow "Bearer ".
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9\-]{0,19}$")


def bearer_token(header_value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is no header.

    Raises:
        Unauthenticated: for any other scheme, a missing token, several tokens, or characters
            a token cannot contain. The token itself is never repeated in the message.
    """
    if header_value is None or not header_value.strip():
        return None
    parts = header_value.split()
    scheme = parts[0]
    if scheme.lower() != "bearer":
        shown = f"the scheme {scheme!r}" if _SCHEME.match(scheme) else "a value without the 'Bearer' scheme"
        raise Unauthenticated(f"the Authorization header must be 'Bearer <token>', got {shown}")
    if len(parts) == 1:
        raise Unauthenticated("the Authorization header says 'Bearer' but carries no token: sign in to get one")
    if len(parts) > 2:
        raise Unauthenticated("the Authorization header must carry exactly one token after 'Bearer'")
    token = parts[1]
    if len(token) > MAX_TOKEN_LENGTH or not _B64TOKEN.match(token):
        raise Unauthenticated("the bearer token is malformed: it has characters or a length no token has")
    return token


@dataclass(frozen=True)
class TokenPolicy:
    """The claims every token carries and how strictly times are read."""

    issuer: str = "ainimal-zookeeper"
    audience: str = "ainimal-zookeeper"
    #: Lifetime in seconds (`jwt_expires_in`).
    expires_in: int = 3600
    #: Seconds after issue before the token may be used (`jwt_not_before`); usually 0.
    not_before: int = 0
    #: Seconds of clock difference forgiven when reading exp/nbf/iat.
    leeway: int = 10
    #: Whether tokens carry a random `jti` (`jwt_jti`), which makes every token unique.
    jti: bool = True


@dataclass(frozen=True)
class IssuedToken:
    """A signed token and when it stops being valid."""

    token: str
    expires_at: datetime
    issued_at: int


class TokenService:
    """Issues and verifies this server's session tokens with one key and one algorithm."""

    def __init__(
        self,
        algorithm: str,
        signing_key: Any,
        verification_key: Any,
        policy: TokenPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prefer `hmac()` or `from_settings()`, which check the key; this trusts its arguments."""
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"jwt_algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
        self.algorithm = algorithm
        self.policy = policy or TokenPolicy()
        self._signing_key = signing_key
        self._verification_key = verification_key
        self._clock = clock
        # Short keys are refused outright rather than warned about.
        self._jwt = jwt.PyJWT(options={"enforce_minimum_key_length": True})

    @classmethod
    def hmac(
        cls,
        secret: str,
        algorithm: str = "HS256",
        policy: TokenPolicy | None = None,
        clock: Callable[[], float] = time.time,
        where: str = "jwt_secret",
    ) -> TokenService:
        """A service signing with a shared secret, refused when the secret is too short to be safe."""
        minimum = HMAC_MIN_BYTES.get(algorithm)
        if minimum is None:
            raise ConfigError(f"{where}: {algorithm} is not an HMAC algorithm; use one of {', '.join(HMAC_MIN_BYTES)}")
        if len(secret.encode()) < minimum:
            raise ConfigError(
                f"{where} is {len(secret.encode())} bytes but {algorithm} needs at least {minimum}: set "
                f"{SECRET_ENV_VAR} (or jwt_secret) to a random value, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return cls(algorithm, secret, secret, policy, clock)

    @classmethod
    def from_settings(
        cls, settings: ProviderSettings, environ: Mapping[str, str], clock: Callable[[], float] = time.time
    ) -> TokenService:
        """Build from a `type: jwt` entry: `jwt_secret` (or ZK_JWT_SECRET) for HS*, key files otherwise.

        Raises:
            ConfigError: naming the key or environment variable to fix.
        """
        given = settings.text("jwt_algorithm") or "HS256"
        algorithm = given.upper().replace("EDDSA", "EdDSA")
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"{settings.key('jwt_algorithm')} must be one of {', '.join(ALGORITHMS)}, got {given!r}")
        policy = TokenPolicy(
            issuer=settings.text("jwt_issuer") or TokenPolicy.issuer,
            audience=settings.text("jwt_audience") or TokenPolicy.audience,
            expires_in=settings.seconds("jwt_expires_in", TokenPolicy.expires_in),
            not_before=settings.seconds("jwt_not_before", TokenPolicy.not_before),
            leeway=settings.seconds("jwt_leeway", TokenPolicy.leeway),
            jti=settings.flag("jwt_jti", True),
        )
        if policy.expires_in < 60:
            raise ConfigError(f"{settings.key('jwt_expires_in')} must be at least 60 seconds, got {policy.expires_in}")
        if algorithm in HMAC_MIN_BYTES:
            secret = settings.secret("jwt_secret", SECRET_ENV_VAR, environ)
            if secret is None:
                raise ConfigError(
                    f"{settings.key('jwt_secret')} is missing: set the environment variable {SECRET_ENV_VAR} "
                    "(or jwt_secret: ${env.JWT_SECRET}) to a random value of at least "
                    f"{HMAC_MIN_BYTES[algorithm]} bytes; the server will not start without it"
                )
            return cls.hmac(secret, algorithm, policy, clock, where=settings.key("jwt_secret"))
        private, public = _load_key_pair(settings, algorithm)
        return cls(algorithm, private, public, policy, clock)

    def issue(self, subject: str, claims: Mapping[str, Any] | None = None) -> IssuedToken:
        """A signed token for `subject` (a username), with the policy's iss/aud/exp/nbf and a jti."""
        now = int(self._clock())
        payload: dict[str, Any] = dict(claims or {})
        payload.update(
            sub=subject,
            iss=self.policy.issuer,
            aud=self.policy.audience,
            iat=now,
            nbf=now + self.policy.not_before,
            exp=now + self.policy.expires_in,
        )
        if self.policy.jti:
            payload["jti"] = secrets.token_urlsafe(16)
        token = self._jwt.encode(payload, self._signing_key, algorithm=self.algorithm, headers={"typ": "JWT"})
        return IssuedToken(token, datetime.fromtimestamp(payload["exp"], tz=UTC), now)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once signature, algorithm, issuer, audience and times all check out.

        Raises:
            Unauthenticated: saying what was wrong: expired, not valid yet, another audience or
                issuer, a signature that does not match, a refused algorithm, or a malformed token.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("the token is malformed: expected a JWT of three base64url parts separated by '.'")
        try:
            claims = self._jwt.decode(
                token,
                self._verification_key,
                algorithms=[self.algorithm],
                audience=self.policy.audience,
                issuer=self.policy.issuer,
                leeway=self.policy.leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(self._refusal(exc, token)) from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Unauthenticated("the token names no subject: sign in again")
        return claims

    def _refusal(self, exc: jwt.PyJWTError, token: str) -> str:
        """A clear, secret-free reason for a refused token."""
        if isinstance(exc, jwt.ExpiredSignatureError):
            return "the token has expired: sign in again"
        if isinstance(exc, jwt.ImmatureSignatureError):
            return "the token is not valid yet (its nbf or iat lies in the future): check the clocks, or wait"
        if isinstance(exc, jwt.InvalidAudienceError):
            return f"the token is meant for another audience: this server accepts {self.policy.audience!r}"
        if isinstance(exc, jwt.InvalidIssuerError):
            return f"the token was issued by someone else: this server accepts tokens from {self.policy.issuer!r}"
        if isinstance(exc, jwt.InvalidAlgorithmError):
            return (
                f"the token's algorithm {_header_alg(token)} is not accepted: this server only accepts {self.algorithm}"
            )
        if isinstance(exc, jwt.InvalidSignatureError):
            return "the token's signature does not match: it was altered or signed with another key"
        if isinstance(exc, jwt.MissingRequiredClaimError):
            return f"the token lacks the required {exc.claim!r} claim"
        if isinstance(exc, jwt.InvalidKeyError):
            return "the token cannot be checked with this server's key"
        return "the token is malformed: expected a JWT of three base64url parts separated by '.'"


def _header_alg(token: str) -> str:
    """The `alg` a token claims, shortened and quoted, for the refusal message."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        return "(unreadable)"
    return repr(str(alg)[:16])


def _load_key_pair(settings: ProviderSettings, algorithm: str) -> tuple[Any, Any]:
    """The private key from `jwt_private_key_path` and its public half (or `jwt_public_key_path`)."""
    hint = f"a PEM private key file for {algorithm}"
    private_path = settings.path("jwt_private_key_path", hint)
    try:
        private = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{settings.key('jwt_private_key_path')} could not be read as an unencrypted PEM private key: "
            f"{type(exc).__name__}"
        ) from None
    _check_key_type(settings, algorithm, private)
    public: Any = private.public_key()
    if settings.has("jwt_public_key_path"):
        public_path = settings.path("jwt_public_key_path")
        try:
            public = serialization.load_pem_public_key(public_path.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{settings.key('jwt_public_key_path')} could not be read as a PEM public key: {type(exc).__name__}"
            ) from None
    return private, public


def _check_key_type(settings: ProviderSettings, algorithm: str, private: Any) -> None:
    expected = ASYMMETRIC_KEY_TYPES[algorithm]
    where = settings.key("jwt_private_key_path")
    if not isinstance(private, expected):
        raise ConfigError(
            f"{where} holds a {type(private).__name__.lstrip('_')} but {algorithm} needs {expected.__name__}"
        )
    if isinstance(private, rsa.RSAPrivateKey) and private.key_size < 2048:
        raise ConfigError(f"{where} is a {private.key_size}-bit RSA key; {algorithm} needs at least 2048 bits")
    if isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name != _EC_CURVES[algorithm]:
        raise ConfigError(f"{where} is on curve {private.curve.name}; {algorithm} needs {_EC_CURVES[algorithm]}")
