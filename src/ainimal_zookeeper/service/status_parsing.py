"""Reading statuses that come from outside this process (the store, a worker's events) as enums.

A status this version does not know (written by a newer or older server or worker, or damaged)
must not break whoever reads it: `stored_status` answers a documented fallback and says whether
the value was known, `reported_status` answers None so the caller keeps what it had. Each unknown
value is logged once per process, not on every read of a list.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from typing import TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S", bound=StrEnum)

#: What was already warned about, e.g. (enum name, raw value); bounded so junk cannot grow it forever.
_WARNED: set[tuple[str, ...]] = set()
_WARNED_MAX = 1000
_LOCK = threading.Lock()


def warn_once(key: tuple[str, ...], message: str, *args: object) -> None:
    """Log `message` at WARNING the first time `key` is seen in this process."""
    with _LOCK:
        if key in _WARNED or len(_WARNED) >= _WARNED_MAX:
            return
        _WARNED.add(key)
    log.warning(message, *args)


def _warn_once(kind: type[StrEnum], raw: object, what: str, then: str) -> None:
    key = (kind.__name__, repr(raw)[:200])
    known = ", ".join(member.value for member in kind)
    warn_once(key, "%s is %s, not a %s this version knows (%s): %s", what, key[1], kind.__name__, known, then)


def known_status(kind: type[S], raw: object) -> S | None:
    """`raw` as a member of `kind`; None when it is not one of its values (no warning)."""
    if isinstance(raw, str):
        try:
            return kind(raw)
        except ValueError:
            return None
    return None


def stored_status(kind: type[S], raw: object, fallback: S, where: str) -> tuple[S, bool]:
    """A stored status as `kind`: (the member, True), or (`fallback`, False) when `raw` is not one
    (a warning names it once, with `where`, e.g. "instance i1")."""
    found = known_status(kind, raw)
    if found is not None:
        return found, True
    _warn_once(kind, raw, f"the stored status of {where}", f"read as {fallback.value} (and the same value elsewhere)")
    return fallback, False


def reported_status(kind: type[S], raw: object, where: str) -> S | None:
    """A status a worker reported, as `kind`; None (warned once) when this version does not know it."""
    found = known_status(kind, raw)
    if found is None:
        _warn_once(kind, raw, f"the status reported by {where}", "ignored; the stored status stays")
    return found


def forget_warnings() -> None:
    """Warn again about values already seen (tests)."""
    with _LOCK:
        _WARNED.clear()
