"""What an outside identity provider (Google, GitHub, any OpenID Connect server) tells us."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ExternalIdentity"]


@dataclass(frozen=True)
class ExternalIdentity:
    """A person as a provider knows them.

    `subject` is the provider's stable id for the person (never reused, unlike a login name
    that can be renamed), so accounts are matched on (provider, subject). `username` is only
    a suggestion for the local name.
    """

    provider: str
    subject: str
    username: str | None = None
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
