"""Google sign-in: verify a Google ID token with google-auth and read who it names.

The web client gets an ID token from Google Identity Services and sends it to us; we check its
signature against Google's published certificates, its audience (our OAuth client id), its
issuer (accounts.google.com) and its times, all through `google.oauth2.id_token`. Google's
certificates are fetched through a google-auth transport `Request`; the default one caches them
(they rotate about daily), and tests hand in a transport that serves a local test certificate,
so the whole verification path runs without a network.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt
from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.oauth2 import id_token as google_id_token

from ainimal_zookeeper.errors import Unauthenticated, Unavailable
from ainimal_zookeeper.ports.identity import ExternalIdentity

__all__ = ["GOOGLE_ISSUERS", "CachingRequest", "GoogleIdTokens"]

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
#: Google ID tokens are about 1 KB; far longer input is not one.
MAX_ID_TOKEN_LENGTH = 16384
_MAX_AGE = re.compile(r"max-age=(\d+)")


class CachingRequest(transport.Request):
    """A google-auth transport that keeps successful GET answers (the certificates) for a while.

    Without it google-auth fetches Google's certificates on every verification.
    """

    def __init__(
        self, inner: transport.Request, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, transport.Response]] = {}
        self._lock = threading.Lock()

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> transport.Response:
        if method != "GET":
            return self._inner(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and cached[0] > now:
                return cached[1]
        response = self._inner(url, method=method, body=body, headers=headers, timeout=timeout or 10, **kwargs)
        if response.status == 200:
            with self._lock:
                self._cache[url] = (now + self._lifetime(response), response)
        return response

    def _lifetime(self, response: transport.Response) -> float:
        # Google says how long its certificates stay valid; never keep them longer than our ttl.
        match = _MAX_AGE.search(str((response.headers or {}).get("cache-control", "")))
        return min(float(match.group(1)), self._ttl) if match else self._ttl


def _default_request() -> transport.Request:
    from google.auth.transport.requests import Request  # needs `requests`; only production uses it

    return CachingRequest(Request())


class GoogleIdTokens:
    """Verifies Google ID tokens issued to our OAuth client ids."""

    def __init__(
        self,
        client_ids: Sequence[str],
        *,
        name: str = "google",
        request: transport.Request | None = None,
        clock_skew: int = 10,
        hosted_domain: str | None = None,
    ) -> None:
        """Accept tokens whose audience is one of `client_ids`.

        Args:
            client_ids: the configured OAuth client id(s) (web, and perhaps mobile).
            name: the provider's name in the config, used in identities.
            request: how certificates are fetched; Google's, through `requests`, by default.
            clock_skew: seconds of clock difference forgiven on iat and exp.
            hosted_domain: when set, only accounts of this Google Workspace domain (`hd` claim).
        """
        if not client_ids:
            raise ValueError("a Google sign-in needs at least one client id")
        self.client_ids = tuple(client_ids)
        self.name = name
        self._request = request
        self._clock_skew = clock_skew
        self._hosted_domain = hosted_domain

    def verify(self, id_token: str) -> ExternalIdentity:
        """The Google account an ID token names, once google-auth has verified it.

        Raises:
            Unauthenticated: the token is malformed, expired, not valid yet, for another client
                id, not from Google, signed with a key Google does not publish, or outside the
                configured hosted domain.
            Unavailable: Google's certificates could not be fetched.
        """
        if not isinstance(id_token, str) or not id_token or len(id_token) > MAX_ID_TOKEN_LENGTH:
            raise Unauthenticated("the Google ID token is malformed: expected a JWT from Google sign-in")
        if self._request is None:
            self._request = _default_request()
        audience: str | list[str] = self.client_ids[0] if len(self.client_ids) == 1 else list(self.client_ids)
        try:
            claims = google_id_token.verify_oauth2_token(
                id_token, self._request, audience=audience, clock_skew_in_seconds=self._clock_skew
            )
        except google_exceptions.TransportError as exc:
            raise Unavailable("could not fetch Google's signing certificates: try again shortly") from exc
        except (ValueError, google_exceptions.GoogleAuthError, jwt.PyJWTError) as exc:
            raise Unauthenticated(f"the Google ID token was refused: {_reason(exc)}") from None
        return self._identity(claims)

    def _identity(self, claims: Any) -> ExternalIdentity:
        if claims.get("iss") not in GOOGLE_ISSUERS:  # verify_oauth2_token checks this too
            raise Unauthenticated("the Google ID token was refused: it was not issued by accounts.google.com")
        if self._hosted_domain and claims.get("hd") != self._hosted_domain:
            raise Unauthenticated(f"only Google accounts of {self._hosted_domain} may sign in here")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the Google ID token was refused: it names no account (sub)")
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        verified = claims.get("email_verified") in (True, "true")
        return ExternalIdentity(
            provider=self.name,
            subject=subject,
            # Only a verified address is unique enough to name someone by (local parts repeat).
            username=email if email and verified else None,
            email=email,
            email_verified=verified,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )


def _reason(exc: Exception) -> str:
    """Our own words for google-auth's refusal (whose messages can repeat the token)."""
    text = str(exc).lower()
    if "expired" in text:
        return "it has expired: sign in with Google again"
    if "too early" in text or "not yet valid" in text:
        return "it is not valid yet: check the server's clock"
    if "audience" in text:
        return "it was issued for another OAuth client id"
    if "issuer" in text:
        return "it was not issued by accounts.google.com"
    if "algorithm" in text:
        return "its signing algorithm is not accepted"
    if "signature" in text or "key id" in text or "certificate" in text or "signing key" in text:
        return "its signature does not match Google's published keys"
    return "it is malformed"
