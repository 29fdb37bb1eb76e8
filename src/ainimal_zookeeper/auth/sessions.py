"""What a successful sign-in returns, and the viewer of a request that carries no token."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from ainimal_zookeeper.service.authorization import Viewer

__all__ = ["ANONYMOUS", "Session"]

#: Who sends a request without a token: sees only what is public.
ANONYMOUS = Viewer(None, ("anonymous",))


class Session(NamedTuple):
    """A session token, when it expires, and who it is for (the GraphQL `Session` type)."""

    token: str
    expires_at: datetime
    viewer: Viewer
