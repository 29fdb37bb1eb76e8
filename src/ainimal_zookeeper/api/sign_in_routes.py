"""The OAuth 2 code flow over HTTP: GET /auth/<provider>/authorize and /auth/<provider>/callback.

1. The web client opens `/auth/github/authorize` (a popup or the page itself). The server
   remembers a fresh `state` (see `adapters/auth/oidc.py`), sets it in a cookie scoped to /auth/github,
   and redirects to the provider.
2. The provider sends the browser back to `/auth/github/callback?code=...&state=...`. The
   state must equal the cookie's: a callback URL made in another browser (login CSRF: someone
   signing a victim into the attacker's account) is refused. The code is redeemed, and the
   answer is a small HTML page that hands the session to the client: `postMessage` to the
   window that opened it (same origin only), and `localStorage["ainimal-zookeeper.session"]`,
   then back to "/". The token never appears in a URL, so it stays out of logs, histories and
   Referer headers.
"""

from __future__ import annotations

import hmac
import html
import json
import secrets
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ainimal_zookeeper.api.errors import request_error
from ainimal_zookeeper.api.http_common import WWW_AUTHENTICATE, unauthenticated_response
from ainimal_zookeeper.errors import Unauthenticated, ZookeeperError
from ainimal_zookeeper.ports.identity import Session

if TYPE_CHECKING:
    from ainimal_zookeeper.api.http import GraphQLEndpoint

__all__ = [
    "AUTH_PATH_PREFIX",
    "SESSION_MESSAGE_TYPE",
    "SESSION_STORAGE_KEY",
    "STATE_COOKIE",
    "SignInRoutes",
    "authorize_path",
]

#: Where the code flow is served: GET {prefix}/<provider>/authorize and /<provider>/callback.
AUTH_PATH_PREFIX = "/auth"

#: The cookie holding the state of the sign-in this browser started.
STATE_COOKIE = "zk_oauth_state"
#: Where the callback page leaves the session for the web client, and the message type it posts.
SESSION_STORAGE_KEY = "ainimal-zookeeper.session"
SESSION_MESSAGE_TYPE = "ainimal-zookeeper.session"
_STATUS = {"NOT_FOUND": 404, "BAD_USER_INPUT": 400, "FORBIDDEN": 403, "UNAUTHENTICATED": 401, "UNAVAILABLE": 503}
#: Pages carrying a session must not be cached, framed, or leak their URL (code, state) onwards.
_PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def authorize_path(provider: str) -> str:
    """Where a sign-in screen sends the browser to sign in with `provider` (its `authorizePath`)."""
    return f"{AUTH_PATH_PREFIX}/{provider}/authorize"


class SignInRoutes:
    """The two routes of the code flow, over the endpoint's authenticator."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        """The authorize and callback routes, for the app to mount."""
        return [
            Route(f"{AUTH_PATH_PREFIX}/{{provider}}/authorize", self.authorize),
            Route(f"{AUTH_PATH_PREFIX}/{{provider}}/callback", self.callback),
        ]

    async def authorize(self, request: Request) -> Response:
        """Redirect the browser to the provider, remembering the state in a cookie."""
        provider = request.path_params["provider"]
        try:
            await self.endpoint.authenticate(request)  # a bad Authorization header is refused here too
            url, state = await run_in_threadpool(
                self.endpoint.sign_in.start_sign_in, provider, self._callback_uri(request, provider)
            )
        except ZookeeperError as exc:
            return _failure(request, exc)
        response = RedirectResponse(url, status_code=302, headers=_PRIVATE_HEADERS)
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=600,  # the state's own lifetime (auth.oauth_state)
            path=f"{AUTH_PATH_PREFIX}/{provider}",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",  # sent on the provider's top-level redirect back, not on cross-site posts
        )
        return response

    async def callback(self, request: Request) -> Response:
        """Finish the sign-in and hand the session to the web client."""
        provider = request.path_params["provider"]
        params = request.query_params
        state = params.get("state") or ""
        try:
            await self.endpoint.authenticate(request)
            cookie = request.cookies.get(STATE_COOKIE) or ""
            if not state or not cookie or not hmac.compare_digest(cookie.encode(), state.encode()):
                raise Unauthenticated(
                    "this sign-in was not started in this browser, or it expired: start signing in again"
                )
            session = await run_in_threadpool(
                self.endpoint.sign_in.finish_sign_in,
                provider,
                params.get("code"),
                state,
                self._callback_uri(request, provider),
                params.get("error"),
            )
        except ZookeeperError as exc:
            response = _failure(request, exc)
        else:
            response = _session_page(session)
        response.delete_cookie(STATE_COOKIE, path=f"{AUTH_PATH_PREFIX}/{provider}")
        return response

    def _callback_uri(self, request: Request, provider: str) -> str:
        # The configured one when set: a forged Host header then cannot choose where codes go.
        configured = self.endpoint.sign_in.redirect_uri_for(provider)
        return configured or str(request.url.replace(path=f"{AUTH_PATH_PREFIX}/{provider}/callback", query=""))


def _failure(request: Request, exc: ZookeeperError) -> Response:
    """The error as JSON, or as a short page when a person's browser asked."""
    status = _STATUS.get(exc.code, 500)
    if "text/html" not in request.headers.get("accept", ""):
        if status == 401:
            return unauthenticated_response(str(exc))
        return JSONResponse(request_error(str(exc), exc.code), status_code=status, headers=_PRIVATE_HEADERS)
    headers = dict(_PRIVATE_HEADERS)
    headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    body = (
        '<!doctype html><meta charset="utf-8"><title>Sign-in failed</title>'
        f'<h1>Sign-in failed</h1><p>{html.escape(str(exc))}</p><p><a href="/">Back</a></p>'
    )
    return HTMLResponse(body, status_code=status, headers=headers)


def _session_page(session: Session) -> HTMLResponse:
    """A page that gives the session to the client that opened the sign-in, then returns to it."""
    payload = {
        "token": session.token,
        "expiresAt": session.expires_at.isoformat(),
        "username": session.viewer.username,
        "roles": list(session.viewer.roles),
    }
    # '<' escaped so that nothing in the data can close the script element.
    data = json.dumps(payload).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    nonce = secrets.token_urlsafe(16)
    script = (
        "(function () {"
        " var session = JSON.parse(document.getElementById('zk-session').textContent);"
        f" try {{ localStorage.setItem({json.dumps(SESSION_STORAGE_KEY)}, JSON.stringify(session)); }} catch (e) {{}}"
        " if (window.opener && window.opener !== window) {"
        f"  window.opener.postMessage({{type: {json.dumps(SESSION_MESSAGE_TYPE)}, session: session}},"
        " window.location.origin);"
        "  window.close();"
        " } else { window.location.replace('/'); }"
        "})();"
    )
    name = html.escape(session.viewer.username or "")
    body = (
        '<!doctype html><meta charset="utf-8"><title>Signed in</title>'
        f"<p>Signed in as {name}. You can close this window.</p>"
        f'<script type="application/json" id="zk-session">{data}</script>'
        f'<script nonce="{nonce}">{script}</script>'
    )
    headers = dict(_PRIVATE_HEADERS)
    headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(body, headers=headers)
