"""The zookeeper's exceptions: one small hierarchy, mapped once to GraphQL error codes.

Every message says what was expected, what was found and, where there is one, the fix.
"""

from __future__ import annotations


class ZookeeperError(Exception):
    """Base of every error the zookeeper raises on purpose."""

    code = "INTERNAL"


class NotFound(ZookeeperError):
    """An id or name that does not exist (or that the viewer may not see)."""

    code = "NOT_FOUND"


class Unauthenticated(ZookeeperError):
    """The request's credentials are missing, malformed, expired or not ours (HTTP 401)."""

    code = "UNAUTHENTICATED"


class Forbidden(ZookeeperError):
    """The viewer may not do this."""

    code = "FORBIDDEN"


class InvalidInput(ZookeeperError):
    """A request value that does not fit: bad parameter, unknown mode, malformed body."""

    code = "BAD_USER_INPUT"


class Conflict(ZookeeperError):
    """The request does not fit the current state (pausing a terminated instance)."""

    code = "CONFLICT"


class LimitReached(ZookeeperError):
    """A configured limit (max_instances, body size) would be exceeded."""

    code = "LIMIT_REACHED"


class Unavailable(ZookeeperError):
    """A worker or backend did not answer in time; the request may be retried."""

    code = "UNAVAILABLE"
    #: Whether trying again later may succeed (False: refused for what was asked, not for when).
    passing = True


class ConfigError(ZookeeperError):
    """A configuration that cannot be used; raised at start, naming file, key and expectation."""

    code = "CONFIG"


class ModelError(ZookeeperError):
    """User code (an AInimal, env or plain class) raised or lacks what was asked of it."""

    code = "MODEL_ERROR"


class StorageUnavailable(Unavailable):
    """The server's storage refused a read or write (disk full, read-only, I/O error).

    The request may be retried once the storage recovers; the server keeps serving meanwhile.
    """

    code = "STORAGE_ERROR"
