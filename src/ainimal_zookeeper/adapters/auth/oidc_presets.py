"""Endpoints and profile fields of the OAuth 2 / OpenID Connect providers the configuration offers.

A preset saves the operator from looking up URLs; every field can be overridden in the config
(`authorize_url`, `token_url`, `userinfo_url`, `scope`), and `type: oidc` takes them all from
the config for any other OpenID Connect server. `{base_url}` (self-hosted GitLab) and
`{tenant}` (Microsoft Entra) are filled from the config keys of those names.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRESETS", "OAuthEndpoints"]


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where to send the user, where to redeem the code, and how to read the profile."""

    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str
    #: The profile field holding the provider's stable user id.
    subject_field: str = "sub"
    #: Profile fields tried in order for a login name.
    username_fields: tuple[str, ...] = ("preferred_username", "nickname", "login", "username")
    email_field: str = "email"
    #: The field saying the email was verified; None when the provider does not say.
    email_verified_field: str | None = "email_verified"


PRESETS: dict[str, OAuthEndpoints] = {
    "github": OAuthEndpoints(
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
        "https://api.github.com/user",
        "read:user user:email",
        subject_field="id",
        username_fields=("login",),
        email_verified_field=None,
    ),
    "gitlab": OAuthEndpoints(
        "{base_url}/oauth/authorize",
        "{base_url}/oauth/token",
        "{base_url}/oauth/userinfo",
        "openid profile email",
        username_fields=("nickname", "preferred_username"),
    ),
    "microsoft": OAuthEndpoints(
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "https://graph.microsoft.com/oidc/userinfo",
        "openid profile email",
        username_fields=("preferred_username", "email"),
        email_verified_field=None,
    ),
    "bitbucket": OAuthEndpoints(
        "https://bitbucket.org/site/oauth2/authorize",
        "https://bitbucket.org/site/oauth2/access_token",
        "https://api.bitbucket.org/2.0/user",
        "account",
        subject_field="uuid",
        username_fields=("username", "nickname"),
        email_verified_field=None,
    ),
    "amazon": OAuthEndpoints(
        "https://www.amazon.com/ap/oa",
        "https://api.amazon.com/auth/o2/token",
        "https://api.amazon.com/user/profile",
        "profile",
        subject_field="user_id",
        username_fields=("name",),
        email_verified_field=None,
    ),
    "google": OAuthEndpoints(
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://openidconnect.googleapis.com/v1/userinfo",
        "openid email profile",
        username_fields=("email",),
    ),
}

#: Values for the placeholders above when the config does not give them.
PLACEHOLDER_DEFAULTS = {"base_url": "https://gitlab.com", "tenant": "common"}
