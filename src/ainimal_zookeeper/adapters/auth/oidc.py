"""Sign-in through an OAuth 2 / OpenID Connect provider (GitHub, GitLab, Microsoft, ...) with Authlib.

The authorization-code flow with PKCE (S256), as a web client uses it:

1. `authorization_url(redirect_uri)` makes a fresh `state` and code verifier, remembers them
   (see `oauth_state`) and returns the provider URL to send the browser to.
2. The provider redirects the browser to `redirect_uri?code=...&state=...`.
3. `complete(code, state, redirect_uri)` checks the state (known, unused, unexpired, same
   provider and redirect), redeems the code with the verifier and the client secret, reads the
   user's profile, and returns who it is.

Authlib's `requests` client speaks HTTP: its httpx client warns that plain httpx is deprecated
in favour of httpx2, which this project does not install.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from ainimal_zookeeper.adapters.auth.oidc_presets import OAuthEndpoints
from ainimal_zookeeper.errors import InvalidInput, Unauthenticated, Unavailable
from ainimal_zookeeper.ports.identity import STATE_TTL_SECONDS, ExternalIdentity, PendingSignIn, PendingStates

__all__ = ["OAuthProvider"]

_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_MAX_PARAM = 2048


class OAuthProvider:
    """One configured provider: starts sign-ins and turns their callbacks into identities."""

    def __init__(
        self,
        name: str,
        client_id: str,
        client_secret: str | None,
        endpoints: OAuthEndpoints,
        states: PendingStates,
        *,
        kind: str = "oidc",
        redirect_uri: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Args:
        name: the provider's name in the config (its URLs are /auth/<name>/...).
        client_id, client_secret: the OAuth client registered with the provider.
        endpoints: its URLs and profile fields (a preset, perhaps overridden).
        states: where pending sign-ins are kept between the two steps.
        kind: the configured `type` (github, gitlab, ...), shown to clients.
        redirect_uri: when set, the only callback URL accepted (guards against a forged Host).
        timeout: seconds for each call to the provider.
        """
        self.name = name
        self.kind = kind
        self.client_id = client_id
        self._client_secret = client_secret
        self.endpoints = endpoints
        self._states = states
        self._redirect_uri = redirect_uri
        self._timeout = timeout
        self._clock = clock

    @property
    def redirect_uri(self) -> str | None:
        """The configured callback URL, if any: when set, it is the only one accepted."""
        return self._redirect_uri

    def authorization_url(self, redirect_uri: str | None = None) -> tuple[str, str]:
        """The provider URL to send the browser to, and the `state` it will come back with."""
        redirect = self._redirect(redirect_uri)
        verifier = generate_token(64)  # RFC 7636: 43 to 128 unreserved characters
        state = secrets.token_urlsafe(32)
        with self._session(redirect) as session:
            url, _ = session.create_authorization_url(self.endpoints.authorize_url, state=state, code_verifier=verifier)
        self._states.save(state, PendingSignIn(self.name, verifier, redirect, self._clock() + STATE_TTL_SECONDS))
        return url, state

    def complete(
        self, code: str | None, state: str | None, redirect_uri: str | None = None, error: str | None = None
    ) -> ExternalIdentity:
        """Finish a sign-in from the callback's query parameters.

        Raises:
            Unauthenticated: the state is unknown, used, expired or for another provider or
                redirect; the user declined (`error`); the provider refused the code; or the
                profile names nobody.
            Unavailable: the provider could not be reached.
        """
        if not state or len(state) > _MAX_PARAM:
            raise Unauthenticated("the sign-in callback carries no state: start signing in again")
        pending = self._states.take(state)  # used up even when the rest fails: no replays
        if pending.provider != self.name:
            raise Unauthenticated(f"this sign-in was started with {pending.provider!r}, not {self.name!r}")
        if self._redirect(redirect_uri) != pending.redirect_uri:
            raise Unauthenticated("the callback URL differs from the one this sign-in started with")
        if error:
            shown = error if _ERROR_CODE.match(error) else "an error"
            raise Unauthenticated(f"{self.name} did not sign you in ({shown}): start signing in again")
        if not code or len(code) > _MAX_PARAM:
            raise Unauthenticated("the sign-in callback carries no code: start signing in again")
        profile = self._redeem(code, pending)
        return self._identity(profile)

    def _redeem(self, code: str, pending: PendingSignIn) -> Mapping[str, Any]:
        """Exchange the code for an access token and read the user's profile with it."""
        with self._session(pending.redirect_uri) as session:
            try:
                session.fetch_token(
                    self.endpoints.token_url,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                )
                response = session.get(self.endpoints.userinfo_url, headers={"Accept": "application/json"})
            except AuthlibBaseError as exc:
                reason = exc.error if isinstance(exc.error, str) and _ERROR_CODE.match(exc.error) else "an error"
                raise Unauthenticated(f"{self.name} refused the sign-in ({reason}): start signing in again") from None
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status >= 500:
                    raise Unavailable(f"{self.name} failed (HTTP {status}): try again shortly") from None
                raise Unauthenticated(
                    f"{self.name} refused the sign-in (HTTP {status}): start signing in again"
                ) from None
            except requests.RequestException as exc:
                raise Unavailable(f"could not reach {self.name} ({type(exc).__name__}): try again shortly") from None
            except ValueError:  # a token endpoint answering something other than a JSON object
                raise Unauthenticated(f"{self.name}'s token endpoint gave an unreadable answer") from None
        if response.status_code != 200:
            raise Unauthenticated(f"{self.name} did not return the user's profile (HTTP {response.status_code})")
        try:
            profile = response.json()
        except ValueError:
            profile = None
        if not isinstance(profile, dict):
            raise Unauthenticated(f"{self.name} returned a profile that is not a JSON object")
        return profile

    def _identity(self, profile: Mapping[str, Any]) -> ExternalIdentity:
        fields = self.endpoints
        subject = profile.get(fields.subject_field)
        if isinstance(subject, bool) or not isinstance(subject, str | int) or str(subject) == "":
            raise Unauthenticated(f"{self.name}'s profile has no {fields.subject_field!r}: cannot tell who signed in")
        username = next((str(profile[f]) for f in fields.username_fields if isinstance(profile.get(f), str)), None)
        email = profile.get(fields.email_field)
        verified = profile.get(fields.email_verified_field) if fields.email_verified_field else False
        return ExternalIdentity(
            provider=self.name,
            subject=str(subject),
            username=username,
            email=email if isinstance(email, str) else None,
            email_verified=verified in (True, "true"),
            name=profile.get("name") if isinstance(profile.get("name"), str) else None,
        )

    def _redirect(self, redirect_uri: str | None) -> str:
        if self._redirect_uri is not None:
            if redirect_uri is not None and redirect_uri != self._redirect_uri:
                raise InvalidInput(f"{self.name} accepts only its configured redirect_uri, got another callback URL")
            return self._redirect_uri
        if not redirect_uri or not redirect_uri.startswith(("https://", "http://")):
            raise InvalidInput(f"{self.name} needs an absolute http(s) redirect_uri for its callback")
        return redirect_uri

    def _session(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self._client_secret,
            scope=self.endpoints.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            default_timeout=self._timeout,
        )
